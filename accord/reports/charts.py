"""Charts rendered on the server as SVG (matplotlib), so they work without JavaScript and in
the PDF. Each chart is drawn beside its data table and has a title and a text summary."""

from __future__ import annotations

import io
import itertools
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

matplotlib.rcParams["svg.fonttype"] = "none"  # real text: smaller, searchable, quick to print
BLUE = "#1d70b8"
_ids = itertools.count(1)


def _clean(svg: str, label: str) -> str:
    svg = re.sub(r"<\?xml[^>]*>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)  # no inline styles (CSP)
    # Several charts share a page: give each one its own ids.
    prefix = f"chart{next(_ids)}-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"#([A-Za-z_][\w.-]*)\)", lambda m: f"#{prefix}{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)
    safe = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{safe}" focusable="false" ', 1)


def bar_chart(title: str, labels: list[str], values: list[int | str]) -> str:
    """A horizontal bar chart; a suppressed value ("fewer than 5") is drawn as no bar."""
    numbers = [v if isinstance(v, int) else 0 for v in values]
    height = max(1.6, 0.45 * len(labels) + 0.8)
    fig, ax = plt.subplots(figsize=(6.5, height), dpi=72)
    positions = list(range(len(labels)))
    ax.barh(positions, numbers, color=BLUE)
    ax.set_yticks(positions, labels=[label[:45] for label in labels], fontsize=9)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=11, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return _clean(buffer.getvalue(), title)


def line_chart(title: str, labels: list[str], series: dict[str, list[int]]) -> str:
    fig, ax = plt.subplots(figsize=(6.5, 2.8), dpi=72)
    styles = ["-", "--", ":"]
    for i, (name, values) in enumerate(series.items()):
        ax.plot(
            labels,
            values,
            styles[i % 3],
            marker="o",
            label=name,
            color=["#1d70b8", "#d4351c", "#00703c"][i % 3],
        )
    ax.set_title(title, fontsize=11, loc="left")
    ax.legend(fontsize=8, frameon=False)
    ax.tick_params(axis="x", labelsize=8, rotation=30)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    plt.close(fig)
    return _clean(buffer.getvalue(), title)
