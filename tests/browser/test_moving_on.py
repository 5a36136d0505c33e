"""People moving on and resolutions followed up, in the browser: the reassignment page and the
follow-up some weeks after a resolution, each checked by axe and screenshotted, and the PDG
meeting's action page its owner marks done."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accord.escalations.models import Escalation, Outcome
from accord.partnership.models import Agency, User
from accord.testing.factories import raise_details

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser


def test_reassigning_and_following_up(page, demo_users):
    from accord.core import clock
    from accord.escalations import services

    partnership, _users = demo_users
    social = Agency.objects.get(name="Devon County Council Children's Services")
    health = User.objects.get(username="practitioner.health")
    seven_weeks_ago = timezone.now() - dt.timedelta(weeks=7)
    with clock.set_to(seven_weeks_ago):
        e = services.escalation_raise(
            actor=health,
            partnership=partnership,
            details=raise_details(with_agency=social, with_practitioner_username="practitioner.social"),
            immediate_danger=False,
        )
    open_one = services.escalation_raise(
        actor=health,
        partnership=partnership,
        details=raise_details(with_agency=social, with_practitioner_username="practitioner.social"),
        immediate_danger=False,
    )
    with clock.set_to(seven_weeks_ago + dt.timedelta(days=2)):
        services.escalation_resolve(
            actor=User.objects.get(username="manager.social"),
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="A joint visit and one plan.",
            child_centred_outcome_achieved="yes",
        )
    log_in(page, "manager.health")
    page.goto(f"/escalations/{open_one.pk}/")
    page.get_by_role("link", name="Hand the raiser's or a named practitioner's part to someone else").click()
    page.locator("main").get_by_role("button", name="Reassign").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    screenshot(page, "moving-01-reassign-error")
    assert_accessible(page)
    log_out(page)
    log_in(page, "practitioner.health")
    page.goto(f"/escalations/{e.pk}/")
    page.get_by_role("link", name="Say whether the agreed way forward held").click()
    page.get_by_label("Partly").check()
    page.get_by_label("What changed for the child?").fill("Attendance is up; the home is still cold.")
    screenshot(page, "moving-02-follow-up")
    assert_accessible(page)
    page.locator("main").get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("Attendance is up", use_inner_text=True)
    assert_accessible(page)
    assert Escalation.objects.get(pk=e.pk).follow_ups.get().held == "partly"
