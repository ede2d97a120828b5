"""How well each sentence of the sources answers a question: the evidence behind an answer.

A sentence's score (0-1) mixes three signals, each 0-1:

* meaning: the cosine of its embedding, under its chunk's heading path (or the document's
  title), to the question's, rescaled by the model's ``similarity_range`` (the cosines of
  unrelated and of answering text differ by model); the heading gives back the context a
  sentence lost when cut out ("It must contain only ..." under "5.6.1. Source");
* words: the IDF-weighted share of the question's words it contains (same-language sources only:
  a Chinese question shares no words with an English passage, and must not be penalised for it);
* asked-for terms: the share of the question's names, quoted strings, identifiers (``--flag``,
  ``apt-get``, ``/etc/hosts``) and numbers it contains; a sentence that names what was asked
  beats a neighbouring one that does not.

The pipeline scores once per answer: the extractive answerer quotes the best sentences and
``RetrievalInfo.evidence_score`` reports the best score, with or without an LLM.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kotaemon.core.language import detect_language, is_mixed
from kotaemon.core.schema import RetrievedChunk, Source
from kotaemon.core.text import IDEOGRAPH
from kotaemon.core.tokenize import ENGLISH_STOPWORDS, tokenize
from kotaemon.embeddings.base import Embedder
from kotaemon.llms.sentences import quotable_units, split_sentences

_QUOTED = re.compile(r"[\"“「『`']([^\"”」』`']{2,40})[\"”」』`']")
# Identifiers and numbers: "--flag", "apt-get", "/etc/hosts", "Foo::Bar", "127.0.1.1", "2.3-3".
_IDENTIFIER = re.compile(
    r"(?<![\w-])(?:--?[A-Za-z][\w-]*|/[\w.-]+(?:/[\w.-]+)*|[\w.+]*\d[\w.+:~-]*|"
    r"[A-Za-z]\w*(?:[-_.:+~]+\w+)+)"
)
# Names: a capitalised word not at the question's start, or an all-capitals acronym.
_NAME = re.compile(r"(?<=[\w,;)] )[A-Z][\w-]+|\b[A-Z]{2,}\w*")
_SIMILARITY_WEIGHT, _WORDS_WEIGHT, _TERMS_WEIGHT = 0.6, 0.25, 0.15
CUE_SHARE = 0.95  # of a question-in-the-text's score that the unit answering it inherits
RANK_PENALTY = 0.01  # per rank of the sentence's chunk, when ordering (not in the score)


@dataclass(frozen=True, slots=True)
class ScoredSentence:
    """One sentence of source ``[marker]``, at ``position`` in it, with its evidence score;
    ``same_language``: the question's words could be looked for in it (else the score is
    meaning and terms only, lower by construction)."""

    text: str
    marker: int
    position: int
    score: float
    same_language: bool = True


@dataclass(frozen=True, slots=True)
class Evidence:
    """The candidate sentences of an answer's sources, best first."""

    sentences: tuple[ScoredSentence, ...] = ()

    @property
    def best(self) -> float | None:
        """The best sentence's score; None when the sources had no sentence to score."""
        return self.sentences[0].score if self.sentences else None

    def weaker_than(self, cut: float) -> bool:
        """Whether the best sentence scores under ``cut``, judged only when it is in the
        question's language: the cuts were calibrated there, and a cross-language sentence
        scores lower by construction (XQuAD's Chinese questions over English paragraphs: 11%
        of the answerable ones under 0.2, none of SQuAD's or CMRC's)."""
        return (
            bool(self.sentences)
            and self.sentences[0].same_language
            and (self.sentences[0].score < cut)
        )


class EvidenceScorer:
    """Scores the sentences of retrieved chunks against a question.

    Example::

        evidence = await EvidenceScorer(embedder).score("宽限期是几天？", sources)
        evidence.best, evidence.sentences[0].text

    :param max_candidates: at most this many sentences are embedded per answer (the ones with
        the question's words and terms first, then by their chunk's rank).
    :param cached_sentences: sentence vectors kept in memory (least recently used out): the
        same passages answer many questions, and embedding their sentences again costs most
        of an answer's CPU time.
    :param headed: embed each sentence under its chunk's heading path (else the document's
        title), not alone: as many texts embedded, a little longer; the sentence that answers
        is found more often (benchmarks/sentence_choice.py, 300 questions each: the quoted
        answer holds a gold answer 86% -> 91% on CMRC 2018 dev, 89% -> 90% on SQuAD 2.0 dev;
        the best sentence 73% -> 82% and 80% -> 80%). English scores come out a little lower
        (SQuAD 2.0: mean best -0.03; answerable ones under the 0.45 weak cut 6.3% -> 8.0%,
        unanswerable ones 12% -> 18%; under 0.30 unchanged; AUC 0.617 -> 0.622).
    :param rank_penalty: per rank of a sentence's chunk, taken off when ordering.
    """

    def __init__(
        self,
        embedder: Embedder,
        *,
        max_candidates: int = 40,
        cached_sentences: int = 8192,
        headed: bool = True,
        rank_penalty: float = RANK_PENALTY,
    ) -> None:
        self.embedder = embedder
        self.max_candidates = max_candidates
        self.cached_sentences = cached_sentences
        self.headed = headed
        self.rank_penalty = rank_penalty
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    async def _sentence_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """The vectors of ``texts`` (sentences as embedded: see :meth:`_embedded`), embedding
        only those not seen lately."""
        # Taken before any await: another answer may evict entries meanwhile.
        known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            vectors = await self.embedder.embed_documents(missing)
            known.update(zip(missing, vectors, strict=True))
        for text in dict.fromkeys(texts):
            self._vectors[text] = known[text]
            self._vectors.move_to_end(text)
        while len(self._vectors) > self.cached_sentences:
            self._vectors.popitem(last=False)
        return np.vstack([known[t] for t in texts])

    async def score(self, question: str, sources: Sequence[Source]) -> Evidence:
        """The statements of the chunk sources, scored, best first (tool results are not
        scored: they are evidence of another kind)."""
        candidates = _candidates(sources)
        if not candidates:
            return Evidence()
        texts = [c[0] for c in candidates]
        words, terms = _lexical(question, texts)
        prior = words + terms - 0.02 * np.array([c[1] for c in candidates])
        keep = np.sort(np.argsort(-prior, kind="stable")[: self.max_candidates])
        kept = [candidates[i] for i in keep]
        query = await self.embedder.embed_query(question)
        vectors = await self._sentence_vectors([self._embedded(c, sources) for c in kept])
        low, high = self.embedder.similarity_range
        meaning = np.clip((vectors @ query - low) / (high - low), 0.0, 1.0)
        same = np.array([_same_language(question, c[0]) for c in kept])
        has_terms = bool(question_terms(question))
        total = (
            _SIMILARITY_WEIGHT * meaning
            + np.where(same, _WORDS_WEIGHT * words[keep], 0.0)
            + (_TERMS_WEIGHT * terms[keep] if has_terms else 0.0)
        )
        weight = _SIMILARITY_WEIGHT + np.where(same, _WORDS_WEIGHT, 0.0)
        weight = weight + (_TERMS_WEIGHT if has_terms else 0.0)
        scores = _inherit(kept, total / weight)
        # Retrieval's order breaks near-ties: the fused rank saw the whole chunk.
        order = np.argsort(-(scores - self.rank_penalty * np.array([c[1] for c in kept])))
        ranked = [
            ScoredSentence(
                kept[i][0], kept[i][1], kept[i][2], round(float(scores[i]), 4), bool(same[i])
            )
            for i in order
            if not kept[i][3]
        ]
        return Evidence(tuple(ranked))

    def _embedded(self, candidate: tuple[str, int, int, bool], sources: Sequence[Source]) -> str:
        """The text embedded for a candidate: the sentence under its chunk's heading path, or
        under the document's title when the chunk has no heading."""
        text, marker = candidate[0], candidate[1]
        source = sources[marker - 1]
        if not self.headed or not isinstance(source, RetrievedChunk):
            return text
        context = (source.heading or source.document_title).strip()
        return f"{context}\n{text}" if context else text


def _candidates(sources: Sequence[Source]) -> list[tuple[str, int, int, bool]]:
    """(unit, marker, position, is_cue) of the quotable units of the chunk sources (see
    :func:`quotable_units`). Only when no chunk has one do their sentences stand as they are
    (better a fragment than nothing): a table of contents ranked first must not be quoted
    beside the passages that say something."""
    chunks = [(m, s) for m, s in enumerate(sources, start=1) if isinstance(s, RetrievedChunk)]
    out = [
        (unit, marker, i, cue)
        for marker, source in chunks
        for i, (unit, cue) in enumerate(quotable_units(source.text))
    ]
    if any(not cue for *_, cue in out):
        return out
    return [
        (sentence, marker, i, False)
        for marker, source in chunks
        for i, sentence in enumerate(s for s in split_sentences(source.text) if len(s) > 3)
    ]


def _inherit(candidates: Sequence[tuple[str, int, int, bool]], scores: np.ndarray) -> np.ndarray:
    """The unit right after a cue (a question in the text) answers it: it scores at least
    nearly as well as the cue."""
    out = scores.copy()
    for i, (_, marker, position, cue) in enumerate(candidates):
        if not cue:
            continue
        for j, (_, other, later, other_cue) in enumerate(candidates):
            if other == marker and later == position + 1 and not other_cue:
                out[j] = max(out[j], CUE_SHARE * scores[i])
    return out


def question_terms(question: str) -> set[str]:
    """The asked-for terms: quoted strings, identifiers, numbers and names (normalised)."""
    found = {m.group(1) for m in _QUOTED.finditer(question)}
    found |= {m.group().rstrip(".:") for m in _IDENTIFIER.finditer(question)}
    found |= {m.group() for m in _NAME.finditer(question)}
    return {_normal(t) for t in found if len(t) > 1 and t.lower() not in ENGLISH_STOPWORDS}


def _lexical(question: str, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: the IDF-weighted share of the question's words it holds, and the share of
    the question's asked-for terms it holds."""
    query = set(tokenize(question))
    held = [set(tokenize(s)) & query for s in sentences]
    df = {t: sum(t in h for h in held) for t in query}
    idf = {t: math.log(1 + len(sentences) / df[t]) for t in query if df[t]}
    # Words no sentence holds still count in the total: they are what the sources miss.
    total = sum(idf.values()) + math.log(1 + len(sentences)) * (len(query) - len(idf))
    words = np.array([sum(idf[t] for t in h) / (total or 1.0) for h in held])
    # Asked-for terms, weighted by IDF too: a name every candidate holds ("Debian" in Debian's
    # manuals) tells them apart less than the one only the answer holds.
    normal = [_normal(s) for s in sentences]
    terms = {t: [_holds(n, t) for n in normal] for t in question_terms(question)}
    weights = {t: math.log(1 + len(sentences) / (1 + sum(held))) for t, held in terms.items()}
    total_terms = sum(weights.values()) or 1.0
    share = [
        sum(w for t, w in weights.items() if terms[t][i]) / total_terms
        for i in range(len(sentences))
    ]
    return words, np.array(share)


def _holds(text: str, term: str) -> bool:
    """Whether ``text`` has ``term`` as a whole word ("2" is not in "2024", "get" not in
    "target"); Chinese has no word boundaries to check."""
    return re.search(rf"(?<![\w.-]){re.escape(term)}(?![\w-])", text) is not None or (
        bool(IDEOGRAPH.search(term)) and term in text
    )


def _same_language(question: str, sentence: str) -> bool:
    """Whether the question's words can be looked for in the sentence (a mixed question's
    can be in both languages)."""
    return is_mixed(question) or detect_language(question) == detect_language(sentence)


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()
