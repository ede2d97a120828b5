"""Running headers and footers, contents and index pages, on pages of lines."""

from __future__ import annotations

from kotaemon.ingest.loaders.pdf_pages import PageLine, classify


def pages_of(*pages: list[str]) -> list[list[PageLine]]:
    return [[PageLine(text) for text in page] for page in pages]


WORDS = ["fees", "cards", "loans", "savings", "transfers"]


def body(n: int) -> list[str]:
    """Four lines about a different subject on each page."""
    return [f"Line {c} of the text is about {WORDS[n % 5]} and nothing else." for c in "abcd"]


def test_headers_and_footers_are_matched_with_the_page_number_masked() -> None:
    pages = pages_of(
        *(
            ["BASH(1) General Commands Manual BASH(1)", *body(n), f"GNU Bash 5.2 2022 {n}"]
            for n in range(1, 5)
        )
    )
    marks = classify(pages)

    assert all(m == ["header", None, None, None, None, "footer"] for m in marks)


def test_a_footer_with_the_printed_page_number_and_a_changing_section_title() -> None:
    titles = ["Chapter 1. Scope", "1.2. Authors", "Chapter 2. Packages", "2.4. Versions"]
    pages = pages_of(*([*body(n), f"{n + 10} {t}"] for n, t in enumerate(titles)))

    assert [m[-1] for m in classify(pages)] == ["footer"] * 4  # printed number = page + 10


def test_lines_that_repeat_on_two_pages_only_are_text() -> None:
    pages = pages_of(["Note: fees may change.", *body(1)], ["Note: fees may change.", *body(2)])

    assert classify(pages) == [[None] * 5, [None] * 5]


def test_a_contents_page_and_its_continuation() -> None:
    first = ["Contents", "1 Fees 3", "1.1 Late fees 4", "2 Repayment 7", "2.1 Grace 8", "3 Cards 9"]
    second = ["3.1 Lost cards 10", "3.2 Frozen cards 11", "Index 15"]
    after = ["4 Closing an account", *body(4)]
    marks = classify(pages_of(first, second, after))

    assert marks == [["toc"] * 6, ["toc"] * 3, [None] * 5]


def test_a_price_list_is_not_a_table_of_contents() -> None:
    prices = [
        "Card fees",
        "Gold card 300",
        "Silver card 100",
        "Replacement 20",
        "Express 50",
        "Transfer abroad 15",
        "Statement copy 5",
    ]

    assert classify(pages_of(prices)) == [[None] * 7]  # no title, no leaders, not in order


def test_an_index_page_from_its_title_to_the_end() -> None:
    page = [
        "closing the chapter text.",
        "Index",
        "annual fee, 3, 12",
        "branch, 7",
        "fee, 3-5, 9",
        "freeze",
        "frozen card, 10",
        "grace period, 8, 21",
    ]

    assert classify(pages_of(page)) == [[None] + ["index"] * 7]


def test_chinese_contents_with_dot_leaders() -> None:
    page = [
        "目  录",
        "第一章 总则……………… 1",
        "第二章 费用……………… 3",
        "第三章 还款……………… 6",
        "第四章 挂失……………… 9",
        "第五章 附则……………… 12",
    ]

    assert classify(pages_of(page)) == [["toc"] * 6]


def test_a_lone_page_number_at_the_edge_is_dropped_even_once() -> None:
    pages = pages_of(["xii", *body(1)], [*body(2), "— 13 —"], [*body(3), "第 14 页"])

    assert classify(pages) == [
        ["header", None, None, None, None],
        [None, None, None, None, "footer"],
        [None, None, None, None, "footer"],
    ]
