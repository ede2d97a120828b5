"""Keyword tokens: jieba words for Chinese, Snowball-stemmed words for everything else.

Keyword search (BM25), the extractive answerer and batch testing's token F1 all count words the
same way. PostgreSQL has no Chinese parser, so the store hashes these tokens to term ids
(:mod:`kotaemon.store.keyword`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import rjieba
import Stemmer

from kotaemon.core.text import IDEOGRAPH_RUN

_WORD = re.compile(r"[^\W_]+")
_stemmer = Stemmer.Stemmer("english")


ENGLISH_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is
    it its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()  # noqa: SIM905 - a word list reads best as text
)

CHINESE_STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 就 都 而 且 并 把 被 让 给 对 从 向
    于 以 之 其 这 那 这个 那个 这些 那些
    一个 一些 我 你 他 她 它 我们 你们 他们
    吗 呢 吧 啊 呀 哦 么 着 过 得 地 等 等等""".split()  # noqa: SIM905 - a word list reads best as text
)


def tokenize(text: str) -> list[str]:
    """Lower-cased, NFKC-normalised keyword tokens of ``text`` (stopwords dropped)."""
    tokens: list[str] = []
    for match in _WORD.finditer(unicodedata.normalize("NFKC", text).lower()):
        word = match.group()
        if IDEOGRAPH_RUN.search(word):
            tokens.extend(_mixed_tokens(word))
        else:
            tokens.extend(_latin_tokens(word))
    return tokens


def _mixed_tokens(word: str) -> list[str]:
    out: list[str] = []
    last = 0
    for run in IDEOGRAPH_RUN.finditer(word):
        out.extend(_latin_tokens(word[last : run.start()]))
        out.extend(t for t in rjieba.cut(run.group()) if t not in CHINESE_STOPWORDS)
        last = run.end()
    out.extend(_latin_tokens(word[last:]))
    return out


def _latin_tokens(word: str) -> list[str]:
    if not word or word in ENGLISH_STOPWORDS:
        return []
    if word.isdigit() or len(word) == 1:
        return [word] if word.isdigit() else []
    return [_stem(word)]


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))
