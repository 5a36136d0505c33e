"""The PDG standing item in the browser, on the demo caseload: screenshot and axe."""

import io

import pytest
from pypdf import PdfReader

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_caseload(demo_users):
    from accord.web.demo import load_caseload

    partnership, users = demo_users
    load_caseload(partnership, users)
    return partnership


def test_pdg_report_and_the_executive_view(page, demo_caseload):
    log_in(page, "pdg.chair")
    page.get_by_role("link", name="Practice Development Group report").click()
    page.fill("#id_start-day", "1")
    page.fill("#id_start-month", "1")
    page.fill("#id_start-year", "2025")
    page.locator("main").get_by_role("button", name="Show").click()
    assert "escalations raised in the period" in page.locator("main").inner_text()
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
    assert "escalations arose in child protection conferences" in page.locator("main").inner_text()
    screenshot(page, "reports-04-iru")
    assert_accessible(page)
