"""The standing item's tables, written by template tags: what they link, and that every
value is escaped."""

from django.template import Context, Template
from django.utils.safestring import mark_safe

SECTIONS = Template("{% load reports %}{% report_tables sections list_url %}")
MATRIX = Template("{% load reports %}{% agency_matrix agencies rows list_url %}")


def test_each_breakdown_is_a_table_of_counts_linked_to_the_escalations_behind_them():
    sections = [
        (
            "Stage reached",
            [("Stage 1", 12, "reached=1&raised_from=2026-01-01"), ("Stage 2", 0, "reached=2")],
            "stage",
        ),
        ("Kind", [("Case", "fewer than 5", None)], None),
        ("Outcomes", [], None),
    ]
    html = SECTIONS.render(Context({"sections": sections, "list_url": "/escalations/"}))
    assert html.count("<table") == 3 and html.count('<div class="govuk-grid-column-one-half">') == 3
    # Two tables to a grid row: the row is closed and another opened after the second.
    assert html.count('</div><div class="govuk-grid-row">') == 1
    assert (
        '<a class="govuk-link" href="/escalations/?reached=1&amp;raised_from=2026-01-01">12'
        '<span class="govuk-visually-hidden"> escalations: Stage 1</span></a>'
    ) in html
    assert "reached=2" not in html  # a count of nothing links to nothing
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">fewer than 5</td>' in html
    assert "None in the period" in html  # the empty breakdown says so


def test_the_breakdowns_escape_every_label_and_value():
    evil = "<script>alert('x')</script> & Co"
    sections = [("Caption <i>", [(evil, "<b>5</b>", None), (evil, 3, 'a="b"')], None)]
    html = SECTIONS.render(Context({"sections": sections, "list_url": "/escalations/"}))
    assert "<script>" not in html and "<i>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in html
    assert 'href="/escalations/?a=&quot;b&quot;"' in html
    # Markup marked safe by the caller stays markup.
    html = SECTIONS.render(
        Context({"sections": [(mark_safe("<abbr>PDG</abbr>"), [], None)], "list_url": "/"})
    )
    assert "<abbr>PDG</abbr>" in html


def test_the_matrix_shades_and_links_each_cell_and_escapes_the_agencies():
    agencies = ["Health <Trust>", "Police & Co"]
    rows = [
        (
            "Health <Trust>",
            [
                ("Health <Trust>", 0, 0, None),
                ("Police & Co", 7, 5, "raised_by_agency=1&received_by_agency=2"),
            ],
        ),
        ("Police & Co", [("Health <Trust>", "fewer than 5", 2, None), ("Police & Co", 1, 1, None)]),
    ]
    html = MATRIX.render(Context({"agencies": agencies, "rows": rows, "list_url": "/escalations/"}))
    assert "<Trust>" not in html and "Health &lt;Trust&gt;" in html and "Police &amp; Co" in html
    assert html.count('<th scope="col"') == 3 and html.count('<th scope="row"') == 2
    assert (
        '<td class="govuk-table__cell govuk-table__cell--numeric accord-heat-5">'
        '<a class="govuk-link" href="/escalations/?raised_by_agency=1&amp;received_by_agency=2">7'
        '<span class="govuk-visually-hidden"> raised by Health &lt;Trust&gt; with Police &amp; Co</span></a></td>'
    ) in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric accord-heat-2">fewer than 5</td>' in html
    assert html.count("<a ") == 1
