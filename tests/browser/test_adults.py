"""A Safeguarding Adults Board (the ``staffordshire-adults`` preset): a practitioner raises a
difference about an adult at risk in the same five pages as a child's, saying whether the
adult knows of it, their views and wishes and whether an advocate is involved; the pages speak
of the adult, every one axe-clean at a desktop's width and a phone's; the escalation's page
shows the adult's view to a party."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accord.escalations.models import Escalation
from accord.partnership.protocol import install_ladder, preset

from .conftest import assert_accessible, log_in, screenshot

pytestmark = pytest.mark.browser

VIEWS = "She wants to stay in her flat, with carers twice a day."


def arrive(page, name: str) -> None:
    assert_accessible(page)
    page.set_viewport_size({"width": 320, "height": 800})
    assert_accessible(page)
    screenshot(page, f"adults-{name}-320")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_difference_about_an_adult_records_their_view_in_five_pages(page, demo_users):
    partnership, _people = demo_users
    install_ladder(partnership, preset("staffordshire-adults"))
    log_in(page, "practitioner.health")
    page.get_by_role("link", name="Raise an escalation").first.click()
    page.get_by_role("button", name="Start now").click()
    pages = 0

    # 1. The safety question.
    pages += 1
    arrive(page, "danger")
    page.get_by_label("No").check()
    page.get_by_role("button", name="Continue").click()

    # 2. With whom, and whom it is about.
    pages += 1
    expect(page.locator("h1")).to_have_text("Who the difference is with")
    arrive(page, "with")
    page.get_by_label("A person or a family").check()
    page.get_by_label("An adult at risk").check()
    page.locator("input#id_with_agency").press_sequentially("Devon Co")
    page.locator("#id_with_agency__listbox li", has_text="Devon County Council").first.click()
    page.get_by_role("button", name="Continue").click()

    # 3. The adult, and their own part in it.
    pages += 1
    expect(page.locator("h1")).to_have_text("The adult")
    arrive(page, "adult")
    expect(page.locator("legend", has_text="Adult 1")).to_be_visible()
    page.get_by_label("Name or initials").first.fill("M.P.")
    page.get_by_role("group", name="Does the adult know about this difference?").get_by_label("Yes").check()
    page.get_by_label("The adult's views and wishes (optional)").fill(VIEWS)
    page.get_by_role("group", name="Is an advocate involved? (optional)").get_by_label(
        "An advocate is being arranged"
    ).check()
    page.get_by_role("button", name="Continue").click()

    # 4. The difference, in the adult's words.
    pages += 1
    expect(page.locator("h1")).to_have_text("The difference")
    arrive(page, "difference")
    page.get_by_label("Summary of the difference").fill("Care package reduced after the review")
    page.get_by_label("What worries you for the adult?").fill("Falls at night and missed medication")
    page.get_by_label("Routine", exact=False).first.check()
    page.get_by_role("group", name="Areas of disagreement").get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Continue").click()

    # 5. Check your answers, then raise it.
    pages += 1
    expect(page.locator("h1")).to_have_text("Check your answers before raising the escalation")
    arrive(page, "check")
    expect(page.get_by_text(VIEWS)).to_be_visible()
    page.get_by_role("button", name="Raise the escalation").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("Escalation raised")
    assert pages == 5

    escalation = Escalation.objects.get(summary="Care package reduced after the review")
    assert (
        escalation.subject,
        escalation.adult_aware,
        escalation.adult_views,
        escalation.adult_advocate,
    ) == (
        "adult",
        "yes",
        VIEWS,
        "being_arranged",
    )
    assert escalation.children.get().name == "M.P."

    # The escalation's page shows the adult's view to a party, in the adult's words.
    page.goto(f"/escalations/{escalation.pk}/")
    expect(page.get_by_test_id("adult-views")).to_have_text(VIEWS)
    expect(page.get_by_test_id("subject")).to_have_text("An adult at risk")
    arrive(page, "escalation")
