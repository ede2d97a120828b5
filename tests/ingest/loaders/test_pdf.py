"""PDF: page numbers kept; running headers and footers, contents and index pages dropped;
headings by font size; paragraphs and hyphenation rebuilt. Every PDF is written by fpdf2."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from kotaemon.ingest.loaders import Block, load_file

from .documents import heading, make_pdf, para, three_page_pdf, write


class Handbook(FPDF):
    """A4 pages with a running header (book and chapter title) and a "Page n of m" footer."""

    chapter = ""

    def header(self) -> None:
        self.set_font("Helvetica", size=9)
        self.cell(
            0, 5, f"Harbor Bank Card Handbook - {self.chapter}", new_x="LMARGIN", new_y="NEXT"
        )
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")

    def title_line(self, text: str) -> None:
        self.set_font("Helvetica", style="B", size=16)
        self.cell(0, 10, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def lines(self, *lines: str, indent: float = 0) -> None:
        """One paragraph, wrapped where the test says, then a paragraph gap."""
        self.set_font("Helvetica", size=11)
        for text in lines:
            self.set_x(self.l_margin + indent)
            self.cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(4)


def handbook() -> bytes:
    pdf = Handbook()
    pdf.set_title("Card Handbook")
    pdf.chapter = "Contents"
    pdf.add_page()
    pdf.title_line("Contents")
    pdf.lines(
        "1 Fees .................................................. 2",
        "1.1 Late fees .......................................... 2",
        "2 Repayment ............................................. 3",
        "2.1 Grace period ........................................ 3",
        "3 Lost cards ............................................ 4",
        "Index ................................................... 5",
    )
    pdf.chapter = "Fees"
    pdf.add_page()
    pdf.title_line("1 Fees")
    pdf.lines(
        "The annual fee of the gold card is waived after twelve purchases in a year; other-",
        "wise it is 300 yuan, charged in the month the card was opened.",
    )
    pdf.lines("A well-known rule: the fee is never charged twice in one year.")
    pdf.title_line("1.1 Late fees")
    pdf.lines(
        "A late fee of five percent of the unpaid minimum payment is charged once the well-",
        "known grace period has passed. The fee is shown on the next statement and in the",
    )
    pdf.chapter = "Repayment"
    pdf.add_page()
    pdf.lines(
        "app under Statements.",  # the paragraph goes on across the page break
    )
    pdf.title_line("2 Repayment")
    pdf.lines(
        "Repayments can be made by bank transfer, in the app, or at any branch; a Wi-",
        "Fi connection is enough for the app.",
    )
    pdf.chapter = "Lost cards"
    pdf.add_page()
    pdf.title_line("3 Lost cards")
    pdf.lines("Freeze a lost card in the app at once; a new card is mailed within five days.")
    pdf.chapter = "Index"
    pdf.add_page()
    pdf.title_line("Index")
    pdf.lines(
        "annual fee, 2",
        "branch, 3",
        "fee, 2, 3",
        "freeze, 4",
        "grace period, 2, 3",
        "late fee, 2",
        "statement, 2-3",
    )
    return bytes(pdf.output())


def test_a_handbook_keeps_its_text_and_drops_everything_around_it(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "handbook.pdf", handbook()))

    assert loaded.title == "Card Handbook"
    assert loaded.blocks == [
        heading("1 Fees", 1, page=2),
        para(
            "The annual fee of the gold card is waived after twelve purchases in a year; "
            "otherwise it is 300 yuan, charged in the month the card was opened.",  # "other-wise"
            page=2,
        ),
        para("A well-known rule: the fee is never charged twice in one year.", page=2),
        heading("1.1 Late fees", 1, page=2),
        para(
            "A late fee of five percent of the unpaid minimum payment is charged once the "
            "well-known grace period has passed. The fee is shown on the next statement and "
            "in the app under Statements.",  # the document writes "well-known" elsewhere
            page=2,  # cited at the page where the paragraph starts
        ),
        heading("2 Repayment", 1, page=3),
        para(
            "Repayments can be made by bank transfer, in the app, or at any branch; a Wi-Fi "
            "connection is enough for the app.",  # a capital after the hyphen keeps it
            page=3,
        ),
        heading("3 Lost cards", 1, page=4),
        para(
            "Freeze a lost card in the app at once; a new card is mailed within five days.",
            page=4,
        ),
    ]
    reasons = {(d.reason, d.page) for d in loaded.dropped}
    assert {("toc", 1), ("index", 5)} <= reasons
    assert {("header", n) for n in range(1, 6)} <= reasons  # the chapter in it changes
    assert {("footer", n) for n in range(1, 6)} <= reasons  # "Page 3 of 5"
    text = str(loaded.blocks)
    assert "Handbook -" not in text and "Page 2 of" not in text and "....." not in text


def test_pdf_pages_are_numbered(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "guide.pdf", three_page_pdf()))

    assert loaded.media_type == "application/pdf"
    assert loaded.title == "Loan Guide"
    assert [b.page for b in loaded.blocks] == [1, 2, 3]
    assert [b.text for b in loaded.blocks] == [  # the same words on each page are not a header
        f"Page {n} talks about repayment terms." for n in (1, 2, 3)
    ]


def test_pdf_without_title_uses_stem_and_skips_empty_pages(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "scan-1.pdf", make_pdf(["", "Only page two has text."])))

    assert loaded.title == "scan-1"
    assert loaded.blocks == [para("Only page two has text.", page=2)]


def test_bullets_become_a_list(tmp_path: Path) -> None:
    pdf = Handbook()
    pdf.add_page()
    pdf.lines("Cards can be frozen:")
    pdf.lines("- in the app,")
    pdf.lines("- by calling the service line, which is open at any hour of the day and")
    pdf.lines("of the night.", indent=4)
    pdf.lines("A frozen card refuses every payment.")
    loaded = load_file(write(tmp_path, "freeze.pdf", bytes(pdf.output())))

    assert loaded.blocks[1:] == [  # after the running header of a one-page file
        para("Cards can be frozen:", page=1),
        Block(
            "- in the app,\n- by calling the service line, which is open at any hour of the day "
            "and of the night.",
            "list",
            page=1,
        ),
        para("A frozen card refuses every payment.", page=1),
    ]
