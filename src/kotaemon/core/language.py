"""Which language a question is in (it picks the prompt template and fixed messages)."""

from __future__ import annotations

import re
from typing import Literal

from kotaemon.core.text import IDEOGRAPH

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")

_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str) -> Language:
    """``zh`` when Chinese characters make up a fair share of the letters, else ``en``.

    A Chinese character carries about as much as four Latin letters, hence the weighting:
    "我的HSBC卡" is Chinese, "What does 宽限期 mean?" is English.
    """
    cjk = len(IDEOGRAPH.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 4 >= latin else "en"
