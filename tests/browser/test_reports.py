"""The PDG standing item in the browser, on the demo caseload: screenshot and axe."""

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser


def test_pdg_report_and_the_executive_view(page, demo_caseload):
    log_in(page, "pdg.chair")
    page.get_by_role("link", name="Practice Development Group report").click()
    page.fill("#id_start-day", "1")
    page.fill("#id_start-month", "1")
    page.fill("#id_start-year", "2025")
    page.locator("main").get_by_role("button", name="Show").click()
    expect(page.locator("main")).to_contain_text("escalations raised in the period", use_inner_text=True)
    screenshot(page, "reports-01-pdg")
    assert_accessible(page)
    # Printed for the meeting: the figures, and none of the drill-down addresses after them.
    assert page.locator(".accord-report a[href*='/escalations/?']").count() > 0  # on screen, they link
    page.emulate_media(media="print")
    printed = PdfReader(io.BytesIO(page.pdf(format="A4")))
    text = " ".join(p.extract_text() for p in printed.pages)
    assert "escalations raised in the period" in " ".join(text.split())
    assert "/escalations/?" not in text and "raised_from=" not in text
    page.emulate_media(media="screen")
    # The meeting pack: one click, a PDF.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the meeting pack (PDF)").click()
    pack = PdfReader(download.value.path())
    assert "escalations raised in the period" in " ".join(
        " ".join(p.extract_text() for p in pack.pages).split()
    )
    log_out(page)
    log_in(page, "executive")
    page.goto("/reports/pdg/")
    screenshot(page, "reports-02-executive")
    assert_accessible(page)
    assert "Timeliness" not in page.locator("main").inner_text()


def test_annual_report_page_is_accessible(page, demo_caseload):
    log_in(page, "executive")
    page.get_by_role("link", name="Annual report").click()
    assert page.locator("svg[role=img]").count() >= 3
    screenshot(page, "reports-03-annual")
    assert_accessible(page)
    # Every chart label at least the body text's size at 100 % zoom, and within its chart.
    sizes = page.evaluate(
        """() => {
        const body = parseFloat(getComputedStyle(document.querySelector('main .govuk-body')).fontSize);
        const texts = [...document.querySelectorAll('svg[role=img] text')].map(t => {
          const box = t.getBoundingClientRect(), svg = t.ownerSVGElement.getBoundingClientRect();
          const m = t.getScreenCTM();  // its scale, whether or not the label is turned
          return {size: parseFloat(t.getAttribute('font-size')) * Math.hypot(m.a, m.b),
                  inside: box.left >= svg.left - 1 && box.right <= svg.right + 1};
        });
        return {body, smallest: Math.min(...texts.map(t => t.size)), outside: texts.filter(t => !t.inside).length};
    }"""
    )
    assert sizes["smallest"] >= sizes["body"] - 0.5, sizes
    assert sizes["outside"] == 0, sizes


def test_the_iru_chair_finds_their_units_section(page, demo_caseload):
    log_in(page, "chair.iru")
    page.get_by_role("link", name="IRU report").click()
    page.fill("#id_start-day", "1")
    page.fill("#id_start-month", "1")
    page.fill("#id_start-year", "2025")
    page.locator("main").get_by_role("button", name="Show").click()
    expect(page.locator("main")).to_contain_text(
        "escalations arose in child protection conferences", use_inner_text=True
    )
    screenshot(page, "reports-04-iru")
    assert_accessible(page)


@pytest.mark.parametrize("username", ["pdg.chair", "executive"])
def test_every_report_table_reflows_or_scrolls_in_a_labelled_region_at_320_pixels(
    page, demo_caseload, username
):
    """WCAG 2.2 1.4.10 and 2.1.1: at 320 CSS pixels no report page scrolls sideways; every
    table either fits or scrolls in its own region, which is labelled and reached by the
    keyboard (the agency matrix too)."""
    log_in(page, username)
    page.set_viewport_size({"width": 320, "height": 800})
    for path in (
        "/reports/pdg/?start-day=1&start-month=1&start-year=2025",
        "/reports/annual/",
        "/reports/iru/",
    ):
        response = page.goto(path)
        if response.status == 403:
            continue
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path
        for region in page.locator("div.accord-table-scroll").all():
            assert region.get_attribute("role") == "region", path
            assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label"), path
        loose = page.evaluate(
            """() => [...document.querySelectorAll('main table')]
                .filter(t => !t.closest('.accord-table-scroll'))
                .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .map(t => t.querySelector('caption')?.innerText || t.className)"""
        )
        assert loose == [], (path, loose)
    screenshot(page, f"reports-05-phone-{username.replace('.', '-')}")


def test_the_agreed_actions_table_reflows_at_320_pixels(page, demo_caseload):
    """The agreed actions on an escalation: at 320 CSS pixels each action is a block with its
    column headings beside its values, and nothing scrolls sideways."""
    from accord.escalations.models import AgreedAction

    action = AgreedAction.objects.select_related("escalation__raised_by").first()
    assert action is not None, "the demo has agreed actions"
    log_in(page, action.escalation.raised_by.username)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/escalations/{action.escalation_id}/")
    table = page.locator("table.accord-reflow")
    expect(table).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = table.bounding_box()
    assert box["x"] + box["width"] <= 320
    cell = table.locator("td[data-label=Agency]").first
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert "Agency" in cell.evaluate("td => getComputedStyle(td, '::before').content")
    screenshot(page, "reports-06-agreed-actions-phone")
    assert_accessible(page)
