"""The extractive answerer: which sentences it quotes, how it cites them, when it warns."""

from collections.abc import Sequence

import numpy as np
import pytest

from kotaemon.core.schema import RetrievedChunk
from kotaemon.embeddings.base import Embedder
from kotaemon.embeddings.bundled import BundledE5Embedder
from kotaemon.llms.extractive import NOTICE, WEAK_NOTICE, ExtractiveAnswerer
from kotaemon.llms.sentences import quotable_units

pytestmark = pytest.mark.anyio


class FlatEmbedder(Embedder):
    """Every text gets the same vector (``cosine`` to the query): meaning cannot tell the
    sentences apart, so the words and asked-for terms must."""

    model = "flat"
    max_tokens = 512
    similarity_range = (0.0, 1.0)

    def __init__(self, cosine: float = 0.8) -> None:
        self.cosine = cosine

    @property
    def dim(self) -> int:
        return 2

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        other = np.sqrt(1 - self.cosine**2)
        return np.tile(np.array([self.cosine, other], np.float32), (len(texts), 1))

    async def embed_query(self, text: str) -> np.ndarray:
        return np.array([1.0, 0.0], np.float32)


def chunk(n: int, text: str, heading: str | None = None) -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"c{n}",
        document_id=f"d{n}",
        collection="manuals",
        document_title=f"Manual {n}",
        source=f"manual-{n}.html",
        text=text,
        heading=heading,
        score=1.0 / n,
        dense_score=0.9 - n / 100,
    )


def quoted(text: str) -> list[str]:
    """The quoted lines of an answer (after the notice lines)."""
    return [line for line in text.splitlines()[1:] if not line.startswith("(")]


async def test_the_sentence_with_the_asked_for_option_beats_a_higher_ranked_neighbour() -> None:
    sources = [
        chunk(1, "The rm command removes files from a directory. It asks before it deletes."),
        chunk(2, "With --force, rm never prompts and ignores files that do not exist."),
    ]
    text = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "What does rm do with --force?", sources, "en"
    )
    best = "With --force, rm never prompts and ignores files that do not exist. [2]"
    assert quoted(text)[0] == best


async def test_the_sentence_with_the_asked_for_number_beats_its_neighbour() -> None:
    sources = [
        chunk(
            1,
            "After 10 days a reminder letter is sent to the customer. "
            "After 30 days the account is reported to the credit bureau.",
        )
    ]
    text = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "What happens when a payment is 30 days late?", sources, "en"
    )
    assert quoted(text)[0].startswith("After 30 days the account is reported")


async def test_the_real_model_picks_the_passage_naming_the_asked_for_package(
    embedder: BundledE5Embedder,
) -> None:
    sources = [
        chunk(1, "The package manager installs software from the configured archives."),
        chunk(
            2,
            "The apt-get clean command removes the downloaded package files from the cache. "
            "Packages are fetched again when needed.",
        ),
    ]
    text = await ExtractiveAnswerer(embedder).answer(
        "How do I empty the cache of apt-get?", sources, "en"
    )
    assert quoted(text)[0].startswith("The apt-get clean command") and "[2]" in quoted(text)[0]


async def test_a_sentence_is_judged_under_its_heading(embedder: BundledE5Embedder) -> None:
    """Alone, the two "它的主要作用" sentences answer the question alike (the higher-ranked
    chunk's won); under their headings, only one is about the asked-for plant."""
    sources = [
        chunk(
            1, "它原产于地中海沿岸，夏季开花。它的主要作用为安神、助眠和驱虫。", "植物图鉴 > 薰衣草"
        ),
        chunk(2, "它原产于南欧，春季开花。它的主要作用为止痛、杀菌和消炎。", "植物图鉴 > 金盏花"),
    ]
    text = await ExtractiveAnswerer(embedder).answer("金盏花的主要作用是什么？", sources, "zh")
    assert quoted(text)[0] == "它的主要作用为止痛、杀菌和消炎。 [2]"
    assert not any(line.endswith("[1]") for line in quoted(text))


async def test_a_list_entry_is_found_by_its_section_heading(
    embedder: BundledE5Embedder,
) -> None:
    """The section a list entry sits in names what its sentences describe."""
    sources = [
        chunk(
            1,
            "Programs that play sound files go here. Examples: mpg123, vlc.",
            "Menu sections > Applications/Sound",
        ),
        chunk(
            2,
            "Programs that run software written for other systems go here. "
            "Examples: wine, dosemu, qemu.",
            "Menu sections > Applications/Emulators",
        ),
    ]
    text = await ExtractiveAnswerer(embedder).answer(
        "Which menu section do emulators belong to?", sources, "en"
    )
    assert quoted(text)[0].endswith("[2]")
    assert not any(line.endswith("[1]") for line in quoted(text))


async def test_navigation_headings_and_fragments_are_not_quoted() -> None:
    page = (
        "Debian Reference » Chapter 2. Package management\n"
        "Next | Previous | Home\n"
        "2.1 Package Names\n"
        "See below.\n"
        "A package name must consist only of lower case letters, digits and the signs plus, "
        "minus and period."
    )
    text = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "Which characters may a package name use?", [chunk(1, page)], "en"
    )
    assert quoted(text) == [
        "A package name must consist only of lower case letters, digits and the signs plus, "
        "minus and period. [1]"
    ]


async def test_a_table_of_contents_ranked_first_is_not_quoted_beside_a_passage() -> None:
    contents = (
        "13.3.1. Software in the Public Interest 13.3.2. Other organisations "
        "14. Redistributing Debian 14.1. May I make and sell Debian CDs?"
    )
    answer = "Yes: you may make and sell Debian CDs, and you do not need a licence to do so."
    text = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "May I make and sell Debian CDs?", [chunk(1, contents), chunk(2, answer)], "en"
    )
    assert quoted(text) == [f"{answer} [2]"]
    alone = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "May I make and sell Debian CDs?", [chunk(1, contents)], "en"
    )
    assert quoted(alone), "with nothing else, the contents line is better than no answer"


async def test_each_quoted_sentence_cites_its_own_source_and_wrapped_lines_are_joined() -> None:
    sources = [
        chunk(1, "The grace period for a card payment is three calendar\ndays after the due date."),
        chunk(2, "宽限期为3个自然日，宽限期内还款不收取滞纳金。"),
    ]
    text = await ExtractiveAnswerer(FlatEmbedder(), margin=1.0).answer(
        "How long is the grace period?", sources, "en"
    )
    lines = quoted(text)
    joined = "The grace period for a card payment is three calendar days after the due date. [1]"
    assert joined in lines
    assert "宽限期为3个自然日，宽限期内还款不收取滞纳金。 [2]" in lines


async def test_weak_evidence_is_said_and_strong_evidence_is_not() -> None:
    sources = [chunk(1, "The console font is set in the configuration file of the terminal.")]
    weak = await ExtractiveAnswerer(FlatEmbedder(cosine=0.0)).answer(
        "Who painted the ceiling of the chapel?", sources, "en"
    )
    assert weak.splitlines()[:2] == [NOTICE["en"], WEAK_NOTICE["en"]]
    assert weak.splitlines()[2].endswith("[1]")  # still quoted: the reader may judge
    strong = await ExtractiveAnswerer(FlatEmbedder(cosine=1.0)).answer(
        "Where is the console font set?", sources, "en"
    )
    assert WEAK_NOTICE["en"] not in strong and strong.startswith(NOTICE["en"])


async def test_the_command_a_sentence_introduces_is_quoted_with_it() -> None:
    page = (
        "With apt you can hold a package at its version with this command:\n"
        "apt-mark hold package_name\n"
        "Held packages are listed by apt-mark showhold."
    )
    text = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "How do I hold a package with apt?", [chunk(1, page)], "en"
    )
    assert quoted(text)[0] == (
        "With apt you can hold a package at its version with this command: "
        "apt-mark hold package_name [1]"
    )


async def test_a_definition_keeps_its_term_and_a_faq_answer_its_question() -> None:
    page = (
        "Applications/Emulators\n"
        "Examples: wine, dosemu, qemu\n"
        "9.3. Do I need to keep all the .deb files on my disk?\n"
        "No. Once the packages are installed you may remove them with apt-get clean."
    )
    units = [u for u, _ in quotable_units(page)]
    assert units[0] == "Applications/Emulators — Examples: wine, dosemu, qemu"
    assert quotable_units(page)[1] == (
        "9.3. Do I need to keep all the .deb files on my disk?",
        True,
    )
    text = await ExtractiveAnswerer(FlatEmbedder()).answer(
        "Do I need to keep the .deb files after installing?", [chunk(1, page)], "en"
    )
    assert "[1]" in text and "?" not in text.splitlines()[1]  # the question itself is not quoted


def test_a_term_heads_each_statement_of_its_definition() -> None:
    page = (
        "Applications/Emulators\n\n"
        "Software that allows you to run non-native software or more than one OS at a time.\n\n"
        "Examples: wine, dosemu, qemu\n\n"
        "Applications/File Management\n\n"
        "Tools for file management, archiving, searching and backup."
    )
    assert [u for u, _ in quotable_units(page)] == [
        "Applications/Emulators — Software that allows you to run non-native software or more "
        "than one OS at a time.",
        "Applications/Emulators — Examples: wine, dosemu, qemu",
        "Applications/File Management — Tools for file management, archiving, searching and "
        "backup.",
    ]


def test_a_list_item_mixing_chinese_and_english_is_a_statement_not_a_term() -> None:
    page = "* woody（Debian 3.0）是牛仔胡迪，\n* sarge（Debian 3.1）是绿色塑料玩具士兵的首领，"
    assert [u for u, _ in quotable_units(page)] == [
        "* woody（Debian 3.0）是牛仔胡迪，",
        "* sarge（Debian 3.1）是绿色塑料玩具士兵的首领，",
    ]


async def test_a_sentence_in_another_language_is_not_judged_by_the_same_cut() -> None:
    """Cross-language evidence is meaning only, lower by construction: no weak notice."""
    sources = [chunk(1, "宽限期为3个自然日，宽限期内还款不收取滞纳金。")]
    text = await ExtractiveAnswerer(FlatEmbedder(cosine=0.0)).answer(
        "How long is the grace period?", sources, "en"
    )
    assert WEAK_NOTICE["en"] not in text and text.endswith("[1]")


async def test_the_sentence_after_the_best_one_is_quoted_next() -> None:
    page = (
        "Most packages should have the priority optional. "
        "The priority extra is deprecated and treated as optional. "
        "Priorities are set in the control file of each package."
    )
    text = await ExtractiveAnswerer(FlatEmbedder(), max_sentences=2, margin=0.0).answer(
        "Which priority should most packages have?", [chunk(1, page)], "en"
    )
    assert quoted(text) == [
        "Most packages should have the priority optional. [1]",
        "The priority extra is deprecated and treated as optional. [1]",
    ]


class CountingEmbedder(FlatEmbedder):
    """Counts the sentences it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += texts
        return await super().embed_documents(texts)


async def test_sentences_seen_lately_are_not_embedded_again() -> None:
    from kotaemon.llms.evidence import EvidenceScorer

    embedder = CountingEmbedder()
    scorer = EvidenceScorer(embedder, cached_sentences=2)
    sources = [chunk(1, "The grace period is three days. The late fee is 5% of the amount.")]
    first = await scorer.score("What is the late fee?", sources)
    # Each sentence is embedded under its chunk's heading, here the document's title.
    assert sorted(embedder.embedded) == sorted(f"Manual 1\n{s.text}" for s in first.sentences)
    assert len(embedder.embedded) == 2
    again = await scorer.score("How long is the grace period?", sources)
    assert len(embedder.embedded) == 2  # the same passage, a new question: nothing embedded
    assert {s.text for s in again.sentences} == {s.text for s in first.sentences}
    await scorer.score("Annual fee?", [chunk(2, "The annual fee is waived in the first year.")])
    assert len(embedder.embedded) == 3 and len(scorer._vectors) == 2  # the oldest made room
    await scorer.score("What is the late fee?", sources)
    assert len(embedder.embedded) == 4  # the evicted sentence, embedded once more
