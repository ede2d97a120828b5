"""Plain text and Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from kotaemon.ingest.loaders import Block, load_file

from .documents import heading, para, write

CHINESE_TEXT = (
    "第一段第一行，\n接着第二行。\n\nThe second\nparagraph   here.\n\n  混合 mixed\ttext  \n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030"])
def test_text_in_each_encoding(tmp_path: Path, encoding: str) -> None:
    loaded = load_file(write(tmp_path, "notes.txt", CHINESE_TEXT.encode(encoding)))

    assert loaded.media_type == "text/plain"
    assert loaded.title == "notes"
    assert loaded.blocks == [
        para("第一段第一行，接着第二行。"),  # CJK lines join without a space
        para("The second paragraph here."),  # Latin lines join with one
        para("混合 mixed text"),
    ]


def test_suffixless_text_is_plain_text(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "README", b"hello\r\nworld")).blocks == [para("hello world")]


MARKDOWN = """\
---
title: front matter is dropped
---
# Fees **and** charges

Intro with *emphasis*, `code_span`, a [link](https://example.com) and snake_case_name
that wraps.

## Late fees

- First item
- Second **bold** item
  continued here
  - Nested item

  A second paragraph of the item.
- Third item

3. Numbered from three
4. Four

| Fee | Amount |
|-----|-------:|
| Late | `$25` |

Plan | Rate
:--- | ---:
Basic | 5%

```python
def fee(days):
    return  25 * days
```

> Quoted advice.

Setext heading
--------------
"""


def test_markdown_blocks(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "fees.md", MARKDOWN.encode()))

    assert loaded.media_type == "text/markdown"
    assert loaded.title == "Fees and charges"
    assert loaded.blocks == [
        heading("Fees and charges", 1),
        para("Intro with emphasis, code_span, a link and snake_case_name that wraps."),
        heading("Late fees", 2),
        Block(  # a list is one block, an item per line, nested items indented
            "- First item\n- Second bold item continued here\n  - Nested item\n"
            "  A second paragraph of the item.\n- Third item",
            "list",
        ),
        Block("3. Numbered from three\n4. Four", "list"),
        Block("Fee | Amount\nLate | $25", "table", header_rows=1),
        Block("Plan | Rate\nBasic | 5%", "table", header_rows=1),
        Block("def fee(days):\n    return  25 * days", "code"),  # code is kept verbatim
        para("Quoted advice."),
        heading("Setext heading", 2),
    ]
