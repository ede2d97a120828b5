"""Which language a question is in (it picks the prompt template and fixed messages), and the
language pair of a question and the passages found for it (it picks the relevance threshold)."""

from __future__ import annotations

import re
from typing import Literal

from kotaemon.core.text import IDEOGRAPH

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")

#: Question language, then passage language; ``mixed``: a question that switches between
#: Chinese and English ("grace period 是几天？"), whatever the passages are in.
LanguagePair = Literal["en-en", "zh-zh", "zh-en", "en-zh", "mixed"]
LANGUAGE_PAIRS: tuple[LanguagePair, ...] = ("en-en", "zh-zh", "zh-en", "en-zh", "mixed")

_LATIN = re.compile(r"[A-Za-z]")
#: Share of the (weighted) letters that the minority script must reach for a question to count
#: as mixed: one acronym ("PID 文件…") stays Chinese, "grace period 是几天？" is mixed.
MIXED_SHARE = 0.15


def _weights(text: str) -> tuple[int, int]:
    """Chinese characters weighted ×4 (one carries about as much as four Latin letters), and
    Latin letters."""
    return 4 * len(IDEOGRAPH.findall(text)), len(_LATIN.findall(text))


def detect_language(text: str) -> Language:
    """``zh`` when Chinese characters make up a fair share of the letters, else ``en``.

    "我的HSBC卡" is Chinese, "What does 宽限期 mean?" is English.
    """
    cjk, latin = _weights(text)
    return "zh" if cjk and cjk >= latin else "en"


def is_mixed(text: str) -> bool:
    """Whether both scripts carry a real share of ``text`` (code-switching)."""
    cjk, latin = _weights(text)
    total = cjk + latin
    return total > 0 and min(cjk, latin) / total >= MIXED_SHARE


def language_pair(question: str, found: Language | None) -> LanguagePair:
    """The pair of the question's language and ``found``, the language of the best passage
    (None: nothing found): thresholds on similarity differ by pair, as this model scores
    cross-language pairs lower than same-language ones and Chinese pairs higher than English
    ones."""
    if is_mixed(question):
        return "mixed"
    asked = detect_language(question)
    pair: LanguagePair = f"{asked}-{found or asked}"  # type: ignore[assignment]
    return pair
