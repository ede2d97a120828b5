"""``/v1/conversations``: your conversations and their turns; ``/v1/answers/…/feedback``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from kotaemon.core.schema import Feedback
from kotaemon.observability.metrics import FEEDBACK
from kotaemon.server.deps import ChatPrincipal, EngineDep
from kotaemon.server.errors import COMMON_ERRORS, error_responses
from kotaemon.server.models import ConversationDetail, ConversationList, FeedbackCreate

router = APIRouter(tags=["conversations"])


@router.get(
    "/conversations",
    summary="List your conversations, most recently active first",
    responses=error_responses(422, *COMMON_ERRORS),
)
async def list_conversations(
    engine: EngineDep,
    principal: ChatPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ConversationList:
    found = await engine.store.answers.conversations(principal, limit=limit, offset=offset)
    return ConversationList(conversations=found)


@router.get(
    "/conversations/{conversation_id}",
    summary="Show a conversation with its turns",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def get_conversation(
    conversation_id: str, engine: EngineDep, principal: ChatPrincipal
) -> ConversationDetail:
    conversation = await engine.store.answers.conversation(principal, conversation_id)
    turns = await engine.store.answers.turns(principal, conversation.id)
    return ConversationDetail(conversation=conversation, turns=turns)


@router.delete(
    "/conversations/{conversation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a conversation and its answers",
    responses=error_responses(404, 422, *COMMON_ERRORS),
)
async def delete_conversation(
    conversation_id: str, engine: EngineDep, principal: ChatPrincipal
) -> None:
    await engine.store.answers.delete_conversation(principal, conversation_id)


@router.post(
    "/answers/{answer_id}/feedback",
    summary="Rate an answer you were given as helpful or wrong, with a comment",
    responses=error_responses(400, 404, 422, *COMMON_ERRORS),
)
async def rate_answer(
    answer_id: str, body: FeedbackCreate, engine: EngineDep, principal: ChatPrincipal
) -> Feedback:
    feedback = await engine.store.answers.rate(principal, answer_id, body.rating, body.comment)
    FEEDBACK.labels(body.rating).inc()
    return feedback
