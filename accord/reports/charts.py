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
# Drawn at the size they are shown on a wide screen (the page gives a chart the main
# column's width, up to this), so that every label is at least the body text's size
# (19 pixels) at 100 % zoom; a narrow screen scales the whole chart down with the text.
WIDTH = 760
TEXT_SIZE = 19
CHAR_WIDTH = 10.5  # an average character of Arial at TEXT_SIZE, for laying labels out
LABEL_CHARS = 28  # a bar's label is wrapped onto at most two lines of this many characters
LABEL_CHARS_TOTAL = 2 * LABEL_CHARS


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _short(label: str, limit: int = LABEL_CHARS_TOTAL) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def wrapped(label: str, width: int = LABEL_CHARS, lines: int = 2) -> list[str]:
    """The label on at most ``lines`` lines of at most ``width`` characters, broken at
    spaces where it can be, the last line shortened with "…" if the label is longer."""
    words, out, line = label.split(), [], ""
    for word in words:
        while len(word) > width:  # a word longer than a line is broken
            if line:
                out.append(line)
                line = ""
            out.append(word[:width])
            word = word[width:]
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        out.append(line)
    if len(out) > lines:
        last = " ".join(out[lines - 1 :])
        out = [*out[: lines - 1], last[: width - 1].rstrip() + "…"]
    return out or [""]


def _svg(title: str, height: int, body: list[str], *, described: str = "", drawn: bool = True) -> str:
    """The chart as an image whose text alternative is ``described`` (what the chart shows, in
    a sentence) or else its title; the title drawn at its top unless the page's heading above
    the chart already says it (``drawn``)."""
    label = described or title
    heading = (
        f'<text x="0" y="22" font-size="{TEXT_SIZE}" font-weight="bold" fill="{TEXT}">{_text(_short(title, 64))}</text>'
        if drawn
        else ""
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_text(label)}" '
        f'focusable="false" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" {FONT}>'
        f"<title>{_text(label)}</title>" + heading + "".join(body) + "</svg>"
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


def bar_chart(
    title: str, labels: Sequence[str], values: Sequence[int | str], *, described: str = "", drawn: bool = True
) -> str:
    """A horizontal bar chart, one bar a label, its value written at the bar's end. A value
    that is not a number (a suppressed small count) is written in place of a bar."""
    title = str(title)
    shown = [wrapped(str(label)) for label in labels]
    line_height, top = TEXT_SIZE + 5, 40 if drawn else 6
    # Room for the longest line of any label.
    longest = max((len(line) for lines in shown for line in lines), default=0)
    label_width = min(round(16 + CHAR_WIDTH * LABEL_CHARS), round(16 + CHAR_WIDTH * longest))
    bar_space = WIDTH - label_width - 90
    numbers = [v for v in values if isinstance(v, int)]
    peak = max(numbers, default=0) or 1
    body = []
    y = top
    for lines, value in zip(shown, values, strict=True):
        row = len(lines) * line_height + 10
        first = y + 5 + (row - len(lines) * line_height) / 2 + TEXT_SIZE - 3
        for n, line in enumerate(lines):
            body.append(
                f'<text x="{label_width - 8}" y="{round(first + n * line_height, 1)}" font-size="{TEXT_SIZE}" '
                f'text-anchor="end" fill="{TEXT}">{_text(line)}</text>'
            )
        length = round(bar_space * value / peak, 1) if isinstance(value, int) and value > 0 else 0
        if length:
            body.append(
                f'<rect x="{label_width}" y="{y + 4}" width="{length}" height="{row - 8}" fill="{BLUE}"/>'
            )
        body.append(
            f'<text x="{label_width + length + 6}" y="{round(y + row / 2 + TEXT_SIZE / 2 - 3, 1)}" '
            f'font-size="{TEXT_SIZE}" fill="{TEXT}">{_text(f"{value:,}" if isinstance(value, int) else value)}</text>'
        )
        y += row
    height = y + 6
    body.append(f'<line x1="{label_width}" y1="{top}" x2="{label_width}" y2="{y}" stroke="{TEXT}"/>')
    return _svg(title, height, body, described=described, drawn=drawn)


def line_chart(
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[int | str | None]],
    *,
    described: str = "",
    drawn: bool = True,
) -> str:
    """Lines over labelled periods (one line a series), on an axis from zero.

    A value that is not a number is a count hidden by disclosure control (``disclosure``):
    it is not drawn as any value. The line breaks there, and its short form (the threshold after "<", or
    "[c]" where it is withheld to protect another) is written above the axis in its place,
    as the table beside the chart writes it in full."""
    title = str(title)
    left, right, top, bottom = 70, WIDTH - 16, 100, 310
    height = bottom + 116
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
            f'<text x="{left - 8}" y="{y(tick) + 6}" font-size="{TEXT_SIZE}" text-anchor="end" fill="{TEXT}">{tick:,}</text>'
        )
    every = max(1, math.ceil(count / 10))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{x(i)}" y="{bottom + 22}" font-size="{TEXT_SIZE}" text-anchor="end" fill="{TEXT}" '
                f'transform="rotate(-30 {x(i)} {bottom + 22})">{_text(_short(str(label), 12))}</text>'
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
                    f'<text x="{x(i)}" y="{bottom - 8 - 22 * n}" font-size="{TEXT_SIZE}" text-anchor="middle" '
                    f'fill="{colour}">{_text(short)}</text>'
                )
            else:
                body.append(marker(x(i), y(v)))
        key_x, key_y = (n % 2) * (WIDTH // 2), 44 + (n // 2) * 24
        body.append(
            f'<line x1="{key_x}" y1="{key_y}" x2="{key_x + 28}" y2="{key_y}" stroke="{colour}" stroke-width="2.5"{dashed}/>'
            + marker(key_x + 14, key_y)
            + f'<text x="{key_x + 36}" y="{key_y + 6}" font-size="{TEXT_SIZE}" fill="{TEXT}">{_text(_short(str(name), 30))}</text>'
        )
    if hidden:
        meaning = "; ".join(
            f"{short}: {_('withheld') if short == '[c]' else full}, {_('not shown')}"
            for short, full in hidden.items()
        )
        body.append(
            f'<text x="0" y="{height - 8}" font-size="{TEXT_SIZE}" fill="{TEXT}">{_text(meaning)}</text>'
        )
    body.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{TEXT}"/>')
    return _svg(title, height, body, described=described, drawn=drawn)


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


def described_bars(title: str, labels: Sequence[str], values: Sequence[int | str]) -> str:
    """What a bar chart shows, in a sentence, for its text alternative: the largest bar and
    how many there are, and how many counts are hidden (the table beside it has every one)."""
    counted = [(v, str(label)) for label, v in zip(labels, values, strict=True) if isinstance(v, int)]
    hidden = len(values) - len(counted)
    parts = [str(title)]
    if counted:
        top, label = max(counted, key=lambda c: (c[0], c[1]))
        parts.append(_("largest: %(label)s, %(n)s") % {"label": label, "n": f"{top:,}"})
    parts.append(_("%(n)s bars") % {"n": len(values)})
    if hidden:
        parts.append(_("%(n)s hidden as small or withheld") % {"n": hidden})
    return "; ".join(parts) + "."


def described_line(title: str, labels: Sequence[str], values: Sequence[int | str | None]) -> str:
    """What a one-line chart shows, in a sentence: from its first value to its last, and its
    highest point."""
    points = [(str(label), v) for label, v in zip(labels, values, strict=True) if isinstance(v, int)]
    if not points:
        return _("%(title)s: every count is hidden as small or withheld.") % {"title": title}
    (first_label, first), (last_label, last) = points[0], points[-1]
    peak_label, peak = max(points, key=lambda p: p[1])
    return _(
        "%(title)s: %(first)s in %(first_label)s, %(last)s in %(last_label)s; highest %(peak)s in %(peak_label)s."
    ) % {
        "title": title,
        "first": f"{first:,}",
        "first_label": first_label,
        "last": f"{last:,}",
        "last_label": last_label,
        "peak": f"{peak:,}",
        "peak_label": peak_label,
    }
