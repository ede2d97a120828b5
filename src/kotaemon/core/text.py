"""Character classes shared by everything that treats Chinese text apart from Latin text."""

from __future__ import annotations

import re

#: Han ideographs (CJK Unified Ideographs, Extension A, Compatibility Ideographs).
IDEOGRAPHS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: Ideographs plus CJK punctuation, kana and full-width forms: text written without spaces.
CJK_TEXT = "\u3000-\u303f\u3040-\u30ff" + IDEOGRAPHS + "\uff00-\uffef"

IDEOGRAPH = re.compile(f"[{IDEOGRAPHS}]")
IDEOGRAPH_RUN = re.compile(f"[{IDEOGRAPHS}]+")
CJK_CHARACTER = re.compile(f"[{CJK_TEXT}]")
