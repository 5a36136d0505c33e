"""The business unit brings in people from a spreadsheet in the browser: the dry run's problems
in plain words, then the import; axe on each page, and no sideways scroll at 320 pixels."""

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

HEADER = "name,email,agency,roles,line_manager_email\n"
HEALTH_NAME = "Royal Devon University Healthcare NHS Foundation Trust"
SOCIAL_NAME = "Devon County Council Children's Services"


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
    expect(page.get_by_test_id("refused")).to_contain_text("Unknown role wizard", use_inner_text=True)
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
    expect(page.locator(".govuk-notification-banner, main").first).to_contain_text(
        "2 people added", use_inner_text=True
    )
    assert User.objects.get(email="tom.lead@health.example").line_manager.email == "rae.new@health.example"
    assert_accessible(page)


def test_the_business_unit_brings_in_its_earlier_log(page, demo_users, tmp_path):
    from accord.escalations.models import Escalation
    from accord.web.demo import HEALTH, SOCIAL

    log = tmp_path / "challenge-log.csv"
    log.write_text(
        "Reference,Raised by,Raised with,Date raised,Date closed,Stage reached,Outcome,Kind\n"
        f'CL-1,"{HEALTH}","{SOCIAL}",03/02/2025,20/02/2025,2,Decision changed,case\n'
        f'CL-2,"{SOCIAL}","{HEALTH}",10/03/2025,,1,withdrawn,case\n'
    )
    log_in(page, "admin")
    page.get_by_role("link", name="Bring in the earlier log of escalations").click()
    page.get_by_label("Upload the earlier log").wait_for()  # on the page it leads to
    assert_accessible(page)
    page.get_by_label("Upload the earlier log").set_input_files(str(log))
    page.get_by_role("button", name="Upload and choose the columns").click()
    # The columns named like Accord's fields are chosen already.
    assert page.get_by_label("Date raised").input_value() == "Date raised"
    page.get_by_label("Highest stage reached").select_option("Stage reached")
    page.get_by_label("Agency that raised it").select_option("Raised by")
    page.get_by_label("Agency it was with").select_option("Raised with")
    page.get_by_label("Kind (a child, or a theme)").select_option("Kind")
    assert_accessible(page)
    page.get_by_role("button", name="Continue: map the log's words").click()
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_test_id("refused")).to_contain_text(
        "It has an outcome but no date closed", use_inner_text=True
    )
    assert page.get_by_role("button", name="Bring in these escalations").count() == 0
    assert_accessible(page)

    log.write_text(
        "Reference,Raised by,Raised with,Date raised,Date closed,Stage reached,Outcome,Kind\n"
        f'CL-1,"{HEALTH}","{SOCIAL}",03/02/2025,20/02/2025,2,Decision changed,case\n'
        f'CL-2,"{SOCIAL}","{HEALTH}",10/03/2025,02/04/2025,1,withdrawn,case\n'
    )
    page.get_by_label("Upload the earlier log").set_input_files(str(log))
    page.get_by_role("button", name="Upload and choose the columns").click()
    page.get_by_label("Highest stage reached").select_option("Stage reached")
    page.get_by_label("Agency that raised it").select_option("Raised by")
    page.get_by_label("Agency it was with").select_option("Raised with")
    page.get_by_label("Kind (a child, or a theme)").select_option("Kind")
    page.get_by_role("button", name="Continue: map the log's words").click()
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_test_id("planned")).to_contain_text("2 escalations to bring in", use_inner_text=True)
    screenshot(page, "settings-02-earlier-log-dry-run")
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Bring in these escalations").click()
    expect(page.locator("main")).to_contain_text("2 escalations brought in", use_inner_text=True)
    assert Escalation.objects.filter(imported_in__isnull=False).count() == 2
    assert_accessible(page)
    # What was brought in is listed on the import's own page; removing it is done from the
    # list of imports on the earlier log's page.
    page.goto("/business-unit/escalations/import/")
    page.get_by_role("link", name="Remove import").first.click()
    assert_accessible(page)
    screenshot(page, "settings-03-earlier-log-remove")
    page.get_by_role("button", name="Remove them").click()
    assert Escalation.objects.filter(imported_in__isnull=False).count() == 0
    expect(page.get_by_test_id("imports")).to_contain_text("Removed on", use_inner_text=True)


def test_an_earlier_log_with_open_rows_is_brought_in_with_its_words_mapped_on_the_page(
    page, demo_users, tmp_path
):
    """The log's own words ("Royal Devon", "Level 2", "Resolved - agreed", "Ongoing") are each
    listed with a choice beside them, close matches chosen already; the row still open is
    listed at its stage with its due date, confirmed, and then stands there."""
    from accord.escalations.models import Escalation
    from accord.partnership.models import Partnership

    log = tmp_path / "old-log.csv"
    log.write_text(
        "Ref,From,To,Opened,Closed,Level,Result,Kind\n"
        "R-1,Royal Devon,Devon Children's Services,03/02/2025,20/02/2025,Level 2,Resolved - agreed,case\n"
        "R-2,Devon Children's Services,Royal Devon,10/11/2025,,Level 2,Ongoing,case\n"
    )
    log_in(page, "admin")
    page.get_by_role("link", name="Bring in the earlier log of escalations").click()
    page.get_by_label("Upload the earlier log").set_input_files(str(log))
    page.get_by_role("button", name="Upload and choose the columns").click()
    page.get_by_label("Agency that raised it").select_option("From")
    page.get_by_label("Agency it was with").select_option("To")
    page.get_by_label("Date raised").select_option("Opened")
    page.get_by_label("Date closed (empty while still open)").select_option("Closed")
    page.get_by_label("Highest stage reached").select_option("Level")
    page.get_by_label("Outcome").select_option("Result")
    page.get_by_label("Reference in the earlier log").select_option("Ref")
    page.get_by_role("button", name="Continue: map the log's words").click()
    # Each distinct value with a choice beside it: the close ones chosen already.
    expect(page.get_by_test_id("words").first).to_be_visible()
    devon = Partnership.objects.get(slug="devon")
    stage_2 = devon.stages.get(number=2)
    assert page.get_by_label("Royal Devon").first.input_value() == HEALTH_NAME
    assert page.get_by_label("Level 2").input_value() == stage_2.key
    assert_accessible(page)
    page.get_by_label("Resolved - agreed").select_option("agreed_way_forward")
    page.get_by_label("Ongoing").select_option("open")
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_test_id("still-open")).to_contain_text("R-2", use_inner_text=True)
    assert not Escalation.objects.filter(imported_in__isnull=False).exists()
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 900})
    # Not confirmed: nothing is written, and the page says so.
    page.get_by_role("button", name="Bring in these escalations").click()
    expect(page.locator(".govuk-error-summary").first).to_contain_text(
        "confirm where each escalation still open", use_inner_text=True
    )
    page.get_by_label("I have checked where each escalation still open will stand").check()
    page.get_by_role("button", name="Bring in these escalations").click()
    expect(page.locator("main")).to_contain_text("2 escalations brought in", use_inner_text=True)
    standing = Escalation.objects.get(imported_reference="R-2")
    assert (standing.status, standing.stage, standing.raising_agency.name) == ("open", 2, SOCIAL_NAME)
    assert standing.due_date is not None and standing.stage_periods.get().stage_key == stage_2.key
    closed = Escalation.objects.get(imported_reference="R-1")
    assert (
        closed.resolutions.get().outcome == "agreed_way_forward" and closed.raising_agency.name == HEALTH_NAME
    )


def test_the_business_unit_merges_two_agencies(page, demo_users):
    from accord.partnership.models import Agency
    from accord.web.demo import PROBATION, VOLUNTARY

    log_in(page, "admin")
    page.get_by_role("link", name="Merge two agencies").click()
    assert_accessible(page)
    page.get_by_label("The agency to merge").select_option(label=VOLUNTARY)
    page.get_by_label("The agency it becomes part of").select_option(label=PROBATION)
    page.get_by_role("button", name="Check what would move").click()
    assert_accessible(page)
    screenshot(page, "settings-04-agency-merge")
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Merge them").click()
    expect(page.locator("main")).to_contain_text("is now part of", use_inner_text=True)
    assert Agency.objects.get(name=VOLUNTARY).merged_into.name == PROBATION
