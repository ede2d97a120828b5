"""An LLM judge of answer correctness, used only when an LLM is configured.

Token F1 punishes a right answer worded differently; the judge asks the configured model
whether the answer says what an expected answer says. Its prompt is printed in the report, so
a reader knows what "correct" meant.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from kotaemon.core.errors import KotaemonError
from kotaemon.llms.base import ChatMessage, LLMInterface

log = logging.getLogger(__name__)

JUDGE_PROMPT = (
    "You grade answers of a question-answering system. Decide whether the ANSWER states the "
    "same fact as at least one of the EXPECTED answers (wording, language and extra detail do "
    "not matter; a refusal or a different fact is wrong). Reply with one word: yes or no.\n\n"
    "QUESTION: {question}\nEXPECTED: {expected}\nANSWER: {answer}"
)


class AnswerJudge:
    """Asks the LLM whether an answer matches the expected ones.

    Example::

        judge = AnswerJudge(engine.llm)
        correct = await judge.judge("宽限期是几天？", ["3天"], "宽限期为三天 [1]。")

    :param llm: the configured model (the judge is not built without one).
    """

    prompt = JUDGE_PROMPT

    def __init__(self, llm: LLMInterface) -> None:
        self.llm = llm

    async def judge(self, question: str, expected: Sequence[str], answer: str) -> bool | None:
        """True or False as the model says; None if it failed or gave no yes/no (logged)."""
        text = self.prompt.format(
            question=question, expected=" | ".join(expected), answer=answer.strip()
        )
        try:
            reply = await self.llm.agenerate(
                [ChatMessage(role="user", content=text)], max_tokens=3, temperature=0.0
            )
        except KotaemonError as exc:
            log.warning("the LLM judge failed: %s", exc)
            return None
        word = reply.text.strip().lower()
        if word.startswith("yes"):
            return True
        if word.startswith("no"):
            return False
        log.warning("the LLM judge answered neither yes nor no", extra={"reply": word[:40]})
        return None
