"""Log-in as two roles, each sees their home page; axe finds no WCAG 2.2 A/AA violations."""

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser


def test_log_in_page_is_accessible(page, demo_users):
    page.goto("/login/")
    assert page.locator("h1").inner_text() == "Sign in to Accord"
    expect(page.locator("[data-testid=emergency-notice]")).to_contain_text("999", use_inner_text=True)
    screenshot(page, "shell-01-login")
    assert_accessible(page)


def test_log_in_errors_are_accessible(page, demo_users):
    page.goto("/login/")
    page.click("button:has-text('Sign in')")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    screenshot(page, "shell-02-login-errors")
    assert_accessible(page)


def test_two_roles_see_their_own_home_pages(page, demo_users):
    log_in(page, "practitioner.health")
    assert page.locator("h1").inner_text() == "My work"
    expect(page.get_by_role("link", name="Raise an escalation").first).to_be_visible()
    screenshot(page, "shell-03-home-practitioner")
    assert_accessible(page)
    log_out(page)

    log_in(page, "executive")
    assert page.locator("h1").inner_text() == "Devon Safeguarding Children Partnership"
    expect(page.get_by_text("Open escalations by stage")).to_be_visible()
    assert page.get_by_role("link", name="Raise an escalation").count() == 0
    screenshot(page, "shell-04-home-executive")
    assert_accessible(page)


def test_error_pages_are_accessible(page, demo_users):
    log_in(page, "practitioner.health")
    response = page.goto("/no-such-page/")
    assert response.status == 404
    screenshot(page, "shell-05-404")
    assert_accessible(page)
    response = page.goto("/escalations/999999/")
    assert response.status == 404
    log_out(page)
    log_in(page, "executive")
    response = page.goto("/escalations/raise/")
    assert response.status == 403
    screenshot(page, "shell-06-403")
    assert_accessible(page)


def test_two_step_verification_page_is_accessible(page, demo_users):
    from accord.web.demo import DEMO_PASSWORD, demo_totp_code

    page.goto("/login/")
    page.fill("#id_username", "pdg.chair")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/login/verify/**")
    screenshot(page, "shell-07-two-step")
    assert_accessible(page)
    page.fill("#id_code", demo_totp_code())
    page.click("button:has-text('Continue')")
    page.wait_for_url(lambda url: "/login/" not in url)
    assert page.locator("h1").inner_text() == "My work"


def test_the_list_filters_by_date_and_is_accessible(page, demo_users):
    log_in(page, "manager.health")
    page.goto("/escalations/")
    expect(page.get_by_role("group", name="Raised on or after")).to_be_visible()
    page.get_by_role("group", name="Raised on or after").get_by_label("Day").fill("1")
    page.get_by_role("group", name="Raised on or after").get_by_label("Month").fill("1")
    page.get_by_role("group", name="Raised on or after").get_by_label("Year").fill("2020")
    page.get_by_role("group", name="Raised on or before").get_by_label("Day").fill("31")
    page.get_by_role("group", name="Raised on or before").get_by_label("Month").fill("2")
    page.get_by_role("group", name="Raised on or before").get_by_label("Year").fill("2021")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_text("The latest date raised must be a real date")).to_be_visible()
    screenshot(page, "shell-07-list-date-error")
    assert_accessible(page)

    page.get_by_role("group", name="Raised on or before").get_by_label("Day").fill("28")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status")).to_contain_text("escalation")
    assert "raised_from-year=2020" in page.url
    screenshot(page, "shell-08-list-dates")
    assert_accessible(page)


@pytest.mark.parametrize("path", ["/", "/escalations/"])
def test_escalation_tables_reflow_on_a_phone_and_keep_their_references_whole_on_a_desktop(
    page, demo_users, path
):
    """WCAG 2.2 1.4.10: at 320 CSS pixels the page never scrolls sideways (a wide table
    scrolls within its own region, which the keyboard can reach); at desktop width a
    reference sits on one line."""
    from accord.web.demo import load_caseload

    load_caseload(*demo_users)
    log_in(page, "manager.social")
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(path)
    region = page.locator("div.accord-table-scroll[role=region]").first
    expect(region).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
    screenshot(page, f"shell-08-table-phone{path.replace('/', '-').rstrip('-')}")
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(path)
    link = page.locator("div.accord-table-scroll td a.govuk-link").first
    line_height = float(link.evaluate("a => getComputedStyle(a).lineHeight").removesuffix("px"))
    assert link.bounding_box()["height"] < 1.5 * line_height  # one line, not broken up


@pytest.mark.parametrize(
    ("username", "path"),
    [
        ("pdg.chair", "/reports/pdg/"),
        ("pdg.chair", "/reports/annual/"),
        ("auditor", "/audit/"),
        ("practitioner.health", "/account/two-step/"),
    ],
)
def test_report_audit_and_two_step_pages_reflow_on_a_phone(page, demo_users, username, path):
    """WCAG 2.2 1.4.10 on the pages with wide tables or a long key: at 320 CSS pixels the
    page never scrolls sideways; a table that needs more room scrolls in its own labelled
    region, which the keyboard can reach."""
    from accord.web.demo import load_caseload

    load_caseload(*demo_users)
    log_in(page, username)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    for region in page.locator("div.accord-table-scroll").all():
        wide = region.evaluate("r => r.scrollWidth > r.clientWidth")
        has_link = region.locator("a").count() > 0
        if wide and not has_link:
            assert region.get_attribute("tabindex") == "0" and region.get_attribute("aria-label")
    if path == "/account/two-step/":
        key = page.get_by_test_id("totp-secret").inner_text()
        assert all(len(group) == 4 for group in key.split()[:-1])  # in groups of four
    screenshot(page, f"shell-09-phone{path.replace('/', '-').rstrip('-')}")
    assert_accessible(page)


def test_a_warning_before_the_idle_limit_offers_to_stay_signed_in(page, demo_users, settings):
    """WCAG 2.2.1: before the idle limit signs someone out the page says so, in a dialog the
    keyboard lands in, and "Stay signed in" restarts the limit; when it runs out the page
    says they were signed out and how to carry on. (The page's clock is Playwright's, moved
    on by the test, so no minute passes; the server's limit is long enough not to run out.)"""
    settings.SESSION_COOKIE_AGE = 120
    settings.SESSION_WARN_SECONDS = 60
    settings.SESSION_RENEW_SECONDS = 0
    page.clock.install()
    log_in(page, "practitioner.health")
    page.goto("/")
    dialog = page.locator("#accord-timeout")
    page.clock.run_for(55_000)
    expect(dialog).to_be_hidden()  # not before the warning's minute
    page.clock.run_for(7_000)
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("You will be signed out soon")
    expect(dialog.get_by_role("button", name="Stay signed in")).to_be_focused()
    expect(dialog.get_by_role("button", name="Close")).to_be_hidden()
    screenshot(page, "shell-10-signed-out-soon")
    assert_accessible(page)
    page.keyboard.press("Enter")  # Stay signed in
    expect(dialog).to_be_hidden()
    assert page.evaluate("fetch('/', {redirect: 'manual'}).then(r => r.status)") == 200  # still signed in
    page.clock.run_for(62_000)
    expect(dialog).to_be_visible()  # warned again before the new limit
    expect(dialog.get_by_role("heading")).to_have_text("You will be signed out soon")
    page.clock.run_for(60_000)
    expect(dialog.get_by_role("heading")).to_have_text("You have been signed out")
    expect(dialog.get_by_role("link", name="Sign in again")).to_be_focused()
    screenshot(page, "shell-11-signed-out")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
