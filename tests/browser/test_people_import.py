"""The business unit brings in people from a spreadsheet in the browser: the dry run's problems
in plain words, then the import; axe on each page, and no sideways scroll at 320 pixels."""

import pytest

from .conftest import assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

HEADER = "name,email,agency,roles,line_manager_email\n"


def test_the_business_unit_checks_then_imports_people(page, demo_users, tmp_path):
    from accord.partnership.models import User
    from accord.web.demo import HEALTH

    bad = tmp_path / "people-with-a-problem.csv"
    bad.write_text(HEADER + f"Rae New,rae.new@health.example,{HEALTH},practitioner;wizard,\n")
    good = tmp_path / "people.csv"
    good.write_text(
        HEADER
        + f'Rae New,rae.new@health.example,"{HEALTH}",practitioner,\n'
        + f'Tom Lead,tom.lead@health.example,"{HEALTH}",manager,rae.new@health.example\n'
    )
    log_in(page, "admin")
    page.get_by_role("link", name="Add or update people from a spreadsheet").click()
    assert_accessible(page)
    page.set_input_files("input[type=file]", str(bad))
    page.get_by_role("button", name="Check the file").click()
    assert "Unknown role wizard" in page.get_by_test_id("refused").inner_text()
    assert page.get_by_role("button", name="Import these people").count() == 0
    assert_accessible(page)
    page.set_input_files("input[type=file]", str(good))
    page.get_by_role("button", name="Check the file").click()
    screenshot(page, "settings-01-people-dry-run")
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Import these people").click()
    assert "2 people added" in page.locator(".govuk-notification-banner, main").first.inner_text()
    assert User.objects.get(email="tom.lead@health.example").line_manager.email == "rae.new@health.example"
    assert_accessible(page)
