"""Bringing another agency into a difference and taking it out, in the browser: each page
screenshotted and checked by axe, the escalation's page listing every agency it is with."""

import pytest
from playwright.sync_api import expect

from accord.escalations.models import Escalation
from accord.partnership.models import Agency, User
from accord.testing.factories import raise_details

from .conftest import assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser


def test_an_agency_brought_in_and_taken_out(page, demo_users):
    from accord.escalations import services

    partnership, _users = demo_users
    social = Agency.objects.get(name="Devon County Council Children's Services")
    e = services.escalation_raise(
        actor=User.objects.get(username="practitioner.health"),
        partnership=partnership,
        details=raise_details(with_agency=social, with_practitioner_username="practitioner.social"),
        immediate_danger=False,
    )
    log_in(page, "manager.health")
    page.goto(f"/escalations/{e.pk}/")
    page.get_by_role("link", name="Bring another agency into the difference").click()
    page.locator("main").get_by_role("button", name="Bring the agency in").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    screenshot(page, "parties-01-add-error")
    assert_accessible(page)
    # The same pickers as raising: the agency typed and chosen, the practitioner found by name.
    page.locator("input#id_agency").press_sequentially("Devon & Corn")
    page.locator("#id_agency__listbox li", has_text="Devon & Cornwall Police").first.click()
    page.locator("#id_practitioner").press_sequentially("practitioner.police")
    page.locator("#id_practitioner__listbox li", has_text="practitioner.police").first.click()
    page.get_by_label("Why is this agency part of the difference?").fill("The police attended the incident.")
    screenshot(page, "parties-02-add")
    assert_accessible(page)
    page.locator("main").get_by_role("button", name="Bring the agency in").click()
    parties = page.get_by_test_id("parties")
    expect(parties).to_contain_text("Devon & Cornwall Police")
    screenshot(page, "parties-03-escalation")
    assert_accessible(page)
    parties.get_by_role("link", name="Take out Devon & Cornwall Police").click()
    page.get_by_label("Why is this agency no longer part of the difference?").fill("Brought in by mistake.")
    screenshot(page, "parties-04-remove")
    assert_accessible(page)
    page.locator("main").get_by_role("button", name="Take the agency out").click()
    expect(page.get_by_test_id("parties")).not_to_contain_text("Devon & Cornwall Police")
    assert not Escalation.objects.get(pk=e.pk).others()
