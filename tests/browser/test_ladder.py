"""The whole ladder in the browser, as the demo users would walk it.

A health practitioner raises a case escalation with children's social care; the
parties record discussions; managers and senior leaders take it up; it is
formally escalated; the PDG appoints a facilitator; the social care senior
leader records the resolution. Every page is screenshotted and checked by axe.
"""

import time

import pytest
from playwright.sync_api import expect

from accord.escalations.models import Escalation, Status

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser


def check_page(page, name):
    screenshot(page, name)
    assert_accessible(page)


def submit(page, label="Save"):
    page.locator("main").get_by_role("button", name=label, exact=True).click()


def test_the_whole_ladder(page, demo_users):
    # ---- 1. raising, as a health practitioner
    log_in(page, "practitioner.health")
    started = time.monotonic()
    page.get_by_role("link", name="Raise an escalation").first.click()
    check_page(page, "ladder-01-start")
    page.get_by_role("button", name="Start now").click()
    check_page(page, "ladder-02-danger")
    page.get_by_label("No").check()
    submit(page, "Continue")

    check_page(page, "ladder-03-with")
    page.get_by_label("A child or children").check()
    page.locator("input#id_with_agency").press_sequentially("Devon County")
    page.locator("#id_with_agency__listbox li", has_text="Devon County Council").first.click()
    page.locator("#id_with_practitioner").press_sequentially("Okafor")
    page.locator("#id_with_practitioner__listbox li", has_text="Sam Okafor").first.click()
    # The police are part of the difference too: a practitioner there, named.
    page.get_by_role("button", name="Add an agency").click()
    page.locator("input#id_other_1_agency").press_sequentially("Devon & Corn")
    page.locator("#id_other_1_agency__listbox li", has_text="Devon & Cornwall Police").first.click()
    page.locator("#id_other_1_practitioner").press_sequentially("practitioner.police")
    page.locator("#id_other_1_practitioner__listbox li", has_text="practitioner.police").first.click()
    check_page(page, "ladder-04-with")
    submit(page, "Continue")

    # Leaving the child's name out gives a GOV.UK error, and nothing typed is lost.
    page.fill("#id_child_1_agency_reference", "RD-55012")
    submit(page, "Continue")
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert page.locator("#id_child_1_agency_reference").input_value() == "RD-55012"
    check_page(page, "ladder-05-children-error")
    page.fill("#id_child_1_name", "Ocean Pemberton-Vale")
    page.fill("#id_child_1_date_of_birth-day", "14")
    page.fill("#id_child_1_date_of_birth-month", "2")
    page.fill("#id_child_1_date_of_birth-year", "2019")
    submit(page, "Continue")

    check_page(page, "ladder-06-difference")
    page.fill("#id_summary", "Closure after assessment despite missed appointments")
    page.fill("#id_concern", "The child's health needs are not being met.")
    page.get_by_label("Routine").check()
    page.get_by_label("Levels of risk, need or threshold").check()
    page.get_by_label("Neglect").check()
    page.get_by_label("Parental mental health").check()
    submit(page, "Continue")

    # More detail and evidence, offered from the check page (none of it needed to raise).
    page.get_by_role("link", name="Add more detail (optional)").click()
    page.fill("#id_decision_challenged", "The case was closed after the single assessment.")
    page.fill("#id_evidence", "Three missed appointments since August.")
    page.fill("#id_child_voice", "Ocean says the house is cold at night.")
    page.get_by_label("Yes").check()
    page.fill("#id_tried_so_far", "Two calls with the social worker.")
    page.fill("#id_desired_outcome", "A strategy discussion.")
    page.fill("#id_reflection", "This reminds me of a family I worked with before.")
    check_page(page, "ladder-07-more")
    submit(page, "Save and check your answers")
    page.get_by_role("link", name="Attach evidence documents (optional)").click()
    page.get_by_label("Attach an evidence document (optional)").set_input_files(
        files=[{"name": "chronology.txt", "mimeType": "text/plain", "buffer": b"12 Aug: missed appointment"}]
    )
    page.get_by_label("What is it? (optional)").fill("Chronology")
    submit(page, "Attach this document")
    expect(page.get_by_test_id("draft-documents").get_by_role("term")).to_have_text("chronology.txt")
    check_page(page, "ladder-08-evidence")
    submit(page, "Continue")

    check_page(page, "ladder-10-check-answers")
    expect(page.get_by_text("Ocean Pemberton-Vale")).to_be_visible()
    expect(page.get_by_text("chronology.txt")).to_be_visible()
    page.get_by_role("button", name="Raise the escalation").click()
    check_page(page, "ladder-11-raised")
    # The browser's own time to raise the demo case (with axe run on every page), for
    # docs/performance.md: the floor under a practised user's time.
    print(f"raising took {time.monotonic() - started:.1f} s in the browser")
    reference = page.locator(".govuk-panel__body strong").inner_text()
    escalation = Escalation.objects.get(reference=reference)
    assert [o.agency.name for o in escalation.others()] == ["Devon & Cornwall Police"]
    assert set(escalation.themes.values_list("code", flat=True)) == {"neglect", "parental-mental-health"}
    assert escalation.documents.get().filename == "chronology.txt"
    page.get_by_role("link", name="Go to the escalation").click()
    check_page(page, "ladder-12-escalation-stage-1")

    # ---- 2. discussions at stage 1, and the consultation with the raiser's manager
    page.get_by_role("link", name="Record a discussion or response").click()
    page.fill("#id_held_on-day", "1")
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    check_page(page, "ladder-13-discussion-error")
    today = escalation.raised_at.date()
    page.fill("#id_held_on-day", str(today.day))
    page.fill("#id_held_on-month", str(today.month))
    page.fill("#id_held_on-year", str(today.year))
    page.fill("#id_note", "Talked it through with Priya, my named nurse; she agrees to escalate.")
    page.get_by_label("No", exact=True).check()
    page.get_by_label("This was my consultation with the raiser's own manager or safeguarding lead").check()
    submit(page)
    expect(page.locator(".govuk-notification-banner").get_by_text("Discussion recorded")).to_be_visible()
    log_out(page)

    log_in(page, "practitioner.social")
    page.goto(f"/escalations/{escalation.pk}/")
    expect(page.get_by_text("Ocean Pemberton-Vale")).to_be_visible()
    assert page.get_by_text("This reminds me").count() == 0  # the reflection is private
    page.get_by_role("link", name="Record a discussion or response").click()
    page.fill("#id_held_on-day", str(today.day))
    page.fill("#id_held_on-month", str(today.month))
    page.fill("#id_held_on-year", str(today.year))
    page.fill("#id_note", "We reviewed the assessment together; I still think closure is right.")
    page.get_by_label("No", exact=True).check()
    submit(page)
    log_out(page)

    log_in(page, "practitioner.health")
    page.goto(f"/escalations/{escalation.pk}/")
    page.get_by_role("link", name="Escalate to stage 2").click()
    check_page(page, "ladder-14-escalate-to-2")
    page.fill("#id_reason", "Practitioners could not agree.")
    # Stage 2 asks for the decision challenged, what was tried and the outcome wanted: known
    # already, so filled in.
    assert page.locator("#id_tried_so_far").input_value() == "Two calls with the social worker."
    submit(page, "Escalate to stage 2")
    log_out(page)

    # ---- 3. managers, then senior leaders
    log_in(page, "manager.health")
    page.goto(f"/escalations/{escalation.pk}/")
    expect(
        page.get_by_text("This reminds me")
    ).to_be_visible()  # the raiser's line manager reads the reflection
    check_page(page, "ladder-15-escalation-stage-2")
    page.get_by_role("link", name="Escalate to stage 3").click()
    page.fill("#id_reason", "Managers met and could not agree.")
    submit(page, "Escalate to stage 3")
    log_out(page)

    log_in(page, "senior.health")
    page.goto(f"/escalations/{escalation.pk}/")
    page.get_by_role(
        "link", name="Escalate formally to stage 4 (the Practice Development Group sees it from here)"
    ).click()
    assert (
        "Talked it through with Priya" in page.locator("#id_efforts_to_resolve").input_value()
    )  # pre-filled
    page.fill("#id_efforts_to_resolve", "")
    page.fill("#id_reason", "The child's needs remain unmet.")
    submit(page, "Escalate to stage 4")
    expect(page.locator(".govuk-error-summary")).to_be_visible()  # rule 3: evidence before formal escalation
    check_page(page, "ladder-16-formal-needs-evidence")
    page.fill("#id_efforts_to_resolve", "Practitioners, managers and senior leaders met; see the timeline.")
    submit(page, "Escalate to stage 4")
    check_page(page, "ladder-17-escalation-formal")
    log_out(page)

    # ---- 4. the PDG appoints a facilitator; it cannot resolve
    log_in(page, "pdg.chair")
    page.goto(f"/escalations/{escalation.pk}/")
    assert page.get_by_role("link", name="Record the resolution").count() == 0
    assert page.goto(f"/escalations/{escalation.pk}/resolve/").status == 403
    page.goto(f"/escalations/{escalation.pk}/")
    page.get_by_role("link", name="Record an offer or action of the Practice Development Group").click()
    page.get_by_label("Offer a restorative facilitator").check()
    page.get_by_label("Restorative facilitator to appoint").select_option(value="facilitator")
    page.fill("#id_note", "A restorative meeting of both agencies' leaders.")
    check_page(page, "ladder-18-pdg-action")
    submit(page)
    log_out(page)

    log_in(page, "facilitator")
    page.goto(f"/escalations/{escalation.pk}/")
    expect(page.get_by_text("appointed as restorative facilitator")).to_be_visible()
    log_out(page)

    # ---- 5. the social care senior leader records the resolution
    log_in(page, "senior.social")
    page.goto(f"/escalations/{escalation.pk}/")
    page.get_by_role("link", name="Record the resolution").click()
    check_page(page, "ladder-19-resolve")
    page.get_by_label("Decision changed").check()
    page.fill("#id_agreed_way_forward", "A child and family assessment will be reopened with health input.")
    page.get_by_label("Yes", exact=True).check()
    page.fill("#id_action_1_description", "Reopen the assessment")
    page.locator("#id_action_1_owner").select_option(label="Devon County Council Children's Services")
    page.fill("#id_action_1_due-day", "15")
    page.fill("#id_action_1_due-month", "1")
    page.fill("#id_action_1_due-year", "2027")
    submit(page)
    check_page(page, "ladder-20-resolved")
    escalation.refresh_from_db()
    assert escalation.status == Status.RESOLVED
    assert escalation.highest_stage == 4
    page.get_by_role("link", name="Print the record for your agency's file").click()
    check_page(page, "ladder-21-record")
    log_out(page)

    # ---- 6. social care's manager marks the agreed action done
    log_in(page, "manager.social")
    page.goto(f"/escalations/{escalation.pk}/")
    page.get_by_role("link", name="Mark as done").first.click()
    page.fill("#id_note", "The assessment was reopened with the health visitor's input.")
    check_page(page, "ladder-22-action-done")
    submit(page, "Mark as done")
    expect(page.get_by_text("Action marked done")).to_be_visible()
    log_out(page)

    # ---- 7. once it is settled, the PDG ends the facilitator's appointment, and their access
    # (a PDG member: the chair's two-step code of a minute ago may not be used twice)
    log_in(page, "pdg.member")
    page.goto(f"/escalations/{escalation.pk}/")
    page.get_by_role("link", name="End the restorative facilitator's appointment").click()
    page.fill("#id_reason", "The restorative meeting has taken place.")
    check_page(page, "ladder-23-end-facilitation")
    submit(page, "End the appointment")
    expect(page.get_by_text("the facilitator no longer sees this escalation")).to_be_visible()
    log_out(page)
    log_in(page, "facilitator")
    assert page.goto(f"/escalations/{escalation.pk}/").status == 404
