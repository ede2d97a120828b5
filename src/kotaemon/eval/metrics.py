"""The measures of batch testing: answer correctness, ranking quality, separation.

Answers are compared as SQuAD's official script does (lowercase, no punctuation, no English
articles, words as tokens) except that each CJK character is a token of its own, as CMRC 2018's
script does, so token F1 means the same for Chinese and English. Rankings are lists of document
keys, best first; a document counts once, at its best rank.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_ARTICLES = re.compile(r"\b(a|an|the)\b")
#: ASCII and CJK punctuation (full-width forms, 、。「」《》…).
_PUNCTUATION = set(string.punctuation) | set("，。、；：？！“”‘’「」『』《》〈〉（）【】—…·～")


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation and English articles, collapse spaces (SQuAD's rules)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(
        " " if c in _PUNCTUATION or unicodedata.category(c).startswith("P") else c for c in text
    )
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_tokens(text: str) -> list[str]:
    """Tokens of a normalized answer: each CJK character, and each run of other word chars."""
    return _TOKEN.findall(normalize_answer(text))


def exact_match(prediction: str, expected: Iterable[str]) -> float:
    """1.0 if the normalized prediction equals a normalized expected answer."""
    mine = normalize_answer(prediction)
    return float(any(mine == normalize_answer(e) for e in expected))


def token_f1(prediction: str, expected: Iterable[str]) -> float:
    """The best token F1 between the prediction and an expected answer."""
    mine = answer_tokens(prediction)
    return max((_f1(mine, answer_tokens(e)) for e in expected), default=0.0)


def _f1(predicted: Sequence[str], gold: Sequence[str]) -> float:
    common = sum((Counter(predicted) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def contains_answer(prediction: str, expected: Iterable[str]) -> float:
    """1.0 if a normalized expected answer appears inside the normalized prediction (an
    extractive answer quotes a whole sentence: EM is then 0 even when it is right)."""
    mine = normalize_answer(prediction)
    return float(any(normalize_answer(e) and normalize_answer(e) in mine for e in expected))


def first_relevant_rank(ranking: Sequence[str], relevant: Iterable[str]) -> int | None:
    """The 1-based rank of the first relevant document, or None if none was retrieved."""
    wanted = set(relevant)
    for rank, key in enumerate(ranking, start=1):
        if key in wanted:
            return rank
    return None


def hit_at(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None) -> float:
    return 1.0 / rank if rank is not None else 0.0


def ndcg_at(ranking: Sequence[str], relevance: Mapping[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains and a log2 discount, as trec_eval's ``ndcg_cut``."""
    gains = [relevance.get(key, 0) for key in ranking[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((g for g in relevance.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def roc_auc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """The probability that a random positive scores above a random negative (ties count
    half): the ROC AUC, by the Mann-Whitney statistic. None without both kinds."""
    if not positives or not negatives:
        return None
    ranked = sorted([(s, 1) for s in positives] + [(s, 0) for s in negatives])
    rank_sum, i = 0.0, 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average = (i + 1 + j) / 2
        rank_sum += average * sum(label for _, label in ranked[i:j])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def mean(values: Iterable[float]) -> float | None:
    """The mean, or None for no values (a metric that does not apply)."""
    items = list(values)
    return sum(items) / len(items) if items else None


def percentile(values: Sequence[float], share: float) -> float | None:
    """The ``share`` quantile (nearest rank), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]
