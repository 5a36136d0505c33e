"""What a public body publishes, in the browser: the accessibility statement and the privacy
notice from the sign-in page's footer (no sign-in needed), the business unit's page that keeps
them, and the auditor's home page at 320 pixels: axe clean, no sideways scroll."""

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser


def test_the_statements_from_the_footer_and_the_page_that_keeps_them(page, demo_users):
    page.goto("/login/")
    page.locator("footer").get_by_role("link", name="Accessibility statement").click()
    expect(page.locator("main")).to_contain_text("Enforcement procedure", use_inner_text=True)
    screenshot(page, "public-01-accessibility-statement")
    assert_accessible(page)
    page.goto("/login/")
    page.locator("footer").get_by_role("link", name="Privacy notice").click()
    assert_accessible(page)
    log_in(page, "admin")
    page.get_by_role("link", name="Keep the accessibility statement and privacy notice").click()
    assert_accessible(page)
    page.get_by_label("Email for accessibility problems and other formats").fill("access@devon.example")
    page.fill("#id_last_reviewed-day", "1")
    page.fill("#id_last_reviewed-month", "12")
    page.fill("#id_last_reviewed-year", "2026")
    page.get_by_role("button", name="Save").click()
    page.locator("footer").get_by_role("link", name="Accessibility statement").click()
    text = page.locator("main").inner_text()
    assert "access@devon.example" in text and "1 December 2026" in text


@pytest.mark.parametrize("username", ["auditor", "admin"])
def test_home_pages_do_not_scroll_sideways_on_a_phone(page, demo_caseload, username):
    log_in(page, username)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)
