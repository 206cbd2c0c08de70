"""Small charts as SVG text: horizontal bars with every label and value kept as ``<text>``.

Nothing is drawn on the server and no server font is used: the phone (or the printer) draws the Thai
text with its own fonts. The drawing is 360 units wide (``viewBox``), the width of a cheap phone, so a
font size of 13 units is about 13 px there and grows with the screen. Labels sit beside the bars when
they are short (months) or above them when they are long (group names), so nothing is cut or squeezed.

Knows no domain: callers pass rows of labels, exact values (``Decimal``) and the text to show for each.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

WIDTH = 360
PAD = 6
TITLE_SIZE = 15
LABEL_SIZE = 13
VALUE_SIZE = 12
BAR = 14
BAR_GAP = 4
ROW_GAP = 10
FONTS = "Sarabun, 'Noto Sans Thai', 'Noto Sans Thai UI', Loma, Tahoma, system-ui, sans-serif"
# An SVG answer's own policy: nothing loaded, no script, only its own <style> (the size when opened alone).
CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
# Only for the SVG opened alone (its own CSP allows it); a page drawing the chart inline drops it
# (``inline``): the pages' CSP allows no inline style.
STANDALONE_STYLE = "<style>svg:root{max-width:980px;height:auto}</style>"
GREEN, LIGHT_GREEN, BLUE, ORANGE, RED, AXIS, INK, MUTED = (
    "#2f6b3f", "#8fb89a", "#1f5a8f", "#c77c0e", "#a01818", "#556666", "#1d2a22", "#556")


@dataclass(frozen=True)
class Series:
    """One kind of bar: its legend text and colour (negative values are drawn in red)."""
    name: str
    color: str = GREEN
    light: str | None = None  # rows not highlighted, when the chart highlights one (the month shown)


@dataclass
class Row:
    """One row of the chart: a label and, per series, the value (None: nothing to draw) and its text."""
    label: str
    values: list[Decimal | None]
    texts: list[str]
    highlight: bool = False
    sublabel: str = ""


@dataclass
class Chart:
    title: str
    series: list[Series]
    rows: list[Row] = field(default_factory=list)
    empty: str = "–"
    note: str = ""
    labels_above: bool = False
    uid: str = "chart"


def text_width(text: str, size: float) -> float:
    """A safe estimate of how wide ``text`` is: Thai vowels and tone marks above or below take no room."""
    units = 0.0
    for ch in text:
        if unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        if ch == " ":
            units += 0.3
        elif ch in ".,:;'|!i":
            units += 0.32
        elif unicodedata.east_asian_width(ch) in ("W", "F"):
            units += 1.0
        else:
            units += 0.62
    return units * size


def wrap(text: str, size: float, width: float) -> list[str]:
    """Lines no wider than ``width``, broken only at spaces (a Thai word is never cut)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, text: str, size: int, *, anchor: str = "start", weight: str = "normal",
          fill: str = INK, fit: float | None = None) -> str:
    extra = ""
    if fit is not None and text_width(text, size) > fit:
        # Longer than any line can hold and no space to break at: shown whole, a little narrower.
        extra = f' textLength="{_num(fit)}" lengthAdjust="spacingAndGlyphs"'
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}"'
            f'{bold}{extra}>{escape(text)}</text>')


def inline(svg: str) -> str:
    """The chart to draw inside a page: without the style only a lone SVG document needs."""
    return svg.replace(STANDALONE_STYLE, "")


def with_note(svg: str, note: str) -> str:
    """A chart with a note above it (e.g. "changed since sign-off"), still one standalone SVG document."""
    found = re.search(r'viewBox="0 0 ([0-9]+) ([0-9]+)"', svg)
    if found is None or not note:
        return svg
    width, height = int(found[1]), int(found[2])
    y, texts = float(PAD), []
    for line in wrap(note, VALUE_SIZE, width - 2 * PAD):
        y += VALUE_SIZE * 1.4
        texts.append(_text(PAD, y, line, VALUE_SIZE, weight="bold", fill=RED, fit=width - 2 * PAD))
    top = int(y + 4)
    inner = svg.replace(STANDALONE_STYLE, "").replace('width="100%"', f'y="{top}" width="{width}" height="{height}"', 1)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height + top}" width="100%" '
            f'role="img" font-family="{escape(FONTS)}" class="svg-chart">' + STANDALONE_STYLE
            + f'<rect width="{width}" height="{height + top}" fill="#fff"/>' + "".join(texts) + inner + "</svg>")


def render(chart: Chart) -> str:
    """The chart as a standalone SVG document (also fine inline in HTML)."""
    body: list[str] = []
    inner = WIDTH - 2 * PAD
    y = float(PAD)
    for line in wrap(chart.title, TITLE_SIZE, inner):
        y += TITLE_SIZE * 1.3
        body.append(_text(PAD, y, line, TITLE_SIZE, weight="bold", fit=inner))
    y += 4
    if len(chart.series) > 1:
        y, legend = _legend(chart.series, y)
        body += legend
    if not chart.rows:
        y += LABEL_SIZE * 1.8
        body.append(_text(PAD, y, chart.empty, LABEL_SIZE, fill=MUTED, fit=inner))
        y += PAD
    else:
        y = _bars(chart, y + 6, body)
    if chart.note:
        for line in wrap(chart.note, VALUE_SIZE, inner):
            y += VALUE_SIZE * 1.4
            body.append(_text(PAD, y, line, VALUE_SIZE, fill=MUTED, fit=inner))
    height = int(y + PAD + 2)
    title_id = f"{chart.uid}-title"
    # As wide as the screen when opened alone: a phone lays out a document without a viewport tag 980 px
    # wide and zooms out to fit, so a 360-px drawing would come out a third of its size. (svg:root is the
    # document alone; inline in a page the pages' CSS sizes the chart.)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
            f'role="img" aria-labelledby="{title_id}" font-family="{escape(FONTS)}" class="svg-chart">'
            f'<title id="{title_id}">{escape(chart.title)}</title>'
            + STANDALONE_STYLE +
            f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>' + "".join(body) + "</svg>")


def _legend(series: list[Series], y: float) -> tuple[float, list[str]]:
    out: list[str] = []
    x = float(PAD)
    y += VALUE_SIZE * 1.4
    for s in series:
        room = 16 + text_width(s.name, VALUE_SIZE) + 14
        if x > PAD and x + room > WIDTH - PAD:
            x = PAD
            y += VALUE_SIZE * 1.5
        out.append(f'<rect x="{_num(x)}" y="{_num(y - 10)}" width="12" height="12" fill="{s.color}"/>')
        out.append(_text(x + 16, y, s.name, VALUE_SIZE))
        x += room
    return y + 4, out


def _bars(chart: Chart, y: float, body: list[str]) -> float:
    values = [v for row in chart.rows for v in row.values if v is not None]
    top = max([Decimal(0), *values])
    bottom = min([Decimal(0), *values])
    span = (top - bottom) or Decimal(1)
    inner = WIDTH - 2 * PAD
    value_w = max([text_width(t, VALUE_SIZE) for row in chart.rows for t in row.texts] + [0.0]) + 8
    if chart.labels_above:
        x0 = float(PAD)
    else:
        label_w = max(text_width(row.label, LABEL_SIZE) for row in chart.rows)
        sub_w = max([text_width(row.sublabel, VALUE_SIZE) for row in chart.rows] + [0.0])
        x0 = PAD + min(max(label_w, sub_w) + 8, inner * 0.34)
    x1 = max(WIDTH - PAD - value_w, x0 + 60)
    zero = x0 + (x1 - x0) * float(-bottom / span)
    scale = (x1 - x0) / float(span)
    first_y = y
    per_row = len(chart.series) * (BAR + BAR_GAP) - BAR_GAP
    axis: list[tuple[float, float]] = []  # the zero line beside the bars only, never across a label
    for row in chart.rows:
        if chart.labels_above:
            for line in wrap(row.label, LABEL_SIZE, inner):
                y += LABEL_SIZE * 1.3
                body.append(_text(PAD, y, line, LABEL_SIZE, weight="bold" if row.highlight else "normal", fit=inner))
            y += 4
        else:
            label_y = y + min(per_row, BAR) / 2 + LABEL_SIZE * 0.35
            body.append(_text(PAD, label_y, row.label, LABEL_SIZE, weight="bold" if row.highlight else "normal",
                              fit=x0 - PAD - 4))
            if row.sublabel:
                body.append(_text(PAD, label_y + VALUE_SIZE * 1.1, row.sublabel, VALUE_SIZE - 1, fill=MUTED))
        axis.append((y - 3, y + per_row + 3))
        for k, s in enumerate(chart.series):
            value = row.values[k] if k < len(row.values) else None
            text = row.texts[k] if k < len(row.texts) else ""
            bar_y = y + k * (BAR + BAR_GAP)
            if value is not None and value != 0:
                length = abs(float(value)) * scale
                start = zero if value > 0 else zero - length
                color = RED if value < 0 else (s.color if row.highlight or s.light is None else s.light)
                body.append(f'<rect x="{_num(start)}" y="{_num(bar_y)}" width="{_num(max(length, 1.0))}" '
                             f'height="{BAR}" fill="{color}"/>')
            body.append(_text(WIDTH - PAD, bar_y + BAR / 2 + VALUE_SIZE * 0.35, text, VALUE_SIZE,
                              anchor="end", fill=RED if value is not None and value < 0 else INK))
        y += max(per_row, BAR + (VALUE_SIZE * 1.1 if row.sublabel else 0)) + ROW_GAP
    if not chart.labels_above:
        axis = [(first_y - 3, y - ROW_GAP + 3)]
    for upper, lower in axis:
        body.append(f'<line x1="{_num(zero)}" y1="{_num(upper)}" x2="{_num(zero)}" y2="{_num(lower)}" '
                    f'stroke="{AXIS}" stroke-width="1"/>')
    return y
