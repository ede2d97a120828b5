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
    for size, overlap in ((40, 0), (40, 16), (64, 32)):
        drafts = split([para(mixed), para(url), para("Short one. " * 30)], size, overlap)
        assert all(d.token_count <= size for d in drafts), (size, overlap)
        assert all(estimate_tokens(d.text) <= size for d in drafts), (size, overlap)
