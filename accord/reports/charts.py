"""Charts rendered on the server as SVG (matplotlib), so they work without JavaScript and in
the PDF. Each chart is drawn beside its data table and has a title and a text summary.

A chart is a pure function of its title and data, and drawing one takes tens of
milliseconds, so the last few drawn are kept in memory: a PDG meeting revisiting the
same figures does not pay for them again."""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import re

BLUE = "#1d70b8"
CACHED_CHARTS = 32


def _figure(width: float, height: float):
    """A new figure and its axes. matplotlib is imported on first use, not at start-up, so a
    worker that never draws a chart does not carry it; figures are made without pyplot,
    which would keep every figure in a global registry until closed."""
    import matplotlib

    matplotlib.rcParams["svg.fonttype"] = "none"  # real text: smaller, searchable, quick to print
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=72)
    return fig, fig.add_subplot()


def _clean(svg: str, label: str) -> str:
    svg = re.sub(r"<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)  # no inline styles (CSP)
    # Several charts share a page: give each one its own ids (the same chart, the same ids).
    prefix = "chart" + hashlib.sha256(svg.encode()).hexdigest()[:10] + "-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"#([A-Za-z_][\w.-]*)\)", lambda m: f"#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{_escape(label)}" focusable="false" ', 1)


def bar_chart(title: str, labels: list[str], values: list[int | str], *, png: bool = False) -> str:
    """A horizontal bar chart; a suppressed value ("fewer than 5") is drawn as no bar."""
    return _bar_chart(str(title), tuple(str(label) for label in labels), tuple(values), png)


@functools.lru_cache(maxsize=CACHED_CHARTS)
def _bar_chart(title: str, labels: tuple[str, ...], values: tuple[int | str, ...], png: bool) -> str:
    numbers = [v if isinstance(v, int) else 0 for v in values]
    height = max(1.6, 0.45 * len(labels) + 0.8)
    fig, ax = _figure(6.5, height)
    positions = list(range(len(labels)))
    ax.barh(positions, numbers, color=BLUE)
    ax.set_yticks(positions, labels=[label[:45] for label in labels], fontsize=9)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.xaxis.get_major_locator().set_params(integer=True)
    return _finish(fig, title, png)


def line_chart(title: str, labels: list[str], series: dict[str, list[int]], *, png: bool = False) -> str:
    """Lines over labelled periods (one line a series)."""
    return _line_chart(
        str(title),
        tuple(str(label) for label in labels),
        tuple((str(name), tuple(values)) for name, values in series.items()),
        png,
    )


@functools.lru_cache(maxsize=CACHED_CHARTS)
def _line_chart(
    title: str, labels: tuple[str, ...], series: tuple[tuple[str, tuple[int, ...]], ...], png: bool
) -> str:
    fig, ax = _figure(6.5, 2.8)
    styles = ["-", "--", ":"]
    positions = list(range(len(labels)))
    for i, (name, values) in enumerate(series):
        ax.plot(
            positions,
            values,
            styles[i % 3],
            marker="o",
            label=name,
            color=["#1d70b8", "#d4351c", "#00703c"][i % 3],
        )
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax.set_xticks(positions, labels=labels)
    ax.tick_params(axis="x", labelsize=8, rotation=30)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _finish(fig, title, png)


def _finish(fig, title: str, png: bool) -> str:
    """The figure as inline SVG for pages, or as a PNG ``<img>`` for the PDF: a PDF renderer
    lays out an SVG node by node, which made the annual report's PDF several times slower."""
    fig.tight_layout()
    if png:
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=150)
        encoded = base64.b64encode(raw.getvalue()).decode()
        return f'<img src="data:image/png;base64,{encoded}" alt="{_escape(title)}">'
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    return _clean(buffer.getvalue(), title)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
