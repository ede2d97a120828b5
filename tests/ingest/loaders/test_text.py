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


def test_underlined_headings_take_levels_in_order_of_appearance(tmp_path: Path) -> None:
    text = (
        "Card Handbook\n*************\n\nIntro text.\n\n"
        "Fees\n====\n\nThe annual fee is 300 yuan.\n\n"
        "Late fees\n---------\n\nFive percent.\n\nRepayment\n=========\n\nBy the 25th.\n"
    )
    loaded = load_file(write(tmp_path, "handbook.txt", text.encode()))

    assert loaded.title == "handbook"  # a plain text's headings are guessed: not its title
    assert loaded.blocks == [
        heading("Card Handbook", 1),
        para("Intro text."),
        heading("Fees", 2),
        para("The annual fee is 300 yuan."),
        heading("Late fees", 3),
        para("Five percent."),
        heading("Repayment", 2),
        para("By the 25th."),
    ]


HEADER = "ACME(1)                     General Commands Manual                    ACME(1)\n\n"
FOOTER = "\nACME 1.0                        2024 January 1                                 {n}\n"
PAGES = [
    """NAME
       acme - pay a card\u2010
       holder's bill

DESCRIPTION
       Acme pays the bill of a card holder.  It reads the amount from the com\u2010
       mand line.
""",
    """OPTIONS
       --amount AMOUNT
              The amount to pay, in yuan.
""",
    """SEE ALSO
       The card handbook, chapter on repayments.
""",
]


def test_a_paged_manual_page_loses_its_running_header_and_footer(tmp_path: Path) -> None:
    text = "\f".join(HEADER + page + FOOTER.format(n=n) for n, page in enumerate(PAGES, 1))
    loaded = load_file(write(tmp_path, "acme.1.txt", text.encode()))

    assert loaded.blocks == [
        heading("NAME", 1, page=1),
        para("acme - pay a cardholder's bill", page=1),  # groff's hyphen joined
        heading("DESCRIPTION", 1, page=1),
        para("Acme pays the bill of a card holder. It reads the amount from the command line.", 1),
        heading("OPTIONS", 1, page=2),
        para("--amount AMOUNT The amount to pay, in yuan.", page=2),
        heading("SEE ALSO", 1, page=3),
        para("The card handbook, chapter on repayments.", page=3),
    ]
    assert {(d.reason, d.page) for d in loaded.dropped} == {
        (reason, n) for reason in ("header", "footer") for n in (1, 2, 3)
    }
