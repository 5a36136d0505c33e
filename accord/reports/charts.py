"""Charts drawn on the server as small SVG documents, so they work without JavaScript, on
the page and in the PDF alike. Each chart sits beside a table of the same figures and has
a title and a text summary.

A chart here is a few dozen elements (a bar, its label and its value; a line and its
points), written directly: drawing one takes well under a millisecond, needs no plotting
library in the web worker's memory, and a PDF renderer lays it out in no time. Every piece
of text is escaped. Colours and line styles are GOV.UK's, and lines differ by dash and
marker as well as colour, so the chart reads in greyscale and to colour-blind readers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from django.utils.translation import gettext as _

BLUE = "#1d70b8"
LINE_COLOURS = ("#1d70b8", "#d4351c", "#00703c")
LINE_DASHES = ("", "8 4", "2 3")
TEXT = "#0b0c0c"
GRID = "#b1b4b6"
FONT = 'font-family="arial, sans-serif"'
WIDTH = 640
LABEL_CHARS = 45


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _short(label: str, limit: int = LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _svg(title: str, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_text(title)}" '
        f'focusable="false" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" {FONT}>'
        f"<title>{_text(title)}</title>"
        f'<text x="0" y="18" font-size="16" font-weight="bold" fill="{TEXT}">{_text(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def nice_scale(peak: int, steps: int = 5) -> tuple[int, int]:
    """The top of an axis and its step: whole numbers of 1, 2 or 5 times a power of ten,
    with the top at or above ``peak``."""
    if peak <= 0:
        return 1, 1
    raw = peak / steps
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    return step * math.ceil(peak / step), step


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int | str]) -> str:
    """A horizontal bar chart, one bar a label, its value written at the bar's end. A value
    that is not a number (a suppressed small count) is written in place of a bar."""
    title = str(title)
    shown = [_short(str(label)) for label in labels]
    row, top = 26, 34
    # Room for the longest label (about 7 pixels a character at this size).
    label_width = min(340, 16 + 7 * max((len(label) for label in shown), default=0))
    bar_space = WIDTH - label_width - 70
    numbers = [v for v in values if isinstance(v, int)]
    peak = max(numbers, default=0) or 1
    body = []
    for i, (label, value) in enumerate(zip(shown, values, strict=True)):
        y = top + i * row
        body.append(
            f'<text x="{label_width - 8}" y="{y + 17}" font-size="13" text-anchor="end" fill="{TEXT}">'
            f"{_text(label)}</text>"
        )
        length = round(bar_space * value / peak, 1) if isinstance(value, int) and value > 0 else 0
        if length:
            body.append(
                f'<rect x="{label_width}" y="{y + 3}" width="{length}" height="{row - 6}" fill="{BLUE}"/>'
            )
        body.append(
            f'<text x="{label_width + length + 6}" y="{y + 17}" font-size="13" fill="{TEXT}">{_text(f"{value:,}" if isinstance(value, int) else value)}</text>'
        )
    height = top + len(values) * row + 6
    body.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{height - 6}" stroke="{TEXT}"/>')
    return _svg(title, height, body)


def line_chart(title: str, labels: Sequence[str], series: dict[str, Sequence[int | str | None]]) -> str:
    """Lines over labelled periods (one line a series), on an axis from zero.

    A value that is not a number is a count hidden by disclosure control (``disclosure``):
    it is not drawn as any value. The line breaks there, and its short form (the threshold after "<", or
    "[c]" where it is withheld to protect another) is written above the axis in its place,
    as the table beside the chart writes it in full."""
    title = str(title)
    left, right, top, bottom = 56, WIDTH - 16, 62, 250
    height = bottom + 70
    count = len(labels)
    peak = max((v for values in series.values() for v in values if isinstance(v, int)), default=0)
    axis_top, step = nice_scale(peak)

    def x(i: int) -> float:
        return round(left + (right - left) * (i + 0.5) / max(count, 1), 1)

    def y(v: int) -> float:
        return round(bottom - (bottom - top) * v / axis_top, 1)

    body = []
    for tick in range(0, axis_top + 1, step):
        body.append(f'<line x1="{left}" y1="{y(tick)}" x2="{right}" y2="{y(tick)}" stroke="{GRID}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y(tick) + 4}" font-size="12" text-anchor="end" fill="{TEXT}">{tick:,}</text>'
        )
    every = max(1, math.ceil(count / 12))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{x(i)}" y="{bottom + 14}" font-size="12" text-anchor="end" fill="{TEXT}" '
                f'transform="rotate(-30 {x(i)} {bottom + 14})">{_text(_short(str(label), 16))}</text>'
            )
    hidden: dict[str, str] = {}  # each short form drawn, with what it stands for
    for n, (name, values) in enumerate(series.items()):
        colour, dash = LINE_COLOURS[n % 3], LINE_DASHES[n % 3]
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        run: list[str] = []
        for i, v in enumerate([*values, None]):  # a None at the end closes the last run
            if isinstance(v, int):
                run.append(f"{x(i)},{y(v)}")
                continue
            if len(run) > 1:
                body.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2.5"{dashed}/>'
                )
            run = []
        marker = _marker(n, colour)
        for i, v in enumerate(values):
            if not isinstance(v, int):
                short = getattr(v, "short", "")
                hidden.setdefault(short, str(v))
                body.append(
                    f'<text x="{x(i)}" y="{bottom - 6 - 14 * n}" font-size="11" text-anchor="middle" '
                    f'fill="{colour}">{_text(short)}</text>'
                )
            else:
                body.append(marker(x(i), y(v)))
        key_x = left + n * 190
        body.append(
            f'<line x1="{key_x}" y1="36" x2="{key_x + 28}" y2="36" stroke="{colour}" stroke-width="2.5"{dashed}/>'
            + marker(key_x + 14, 36)
            + f'<text x="{key_x + 34}" y="40" font-size="13" fill="{TEXT}">{_text(_short(str(name), 24))}</text>'
        )
    if hidden:
        meaning = "; ".join(
            f"{short}: {_('withheld') if short == '[c]' else full}, {_('not shown')}"
            for short, full in hidden.items()
        )
        body.append(
            f'<text x="{right}" y="40" font-size="12" text-anchor="end" fill="{TEXT}">{_text(meaning)}</text>'
        )
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{TEXT}"/>')
    return _svg(title, height, body)


def _marker(n: int, colour: str):
    """A circle, a square or a diamond, so each line is told apart by shape too."""
    if n % 3 == 0:
        return lambda cx, cy: f'<circle cx="{cx}" cy="{cy}" r="4" fill="{colour}"/>'
    if n % 3 == 1:
        return lambda cx, cy: (
            f'<rect x="{round(cx - 4, 1)}" y="{round(cy - 4, 1)}" width="8" height="8" fill="{colour}"/>'
        )
    return lambda cx, cy: (
        f'<path d="M{cx} {round(cy - 5, 1)}L{round(cx + 5, 1)} {cy}L{cx} {round(cy + 5, 1)}'
        f'L{round(cx - 5, 1)} {cy}Z" fill="{colour}"/>'
    )
