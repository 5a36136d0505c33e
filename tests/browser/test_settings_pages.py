"""The business unit's settings pages in the browser: reached from the service navigation, every
page axe-clean and usable at 320 pixels wide without sideways scrolling, a stage changed
through the due-date preview, a person added and given a role, an agency and a theme changed."""

import pytest
from playwright.sync_api import expect

from .conftest import assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser


def fits_320(page) -> None:
    page.set_viewport_size({"width": 320, "height": 800})
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 320, f"{page.url} is {width}px wide at 320px"


def check(page, name: str) -> None:
    assert_accessible(page)
    fits_320(page)
    screenshot(page, name)


def test_every_settings_page_is_accessible_and_fits_a_phone(page, demo_users):
    from accord.partnership.models import PracticeTheme, RoleAssignment, Stage, User
    from accord.web.demo import HEALTH, load_caseload

    partnership, users = demo_users
    load_caseload(partnership, users)  # escalations open at every stage
    log_in(page, "admin")
    page.get_by_role("link", name="Partnership settings").first.click()
    expect(page.get_by_role("heading", name="Partnership settings")).to_be_visible()
    check(page, "settings-10-home")

    page.get_by_role("link", name="Change the partnership's settings").click()
    check(page, "settings-11-partnership")
    page.get_by_label("Smallest count the executive's reports show").fill("1")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Smallest count the executive's reports show").fill("6")
    page.get_by_role("button", name="Save the settings").click()
    expect(page.locator("main")).to_contain_text("settings are saved")

    page.get_by_role("link", name="The stages, who works them").click()
    check(page, "settings-12-protocol")
    page.get_by_role("link", name="Change stage 1").click()
    check(page, "settings-13-stage")
    page.get_by_label("Working days to resolve it: routine").fill("4")
    page.get_by_role("button", name="Save the stage").click()
    # The demo has escalations open at stage 1: their due dates are listed first.
    expect(page.get_by_test_id("moved")).to_be_visible()
    check(page, "settings-14-stage-moves-due-dates")
    assert Stage.objects.get(partnership=partnership, number=1).routine_working_days != 4
    page.get_by_label("Save, with the changes to open escalations listed").check()
    page.get_by_role("button", name="Save the stage").click()
    expect(page.locator("main")).to_contain_text("Stage 1 is saved")
    assert Stage.objects.get(partnership=partnership, number=1).routine_working_days == 4
    # The change made a version: the list says who made it and what it changed.
    page.goto("/business-unit/settings/protocol/")
    page.get_by_role("link", name="Its versions: who changed what, and when").click()
    expect(page.get_by_test_id("versions")).to_contain_text("4 working days routine")
    check(page, "settings-14a-versions")
    page.get_by_test_id("versions").get_by_role("link").first.click()
    expect(page.get_by_test_id("changes")).to_contain_text("4 working days routine")
    check(page, "settings-14b-version")

    for link, name in (
        ("Change the formal body", "settings-15-formal-body"),
        ("Add a priority", "settings-16-priority"),
        ("Add a limit on working days", "settings-17-budget"),
        ("Add a stage (at the top, or above any stage)", "settings-18-new-stage"),
    ):
        page.goto("/business-unit/settings/protocol/")
        page.get_by_role("link", name=link).click()
        check(page, name)

    page.goto("/business-unit/settings/")
    page.get_by_role("link", name="People, their roles and line managers").click()
    check(page, "settings-19-people")
    page.get_by_label("Name or email").fill("health")
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_test_id("people")).to_be_visible()
    page.get_by_role("link", name="Add a person").click()
    check(page, "settings-20-person-new")
    page.get_by_label("First name").fill("Nia")
    page.get_by_label("Last name").fill("Newcombe")
    page.get_by_label("Email address").fill("nia.newcombe@health.example")
    page.get_by_label("Agency").select_option(label=HEALTH)
    manager = User.objects.get(username="manager.health")
    page.get_by_label("Their line manager's email (optional)").fill(manager.email)
    page.get_by_label("Practitioner", exact=True).check()
    page.get_by_role("button", name="Add the person").click()
    expect(page.locator("main")).to_contain_text("Nia Newcombe is added")
    person = User.objects.get(email="nia.newcombe@health.example")
    assert RoleAssignment.objects.filter(user=person, partnership=partnership, role="practitioner").exists()
    check(page, "settings-21-person")

    page.goto("/business-unit/agencies/")
    page.get_by_role("link", name=HEALTH).click()
    check(page, "settings-22-agency")

    page.goto("/business-unit/settings/")
    page.get_by_role("link", name="Areas of disagreement and practice themes").click()
    check(page, "settings-23-taxonomies")
    theme = PracticeTheme.objects.filter(partnership=partnership).order_by("position", "label").first()
    page.get_by_role("link", name=f"Change {theme.label}").click()
    check(page, "settings-24-theme")
    page.get_by_label("Offered when raising").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("is saved")
    theme.refresh_from_db()
    assert not theme.is_active


def test_a_whole_protocol_brought_in_for_the_years_review(page, demo_users, tmp_path):
    import json

    from accord.partnership.protocol import document_of
    from accord.web.demo import load_caseload

    partnership, users = demo_users
    load_caseload(partnership, users)
    document = document_of(partnership)
    document["stages"][0]["routine_working_days"] = 4
    edited = tmp_path / "protocol.json"
    edited.write_text(json.dumps(document))
    log_in(page, "admin")
    page.goto("/business-unit/settings/protocol/")
    page.get_by_role("link", name="Bring in a whole protocol").click()
    check(page, "settings-29-protocol-upload")
    page.get_by_label("Upload the protocol (JSON)").set_input_files(str(edited))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("checked")).to_be_visible()
    expect(page.get_by_test_id("moved")).to_be_visible()
    check(page, "settings-30-protocol-checked")
    page.get_by_label("Save, with the changes to open escalations listed").check()
    page.get_by_role("button", name="Use this protocol").click()
    expect(page.locator("main")).to_contain_text("The protocol is in use")


def test_the_pdg_meetings_and_the_api_tokens_pages(page, demo_users):
    from accord.api.services import api_token_create
    from accord.partnership.models import User
    from accord.reports.models import MeetingAction

    _partnership, users = demo_users
    api_token_create(
        actor=users["practitioner.health"], user=users["practitioner.health"], name="Case system"
    )
    log_in(page, "admin")
    page.goto("/business-unit/settings/")
    page.get_by_role(
        "link", name="Meetings of the Practice Development Group and what they asked for"
    ).click()
    check(page, "settings-25-meetings")
    page.get_by_role("link", name="Record a meeting").click()
    check(page, "settings-26-meeting-new")
    page.get_by_label("Day").fill("3")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("What the meeting discussed (optional)").fill("The quarter's escalations")
    page.get_by_role("button", name="Save the meeting's record").click()
    expect(page.locator("main")).to_contain_text("The meeting's record is saved")
    page.get_by_label("What the meeting asked for").fill("Brief the health teams")
    page.get_by_label("The email of the person it was asked of").fill(
        User.objects.get(username="manager.health").email
    )
    page.locator("#id_action-due_on").get_by_label("Day").fill("20")
    page.locator("#id_action-due_on").get_by_label("Month").fill("12")
    page.locator("#id_action-due_on").get_by_label("Year").fill("2026")
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_test_id("actions")).to_contain_text("Brief the health teams")
    assert MeetingAction.objects.filter(owner__username="manager.health").exists()
    check(page, "settings-27-meeting")

    page.goto("/business-unit/settings/")
    page.get_by_role("link", name="The API tokens of the partnership's people").click()
    check(page, "settings-28-api-tokens")
    page.get_by_role("button", name="Revoke").first.click()
    expect(page.locator("main")).to_contain_text("is revoked")
