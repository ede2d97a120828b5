"""The offline answerer: when no LLM is configured, quote the sentences that best answer.

It takes the sentences of every retrieved chunk as scored by :class:`EvidenceScorer` (meaning,
the question's words, the asked-for names and numbers), quotes the best one, the sentence after
it and the next best few, with their ``[n]`` markers, says plainly that the answer is
extractive, and says so too when even the best sentence is weak evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from kotaemon.core.schema import Source
from kotaemon.embeddings.base import Embedder
from kotaemon.llms.evidence import Evidence, EvidenceScorer, ScoredSentence

NOTICE = {
    "en": "(No language model is configured: these are the most relevant passages, quoted.)",
    "zh": "（未配置大语言模型：以下为知识库中最相关的原文摘录。）",
}
TOOL_NOTICE = {
    "en": "(No language model is configured: the answer below is composed from the systems' "
    "records by templates, followed by the most relevant passages, quoted.)",
    "zh": "（未配置大语言模型：以下回答根据业务系统的查询结果按模板生成，"
    "并附知识库中最相关的原文摘录。）",
}
WEAK_NOTICE = {
    "en": "(The passages found match the question only weakly: check the sources before "
    "relying on them.)",
    "zh": "（找到的原文与问题的相关性较弱，请先核对来源再采用。）",
}
#: Evidence under which the notice says the best sentence is weak (docs/relevance-calibration.md).
WEAK_EVIDENCE = 0.45


class ExtractiveAnswerer:
    """Composes an answer from the best supporting sentences, each with its ``[n]`` marker.

    Example::

        text = await ExtractiveAnswerer(embedder).answer("宽限期是几天？", sources, "zh")

    :param max_sentences: at most this many sentences are quoted.
    :param margin: a sentence is quoted beside the best one only if its score is within this.
    :param weak_evidence: under this best score, the answer says the evidence is weak.
    """

    model = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_sentences: int = 3,
        max_chars: int = 600,
        margin: float = 0.12,
        weak_evidence: float = WEAK_EVIDENCE,
        scorer: EvidenceScorer | None = None,
    ) -> None:
        self.scorer = scorer or EvidenceScorer(embedder)
        self.max_sentences = max_sentences
        self.max_chars = max_chars
        self.margin = margin
        self.weak_evidence = weak_evidence

    async def answer(
        self,
        question: str,
        sources: Sequence[Source],
        language: str,
        *,
        preface: Sequence[str] = (),
        evidence: Evidence | None = None,
    ) -> str:
        """The notice, the ``preface`` lines (answers composed from tool results), then the
        chosen sentences of the documents with their markers, one per line.

        :param evidence: the sources' sentences as already scored (else scored here).
        """
        if evidence is None:
            evidence = await self.scorer.score(question, sources)
        notice = (TOOL_NOTICE if preface else NOTICE).get(language, NOTICE["en"])
        lines = [notice]
        if evidence.weaker_than(self.weak_evidence):
            lines.append(WEAK_NOTICE.get(language, WEAK_NOTICE["en"]))
        lines += preface
        lines += [f"{s.text} [{s.marker}]" for s in self.choose(evidence)]
        return "\n".join(lines)

    def choose(self, evidence: Evidence) -> list[ScoredSentence]:
        """The best sentence, the one after it, then those close to it in score, within the
        length budget."""
        if not evidence.sentences:
            return []
        best = evidence.sentences[0]
        if len(best.text) > self.max_chars:
            return [replace(best, text=best.text[: self.max_chars])]
        chosen, total = [best], len(best.text)
        # The sentence after the best one goes on with it (the condition, the value, the
        # exception) more often than any other: it comes next when it fits.
        follower = next(
            (
                s
                for s in evidence.sentences
                if s.marker == best.marker and s.position == best.position + 1
            ),
            None,
        )
        if follower is not None and total + len(follower.text) <= self.max_chars:
            chosen.append(follower)
            total += len(follower.text)
        for sentence in evidence.sentences[1:]:
            if sentence in chosen:
                continue
            if len(chosen) == self.max_sentences or sentence.score < best.score - self.margin:
                break
            if total + len(sentence.text) > self.max_chars:
                continue
            chosen.append(sentence)
            total += len(sentence.text)
        return chosen
