"""Follow-up questions made standalone for retrieval, using the conversation so far.

"那金卡呢？" means nothing to a search index; after "普通卡的年费是多少？" it means
"金卡的年费是多少？". With an LLM, the model rewrites the question. Without one (or if the
call fails), the previous question is searched together with the follow-up, which keeps its
topic words in the query.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kotaemon.core.component import BaseComponent
from kotaemon.core.errors import LLMError
from kotaemon.core.language import detect_language
from kotaemon.llms.base import ChatMessage, LLMInterface
from kotaemon.pipelines import prompts

log = logging.getLogger(__name__)

#: Turns of history shown to the rewriting model, and the cap on its reply.
HISTORY_TURNS = 6
MAX_REWRITE_TOKENS = 128
#: A rewrite longer than this many times the question is taken for an answer, not a question.
MAX_GROWTH = 6


class QuestionRewriter(BaseComponent):
    """Turns a follow-up question into a standalone search query.

    Example::

        rewriter = QuestionRewriter(llm)                      # llm=None: offline rule
        query = await rewriter.arun("那金卡呢？", history=[...])
    """

    def __init__(self, llm: LLMInterface | None = None) -> None:
        self.llm = llm

    async def arun(self, question: str, *, history: Sequence[ChatMessage] = ()) -> str:
        """The query to search for ``question``; the question itself without history."""
        asked = [m.content for m in history if m.role == "user" and m.content.strip()]
        if not asked:
            return question
        if self.llm is not None:
            try:
                rewritten = await self._rewrite(question, history)
            except LLMError as exc:
                log.warning("question rewriting failed, searching with the last one too: %s", exc)
            else:
                if rewritten:
                    return rewritten
        return f"{asked[-1]} {question}"

    async def _rewrite(self, question: str, history: Sequence[ChatMessage]) -> str | None:
        """The model's rewrite; None when it answered instead of rewriting."""
        assert self.llm is not None
        language = detect_language(question)
        shown = [m for m in history if m.role in ("user", "assistant")][-HISTORY_TURNS * 2 :]
        transcript = "\n".join(f"{m.role}: {m.content.strip()}" for m in shown)
        prompt = prompts.REWRITE[language].format(history=transcript, question=question)
        response = await self.llm.agenerate(prompt, max_tokens=MAX_REWRITE_TOKENS, temperature=0)
        rewritten = response.text.strip().strip('"“”')
        if not rewritten or len(rewritten) > MAX_GROWTH * max(len(question), 20):
            return None
        return rewritten
