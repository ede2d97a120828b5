"""Small charts as inline SVG text (bars and histograms) for the self-contained report."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

#: One colour per series, in order.
COLOURS = ("#2f80ed", "#eb5757", "#27ae60", "#f2994a")
WIDTH = 720
BINS = 20


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, as_percent: bool = False) -> str:
    """Horizontal bars, one per ``(label, value)``; values in [0, 1] when ``as_percent``."""
    bar_height, label_width, top = 22, 180, 28
    height = top + bar_height * len(rows) + 8
    scale = 1.0 if as_percent else max((v for _, v in rows), default=1.0) or 1.0
    parts = [_title(title)]
    for i, (label, value) in enumerate(rows):
        y = top + i * bar_height
        length = (WIDTH - label_width - 70) * max(value, 0.0) / scale
        text = f"{value * 100:.1f}%" if as_percent else f"{value:.3g}"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{bar_height - 6}" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 15}" font-size="12">{text}</text>'
        )
    return _svg(height, parts)


def histogram(
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    markers: Sequence[float] = (),
    bins: int = BINS,
) -> str:
    """Overlaid histograms of each series on a shared range, with vertical ``markers``
    (thresholds) as dashed lines."""
    values = [v for vs in series.values() for v in vs] + list(markers)
    if not values:
        return f"<p>{escape(title)}: no values.</p>"
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    counts = {name: _bin_counts(vs, low, span, bins) for name, vs in series.items()}
    tallest = max((max(c) for c in counts.values() if c), default=1) or 1
    left, top, plot_w, plot_h = 40, 28, WIDTH - 60, 160
    bin_w = plot_w / bins
    parts = [_title(title)]
    for s, (name, bars) in enumerate(counts.items()):
        colour = COLOURS[s % len(COLOURS)]
        for i, n in enumerate(bars):
            h = plot_h * n / tallest
            parts.append(
                f'<rect x="{left + i * bin_w:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bin_w - 1:.1f}" height="{h:.1f}" fill="{colour}" fill-opacity="0.55"/>'
            )
        parts.append(
            f'<rect x="{left + s * 150}" y="{top + plot_h + 22}" width="10" height="10" '
            f'fill="{colour}"/><text x="{left + s * 150 + 14}" y="{top + plot_h + 31}" '
            f'font-size="12">{escape(name)} ({len(series[name])})</text>'
        )
    for marker in markers:
        x = left + plot_w * (marker - low) / span
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#333" '
            f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{top + 10}" font-size="11">'
            f"threshold {marker:.3f}</text>"
        )
    parts.append(
        f'<text x="{left}" y="{top + plot_h + 14}" font-size="11">{low:.3g}</text>'
        f'<text x="{left + plot_w}" y="{top + plot_h + 14}" font-size="11" '
        f'text-anchor="end">{high:.3g}</text>'
    )
    return _svg(top + plot_h + 40, parts)


def _bin_counts(values: Sequence[float], low: float, span: float, bins: int) -> list[int]:
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - low) / span * bins))] += 1
    return counts


def _title(text: str) -> str:
    return f'<text x="0" y="16" font-size="14" font-weight="600">{escape(text)}</text>'


def _svg(height: int, parts: Sequence[str]) -> str:
    return (
        f'<svg width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img">{"".join(parts)}</svg>'
    )
