"""The annual report's PDF and the PDG's meeting pack fit to table: laid out by WeasyPrint,
no box on any page runs past the right margin (a chart is scaled to the text's width), no
heading and no table's header row is left alone at the foot of a page; the year is named as
the partnership's reporting year is; each chart is titled once and its text alternative says
what it shows; a monthly chart of small months is drawn by quarter."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from accord.escalations.services import PartyDetails
from accord.reports import annual, views
from accord.testing.auth import sign_in
from accord.testing.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db


def layout_problems(html: str) -> list[str]:
    """What is wrong with the pages WeasyPrint lays ``html`` out on: any box past the right
    margin, any heading with nothing after it on its page, any table whose header row is on
    a page without one of its rows."""
    from weasyprint import HTML

    found = []
    for number, page in enumerate(HTML(string=html).render().pages, start=1):
        box = page._page_box
        right = box.margin_left + box.width
        boxes = [b for b in box.descendants() if getattr(b, "element_tag", None)]
        for b in boxes:
            if type(b).__name__ != "LineBox" and b.position_x + b.margin_width() > right + 0.5:
                found.append(f"page {number}: <{b.element_tag}> past the margin")
        content = [
            b for b in boxes if type(b).__name__ in ("TextBox", "InlineReplacedBox", "BlockReplacedBox")
        ]
        for b in boxes:
            if b.element_tag in ("h1", "h2", "h3") and type(b).__name__ == "BlockBox":
                end = b.position_y + b.margin_height()
                if not [c for c in content if c.position_y >= end - 0.5]:
                    found.append(f"page {number}: a heading alone at the foot")
            if type(b).__name__ == "TableBox":
                groups = [g for g in b.children if type(g).__name__ == "TableRowGroupBox"]
                if groups and not sum(len(g.children) for g in groups if g.element_tag == "tbody"):
                    found.append(f"page {number}: a table's header alone at the foot")
    return found


@pytest.fixture
def busy_year(world):
    """A year of many agencies and multi-agency escalations, a handful a month: long tables,
    a wide matrix and small months."""
    people = []
    for n in range(14):
        agency = AgencyFactory(
            name=f"Northshire Agency Number {n} Services", partnerships=[world.partnership]
        )
        people.append(
            UserFactory(username=f"busy{n}", agency=agency, roles=[(world.partnership, "practitioner")])
        )
    for i in range(40):
        person = people[i % 14]
        day = dt.date(2025, 4, 3) + dt.timedelta(days=8 * i)
        world.raised(
            at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
            raiser=person,
            with_agency=world.social if i % 3 else world.health,
            with_practitioner_username="",
            other_parties=[PartyDetails(people[(i + 1) % 14].agency_id)] if i % 2 else [],
        )
    return 2025


def captured_html(monkeypatch, client, url, query) -> str:
    pages = []
    for module in (views, annual):
        monkeypatch.setattr(module, "render_pdf", lambda html: pages.append(html) or b"%PDF-")
    assert client.get(url, query).status_code == 200
    return pages[-1]


def test_the_pdfs_fit_their_pages(client, world, busy_year, monkeypatch):
    for person in (world.executive, world.pdg_chair):
        sign_in(client, person)
        for url, query in (
            ("/reports/annual.pdf", {"year": busy_year}),
            ("/reports/pdg.pdf", {"start-day": 1, "start-month": 4, "start-year": 2025}),
        ):
            html = captured_html(monkeypatch, client, url, query)
            assert layout_problems(html) == [], (person, url)
        client.logout()


def test_the_check_sees_a_chart_past_the_margin_and_a_header_alone():
    """The check itself: a chart drawn wider than the page, a table's header row left on a
    page its first row does not fit, and a heading whose text is forced to the next page
    are each found."""
    page = "<style>@page { size: A4; margin: 18mm 16mm } tr { break-inside: avoid }</style>"
    filler = '<div style="height: 220mm"></div>'
    wide = '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="40"></svg>'
    table = (
        '<table><caption style="position: absolute; left: -9999px">Kind</caption>'
        "<thead><tr><th>Item</th></tr></thead>"
        '<tbody><tr><td style="height: 60mm">1</td></tr></tbody></table>'
    )
    heading = '<h2>Kind</h2><p style="break-before: page">Its table</p>'
    assert any("past the margin" in p for p in layout_problems(page + wide))
    assert any("header alone" in p for p in layout_problems(page + filler + table))
    assert any("heading alone" in p for p in layout_problems(page + filler + heading))
    assert layout_problems(page + "<h2>Kind</h2><p>Its table</p>") == []


def test_the_annual_report_names_its_year_titles_each_chart_once_and_says_what_it_shows(
    client, world, busy_year, monkeypatch
):
    sign_in(client, world.executive)
    html = captured_html(monkeypatch, client, "/reports/annual.pdf", {"year": busy_year})
    assert "Annual report to the Partnership Executive Group, 2025/26" in html
    charts = re.findall(r"<svg .*?</svg>", html, flags=re.S)
    assert charts
    for svg in charts:
        label = re.search(r'aria-label="([^"]*)"', svg).group(1)
        # The alternative says what the chart shows, not only its title.
        assert "largest:" in label or " in " in label or "hidden" in label, label
    # The bar charts' titles are the section headings above them, not drawn again.
    assert not [svg for svg in charts if 'font-weight="bold"' in svg and "each quarter" not in svg]
    # The months are small: the chart is by quarter, and the quarters say something.
    quarterly = [svg for svg in charts if "each quarter" in svg]
    assert quarterly and "Apr–Jun 2025" in quarterly[0] and "<circle" in quarterly[0]
    monkeypatch.undo()
    pdf = client.get("/reports/annual.pdf", {"year": busy_year})
    assert "Annual report 2025/26" in PdfReader(io.BytesIO(pdf.content)).metadata.title


def test_a_calendar_reporting_year_is_named_by_its_year(world):
    world.partnership.reporting_year_start_month = 1
    assert annual.year_name(world.partnership, 2026) == "2026"
    world.partnership.reporting_year_start_month = 4
    assert annual.year_name(world.partnership, 2026) == "2026/27"
