from kotaemon.core.schema import RetrievedChunk, ToolResult
from kotaemon.pipelines.citations import CitationFilter, build_citations, clean_markers


def test_keeps_valid_drops_invalid_and_splits_lists() -> None:
    text, used = clean_markers("A [1]. B [7]. C [2, 3]. D [0].", source_count=3)
    assert text == "A [1]. B . C [2][3]. D ."
    assert used == [1, 2, 3]


def test_markers_split_across_stream_pieces() -> None:
    f = CitationFilter(source_count=2)
    pieces = ["Grace period is 3 days [", "1", "]", " and fee [", "9] done [2"]
    out = "".join(f.feed(p) for p in pieces) + f.finish()
    assert out == "Grace period is 3 days [1] and fee  done [2"
    assert f.used == [1]


def test_plain_brackets_pass_through() -> None:
    text, used = clean_markers("see [note] and [a1]", source_count=2)
    assert text == "see [note] and [a1]"
    assert used == []


def test_chinese_list_separator() -> None:
    text, _ = clean_markers("宽限期为3天[1、2]。", source_count=2)
    assert text == "宽限期为3天[1][2]。"


def test_a_source_is_a_tool_result_by_its_type_never_by_its_metadata() -> None:
    passage = RetrievedChunk(
        chunk_id="c1", document_id="d1", collection="kb", document_title="Upload",
        source="upload.txt", text="Your statement is paid.", score=0.9,
        metadata={"tool": "repayment_records", "kind": "tool"},  # what a writer might send
    )  # fmt: skip
    record = ToolResult(call_id="call_1", tool="repayment_records", text='{"paid": true}')
    chunk, tool = build_citations([1, 2], [passage, record])
    assert chunk.kind == "chunk" and chunk.tool is None and chunk.document == "Upload"
    assert tool.kind == "tool" and tool.tool == "repayment_records" and tool.document is None
