"""The server-drawn SVG charts: well-formed, labelled, to scale, and safe with any text."""

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from accord.reports.charts import bar_chart, line_chart, nice_scale

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_is_an_accessible_image_with_bars_to_scale():
    root = parse(bar_chart("Escalations by kind", ["Theme", "Child"], [30, 15]))
    assert root.get("role") == "img"
    assert root.get("aria-label") == "Escalations by kind"
    assert root.find(f"{SVG}title").text == "Escalations by kind"
    bars = [float(r.get("width")) for r in root.iter(f"{SVG}rect")]
    assert len(bars) == 2
    assert bars[0] == 2 * bars[1]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Theme", "Child", "30", "15"} <= set(texts)


def test_a_suppressed_count_is_written_not_drawn():
    root = parse(bar_chart("By area", ["Housing", "Health"], [12, "fewer than 5"]))
    assert len(list(root.iter(f"{SVG}rect"))) == 1
    assert "fewer than 5" in [t.text for t in root.iter(f"{SVG}text")]


def test_all_zero_counts_draw_no_bars():
    root = parse(bar_chart("Nothing yet", ["A", "B"], [0, 0]))
    assert list(root.iter(f"{SVG}rect")) == []


def test_text_is_escaped():
    hostile = '<script>alert(1)</script> & "quoted"'
    svg = bar_chart(hostile, [hostile], [3]) + line_chart(hostile, [hostile], {hostile: [1]})
    assert "<script>" not in svg
    parse(bar_chart(hostile, [hostile], [3]))
    parse(line_chart(hostile, [hostile], {hostile: [1]}))


def test_long_labels_are_wrapped_onto_two_lines_then_shortened():
    name = "Royal Devon University Healthcare NHS Foundation Trust (Northern services)"
    root = parse(bar_chart("Agencies", [name, "x" * 200], [4, 6]))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Royal Devon University" in texts  # broken at a space, not cut mid-word
    lines = [t for t in texts if t.startswith(("Royal", "Healthcare", "xx"))]
    assert all(len(t) <= 28 for t in lines)
    assert len([t for t in texts if t.startswith("x")]) == 2 and texts[texts.index("x" * 28) + 1].endswith(
        "…"
    )


def test_every_label_is_at_least_the_body_text_size():
    """Drawn at the size shown (the page never stretches a chart wider than it is drawn), so
    every piece of text is at least 19 pixels, GOV.UK's body text on a wide screen."""
    from accord.reports.disclosure import small, withheld

    for svg in (
        bar_chart("Kind", ["Case", "Theme"], [12, small()]),
        line_chart("Trend", ["Apr 2025", "May 2025"], {"Raised": [3, withheld()], "Resolved": [1, 2]}),
    ):
        sizes = [float(t.get("font-size")) for t in parse(svg).iter(f"{SVG}text")]
        assert sizes and min(sizes) >= 19


def test_line_chart_has_a_line_and_a_point_per_value_for_each_series():
    labels = ["Jan", "Feb", "Mar", "Apr"]
    root = parse(line_chart("Trend", labels, {"Raised": [4, 8, 2, 0], "Resolved": [1, 2, 3, 4]}))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    for line in lines:
        assert len(line.get("points").split()) == 4
    # Series differ by dash as well as colour; the legend names each one.
    assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"Raised", "Resolved", "Jan", "Apr"} <= set(texts)


def test_line_chart_points_are_to_scale_from_zero():
    root = parse(line_chart("Trend", ["a", "b", "c"], {"Raised": [0, 5, 10]}))
    ys = [float(p.split(",")[1]) for p in next(root.iter(f"{SVG}polyline")).get("points").split()]
    assert ys[0] > ys[1] > ys[2]
    assert abs((ys[0] - ys[1]) - (ys[1] - ys[2])) < 0.2


def test_many_periods_label_every_few():
    labels = [f"M{i}" for i in range(60)]
    root = parse(line_chart("Ten years", labels, {"Raised": list(range(60))}))
    shown = [t.text for t in root.iter(f"{SVG}text") if re.fullmatch(r"M\d+", t.text or "")]
    assert 6 <= len(shown) <= 12


@given(st.integers(min_value=0, max_value=10**9))
def test_nice_scale_covers_the_peak_in_round_steps(peak):
    top, step = nice_scale(peak)
    assert top >= peak and top % step == 0
    assert top // step <= 10
    digits = str(step).rstrip("0")
    assert digits in {"1", "2", "5"}


def test_a_hidden_count_on_a_line_is_written_not_drawn_as_a_value():
    """A month whose count is hidden (1 to 4) is not drawn as zero or as any value: the
    line breaks there and "<5" is written in its place, with a key to say what it means."""
    from accord.reports.disclosure import small

    root = parse(line_chart("Monthly", ["a", "b", "c", "d", "e"], {"Raised": [6, small(), 8, 9, small()]}))
    runs = [line.get("points").split() for line in root.iter(f"{SVG}polyline")]
    assert [len(r) for r in runs] == [2]  # c-d; a stands alone, b and e are hidden
    xs = {float(p.split(",")[0]) for r in runs for p in r}
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count("<5") == 2 and any("fewer than 5" in (t or "") for t in texts)
    markers = list(root.iter(f"{SVG}circle"))
    assert len(markers) == 3 + 1  # the three shown values, and the key's
    assert len(xs) == 2
    # Nothing hidden: no key for it.
    plain = [t.text for t in parse(line_chart("Monthly", ["a", "b"], {"Raised": [1, 2]})).iter(f"{SVG}text")]
    assert "<5" not in plain and not any("fewer than 5" in (t or "") for t in plain)


def test_a_withheld_count_on_a_line_is_marked_withheld_not_small():
    from accord.reports.disclosure import small, withheld

    root = parse(line_chart("Monthly", ["a", "b", "c"], {"Raised": [withheld(), small(), 9]}))
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert texts.count("[c]") == 1 and texts.count("<5") == 1
    key = next(t for t in texts if "not shown" in t)
    assert "[c]: withheld" in key and "<5: fewer than 5" in key
