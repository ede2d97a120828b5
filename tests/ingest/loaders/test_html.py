"""HTML: main content with its structure, site chrome dropped, short pages never lost."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trafilatura

from kotaemon.ingest.loaders import Block, load_bytes, load_file

from .documents import heading, para, write

CHROME = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — Harbor Bank Manuals</title>
<script>window.dataLayer = [];</script><style>.x {{ color: red }}</style></head>
<body>
<div id="cookie-banner" class="cookie-consent">We use cookies to improve your experience.
By continuing you accept our cookie policy. <button>Accept all cookies</button></div>
<div class="topbar"><nav class="menu"><ul><li><a href="/">Home</a></li>
<li><a href="/cards">Cards</a></li><li><a href="/loans">Loans</a></li>
<li><a href="/help">Help centre</a></li></ul></nav></div>
<div class="breadcrumb"><a href="/">Home</a> › <a href="/manuals">Manuals</a> › {title}</div>
<div class="layout">
<aside class="sidebar"><h3>On this page</h3><ul>{toc}</ul></aside>
<div class="content">{content}</div>
</div>
<footer class="site-footer"><p>© 2024 Harbor Bank. All rights reserved.</p>
<ul><li><a href="/privacy">Privacy</a></li><li><a href="/terms">Terms of use</a></li></ul></footer>
</body></html>
"""

GRACE = """<h1>Repayment grace period</h1>
<p>Repayments that reach the bank within three calendar days after the due date are treated
as on time. No late fee is charged and nothing is reported to the credit bureau.</p>
<h2 id="sharing-fees">Fees</h2>
<p>When the grace period has passed, a late fee of five percent of the unpaid minimum payment
is charged, at least 25 yuan and at most 300 yuan.</p>
<table><tr><th>Days late</th><th>Fee</th></tr><tr><td>1 to 3</td><td>none</td></tr>
<tr><td>4 or more</td><td>5% of the minimum payment</td></tr></table>
<h2 id="steps">How to repay</h2>
<ol><li>Open the app and choose the card.</li>
<li>Choose <b>Repay</b> and enter the amount.</li></ol>
<pre>repay --card 6222 --amount  300</pre>
"""

FREEZE = """<h1>Freezing a lost card</h1>
<p>A lost or stolen card can be frozen at once in the mobile app or by calling the service line,
at any hour of the day. A frozen card refuses every payment until it is unfrozen again.</p>
<h2>Replacement</h2>
<p>A replacement card is mailed within five working days. The first replacement each year is
free of charge; further replacements cost 20 yuan each.</p>
"""


def page(title: str, content: str, toc: list[str]) -> bytes:
    items = "".join(f'<li><a href="#{t}">{t}</a></li>' for t in toc)
    return CHROME.format(title=title, content=content, toc=items).encode()


def test_main_content_keeps_structure_and_drops_site_chrome(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "grace.html", page("Grace period", GRACE, ["Fees"])))

    assert loaded.title == "Grace period — Harbor Bank Manuals"
    assert loaded.blocks == [
        heading("Repayment grace period", 1),
        para(
            "Repayments that reach the bank within three calendar days after the due date are "
            "treated as on time. No late fee is charged and nothing is reported to the credit "
            "bureau."
        ),
        heading("Fees", 2),  # kept though its id says "sharing", which trafilatura distrusts
        para(
            "When the grace period has passed, a late fee of five percent of the unpaid minimum "
            "payment is charged, at least 25 yuan and at most 300 yuan."
        ),
        Block(
            "Days late | Fee\n1 to 3 | none\n4 or more | 5% of the minimum payment",
            "table",
            header_rows=1,
        ),
        heading("How to repay", 2),
        Block(
            "1. Open the app and choose the card.\n2. Choose Repay and enter the amount.", "list"
        ),
        Block("repay --card 6222 --amount  300", "code"),  # verbatim, spaces kept
    ]
    dropped = "\n".join(d.text for d in loaded.dropped)
    for chrome in ("cookies", "Help centre", "Manuals ›", "On this page", "All rights reserved"):
        assert chrome in dropped
        assert chrome not in str(loaded.blocks)
    assert {d.reason for d in loaded.dropped} == {"boilerplate"}


def test_the_same_chrome_on_every_page_is_dropped_from_each(tmp_path: Path) -> None:
    pages = {
        "grace.html": (GRACE, "Repayment grace period"),
        "freeze.html": (FREEZE, "Freezing a lost card"),
    }
    for name, (content, first_heading) in pages.items():
        loaded = load_file(write(tmp_path, name, page(name, content, ["Replacement"])))
        text = "\n".join(b.text for b in loaded.blocks)
        assert loaded.blocks[0] == heading(first_heading, 1)
        assert "cookie" not in text and "Privacy" not in text and "Loans" not in text


@pytest.mark.parametrize(
    ("html", "blocks"),
    [
        (  # a table alone: trafilatura finds little, the page's own blocks are kept
            b"<table><tr><th>Fee</th><th>Amount</th></tr><tr><td>Late</td><td>$25</td></tr>"
            b"</table>",
            [Block("Fee | Amount\nLate | $25", "table", header_rows=1)],
        ),
        (  # a fragment without <html> or <body>
            b"<h2>Grace</h2><p>Three days.</p><ul><li>No fee</li><li>No report</li></ul>",
            [heading("Grace", 2), para("Three days."), Block("- No fee\n- No report", "list")],
        ),
        (  # a short page: its semantic chrome still goes
            b"<html><body><nav><a>Home</a> <a>About</a></nav><h1>Grace</h1>"
            b"<p>Three days of grace apply.</p><footer>(c) Bank</footer></body></html>",
            [heading("Grace", 1), para("Three days of grace apply.")],
        ),
    ],
)
def test_a_short_page_is_never_lost(html: bytes, blocks: list[Block]) -> None:
    assert load_bytes(html, "short.html").blocks == blocks


def test_when_the_extractor_fails_the_page_less_its_navigation_is_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("extractor bug")

    monkeypatch.setattr(trafilatura, "extract", broken)
    with caplog.at_level(logging.WARNING):
        loaded = load_bytes(page("Freeze", FREEZE, []), "freeze.html")

    assert heading("Freezing a lost card", 1) in loaded.blocks
    assert "Help centre" not in str(loaded.blocks)  # <nav> and <footer> are dropped all the same
    assert "All rights reserved" not in str(loaded.blocks)
    assert any(getattr(r, "file", None) == "freeze.html" for r in caplog.records)


HTML = """<!DOCTYPE html>
<html><head><title> Loan   Guide </title><style>p { color: red }</style>
<script>var tracking = "noise";</script></head>
<body>
<header><a href="/">Home</a> site banner</header>
<nav><ul><li>Menu link</li></ul></nav>
<noscript>Enable JavaScript</noscript>
<article><header><h1>Repayment <em>terms</em>¶</h1></header>
<p>Pay on
time. 每月按时
还款。</p>
<ul><li>Item one<ul><li>Nested item</li></ul></li></ul>
<table><tr><th>Fee</th><th>Amount</th></tr><tr><td>Late</td><td><b>$25</b></td></tr></table>
<pre>code  line 1
  code line 2</pre>
<blockquote>A quote</blockquote>
<dl><dt>Term</dt><dd>Definition</dd></dl>
</article>
<footer>Copyright footer</footer>
</body></html>
"""


def test_html_blocks_of_each_kind(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "guide.htm", HTML.encode()))

    assert loaded.media_type == "text/html"
    assert loaded.title == "Loan Guide"
    assert loaded.blocks == [
        heading("Repayment terms", 1),  # a header inside <article> is content; ¶ dropped
        para("Pay on time. 每月按时还款。"),
        Block("- Item one\n  - Nested item", "list"),
        Block("Fee | Amount\nLate | $25", "table", header_rows=1),
        Block("code  line 1\n  code line 2", "code"),
        para("A quote"),
        Block("- Term\n  Definition", "list"),
    ]
    assert "noise" not in str(loaded) and "Menu" not in str(loaded.blocks)


def test_html_declared_charset_and_h1_title(tmp_path: Path) -> None:
    page = '<html><head><meta charset="gbk"></head><body><h1>还款指南</h1><p>按时还款</p>'
    loaded = load_file(write(tmp_path, "page.txt", page.encode("gbk")))

    assert loaded.media_type == "text/html"  # sniffed from the content, not the suffix
    assert loaded.title == "还款指南"
    assert loaded.blocks == [heading("还款指南", 1), para("按时还款")]
