"""Chunking: headings, pages, paragraphs, Chinese sentences, token budgets, overlap."""

import itertools

import pytest

from kotaemon.embeddings.base import estimate_tokens
from kotaemon.ingest.loaders import Block
from kotaemon.ingest.splitter import Splitter


def split(blocks: list[Block], size: int = 40, overlap: int = 0):
    return Splitter(estimate_tokens, chunk_size=size, chunk_overlap=overlap).split(blocks)


def para(text: str, page: int | None = None) -> Block:
    return Block(text=text, kind="paragraph", page=page)


def test_headings_start_chunks_and_give_context() -> None:
    drafts = split(
        [
            Block(text="Fees", kind="heading", level=1),
            para("Annual fee is waived."),
            Block(text="Late fee", kind="heading", level=2),
            para("Five percent."),
            Block(text="Repayment", kind="heading", level=1),
            para("Pay by the 25th."),
        ]
    )
    assert [(d.heading, d.text) for d in drafts] == [
        ("Fees", "Annual fee is waived."),
        ("Fees > Late fee", "Five percent."),
        ("Repayment", "Pay by the 25th."),
    ]
    assert drafts[1].indexed_text == "Fees > Late fee\nFive percent."


def test_small_paragraphs_are_packed_and_pages_kept_apart() -> None:
    drafts = split([para("One.", 1), para("Two.", 1), para("Three.", 2)])
    assert [(d.page, d.text) for d in drafts] == [(1, "One.\n\nTwo."), (2, "Three.")]


def test_chinese_paragraph_is_cut_at_sentence_ends_within_budget() -> None:
    sentence = "信用卡还款宽限期为三个自然日。"
    text = sentence * 12 + "逾期满三十天将报送征信！是否收取滞纳金？按规定执行；"
    drafts = split([para(text)], size=40)
    assert len(drafts) > 1
    assert all(d.token_count <= 40 for d in drafts)
    assert all(d.text[-1] in "。！？；" for d in drafts)
    assert "".join(d.text for d in drafts) == text


def test_overlap_repeats_trailing_sentences() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(12))
    drafts = split([para(text)], size=30, overlap=10)
    assert len(drafts) > 2
    assert all(d.token_count <= 30 for d in drafts)
    for first, second in itertools.pairwise(drafts):
        assert second.text.split(".")[0] in first.text


def test_overlap_keeps_the_breaks_between_the_paragraphs_it_carries() -> None:
    """A definition list (term, then its definition) carried into the next chunk stays two
    paragraphs, not "Applications/EditorsEditors, other than…"."""
    blocks = [para("Examples: gaby, alexandria, mdbtools and more tools.")]
    blocks += [para("Applications/Editors"), para("Editors, other than word processors.")]
    blocks += [para("Examples: nano, hexedit and a few other editors.")] * 3
    drafts = split(blocks, size=30, overlap=14)
    carried = next(d for d in drafts[1:] if d.text.startswith("Applications/Editors"))
    assert carried.text.startswith("Applications/Editors\n\nEditors, other")


def test_unpunctuated_text_is_cut_at_words_cheaply() -> None:
    calls = 0

    def counting(text: str) -> int:
        nonlocal calls
        calls += 1
        return estimate_tokens(text)

    text = " ".join(f"word{i}" for i in range(5000))
    drafts = Splitter(counting, chunk_size=64, chunk_overlap=0).split([para(text)])
    assert all(d.token_count <= 64 for d in drafts)
    assert " ".join(d.text for d in drafts) == text
    assert calls < 10 * len(drafts) + 10


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        Splitter(estimate_tokens, chunk_size=32, chunk_overlap=32)


def test_chunks_never_exceed_the_size() -> None:
    mixed = "2024年起，" + "信用卡还款宽限期为三个自然日" * 20 + "。"
    url = "https://example.com/" + "x" * 400
    table = Block("A | B\n" + "\n".join(f"{n} | {url}" for n in range(3)), "table", header_rows=1)
    title = Block("信用卡还款规则与逾期处理的详细说明" * 4, "heading", level=1)
    for size, overlap in ((40, 0), (40, 16), (64, 32)):
        blocks = [para(mixed), para(url), para("Short one. " * 30), title, table, para(mixed)]
        drafts = split(blocks, size, overlap)
        assert all(d.token_count <= size for d in drafts), (size, overlap)
        assert all(estimate_tokens(d.indexed_text) <= size for d in drafts), (size, overlap)


def heading(text: str, level: int) -> Block:
    return Block(text=text, kind="heading", level=level)


def test_the_heading_path_is_indexed_not_shown_and_fits_the_size() -> None:
    path = [heading(f"Chapter {n} on the rules for repayments and fees", n) for n in (1, 2, 3)]
    text = " ".join(f"Sentence {i} about late fees is here." for i in range(30))
    drafts = split([*path, para(text)], size=64)  # the path gets 16 tokens: the innermost fits

    assert all(estimate_tokens(d.indexed_text) <= 64 for d in drafts)
    assert {d.heading for d in drafts} == {"Chapter 3 on the rules for repayments and fees"}
    assert all(d.heading not in d.text for d in drafts if d.heading)
    assert " ".join(d.text for d in drafts) == text  # nothing lost to the path's tokens


def test_a_list_that_fits_is_kept_whole() -> None:
    items = Block("- Open the app.\n- Choose the card.\n- Choose Repay.", kind="list")
    drafts = split([para("Intro sentence number one is here. " * 3), items], size=32)

    assert [d.text for d in drafts][-1] == items.text  # not cut to fill the first chunk


def test_a_long_table_is_cut_between_rows_under_its_header() -> None:
    rows = [f"Card {n} | fee {n * 10} yuan | waived after {n} purchases" for n in range(40)]
    table = Block("Card | Fee | Waiver\n" + "\n".join(rows), kind="table", header_rows=1)
    drafts = split([heading("Fees", 1), table], size=64)

    assert len(drafts) > 3
    assert all(d.text.startswith("Card | Fee | Waiver\n") for d in drafts)
    assert all(estimate_tokens(d.indexed_text) <= 64 for d in drafts)
    assert [r for d in drafts for r in d.text.split("\n")[1:]] == rows


def test_a_long_list_is_cut_between_items_and_a_huge_item_as_a_paragraph() -> None:
    items = [f"- Item {n} of the list." for n in range(30)]
    huge = "- " + "A very long item. " * 40
    drafts = split([Block("\n".join([*items, huge]), kind="list")], size=40)

    assert all(estimate_tokens(d.text) <= 40 for d in drafts)
    assert drafts[0].text.split("\n")[0] == items[0]
    assert "\n".join(d.text for d in drafts).count("- Item") == 30
