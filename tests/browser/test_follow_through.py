"""Follow-through in the browser: an agreed way forward that did not hold, answered long after
the reopening window, is reopened by a practitioner of the other agency; another is raised
again through the journey, pre-filled. Each page checked by axe and screenshotted."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accord.escalations.models import AfterNotHeld, Escalation, FollowUp, Outcome, Status
from accord.partnership.models import Agency, User
from accord.testing.factories import raise_details

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser


def resolved_weeks_ago(partnership, weeks: int) -> Escalation:
    from accord.core import clock
    from accord.escalations import services

    social = Agency.objects.get(name="Devon County Council Children's Services")
    health = User.objects.get(username="practitioner.health")
    then = timezone.now() - dt.timedelta(weeks=weeks)
    with clock.set_to(then):
        e = services.escalation_raise(
            actor=health,
            partnership=partnership,
            details=raise_details(with_agency=social, with_practitioner_username="practitioner.social"),
            immediate_danger=False,
        )
    with clock.set_to(then + dt.timedelta(days=2)):
        services.escalation_resolve(
            actor=User.objects.get(username="manager.social"),
            escalation=e,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="A joint visit and one plan.",
            child_centred_outcome_achieved="yes",
        )
    return e


def test_a_did_not_hold_answer_reopens_a_difference(page, demo_users):
    partnership, _users = demo_users
    partnership.reopen_within_days = 10  # the window closed weeks ago
    partnership.save()
    e = resolved_weeks_ago(partnership, 7)
    log_in(page, "practitioner.health")
    page.goto(f"/escalations/{e.pk}/")
    page.get_by_role("link", name="Say whether the agreed way forward held").click()
    page.get_by_label("No, it did not hold").check()
    page.get_by_label("What changed for the child?").fill("The visits stopped after a fortnight.")
    page.locator("main").get_by_role("button", name="Save").click()
    warning = page.get_by_test_id("did-not-hold")
    expect(warning).to_contain_text("did not hold", use_inner_text=True)
    screenshot(page, "follow-through-01-did-not-hold")
    assert_accessible(page)
    log_out(page)

    # A practitioner of the other agency, told of it, reopens it: not a leader, window closed.
    log_in(page, "practitioner.social")
    page.goto("/notifications/")
    assert e.reference in page.locator("main").inner_text()
    page.goto(f"/escalations/{e.pk}/")
    page.get_by_role("link", name="Reopen the escalation").click()
    expect(page.locator("main")).to_contain_text("did not hold", use_inner_text=True)
    assert_accessible(page)
    page.get_by_label("Reason").fill("The visits stopped: we need to talk again.")
    screenshot(page, "follow-through-02-reopen")
    page.locator("main").get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("Escalation reopened", use_inner_text=True)
    assert_accessible(page)
    fresh = Escalation.objects.get(pk=e.pk)
    assert fresh.status == Status.OPEN
    assert FollowUp.objects.get(escalation=e).followed_by == AfterNotHeld.REOPENED


def test_a_did_not_hold_answer_is_raised_again_prefilled(page, demo_users):
    from accord.core import clock
    from accord.escalations import services

    partnership, _users = demo_users
    e = resolved_weeks_ago(partnership, 7)
    with clock.set_to(timezone.now()):
        services.escalation_follow_up(
            actor=User.objects.get(username="practitioner.health"),
            escalation=Escalation.objects.get(pk=e.pk),
            held="not_held",
            what_changed="The visits stopped after a fortnight.",
        )
    log_in(page, "practitioner.social")
    page.goto(f"/escalations/{e.pk}/")
    page.get_by_role("link", name="Raise the difference again as a linked escalation").click()
    assert_accessible(page)
    page.locator("main").get_by_role("button", name="Continue").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()  # rule 1 must be answered
    assert_accessible(page)
    page.get_by_label("No").check()
    page.locator("main").get_by_role("button", name="Continue").click()
    page.wait_for_url("**/check/")
    main = page.locator("main").inner_text()
    assert "Zebedee Quartermaine" in main and "Royal Devon" in main
    screenshot(page, "follow-through-03-raise-again-check")
    assert_accessible(page)
    page.locator("main").get_by_role("button", name="Raise the escalation").click()
    page.wait_for_url("**/raised/")
    again = FollowUp.objects.get(escalation=e).raised_again
    assert again is not None and again.raised_by.username == "practitioner.social"
    page.goto(f"/escalations/{again.pk}/")
    assert e.reference in page.get_by_test_id("raises-again").inner_text()
    assert_accessible(page)


def test_a_non_party_agencys_manager_marks_a_thematic_action_done(page, demo_users):
    from accord.core import clock
    from accord.escalations import services
    from accord.partnership.models import Role
    from accord.testing.factories import UserFactory
    from accord.web.demo import DEMO_PASSWORD

    partnership, _users = demo_users
    social = Agency.objects.get(name="Devon County Council Children's Services")
    probation = Agency.objects.get(name="The Probation Service (South West)")
    manager = UserFactory(
        username="manager.probation",
        first_name="Priya",
        last_name="Shah",
        agency=probation,
        password=DEMO_PASSWORD,
        roles=[(partnership, Role.MANAGER)],
    )
    people = {u.username: u for u in User.objects.filter(username__contains=".")}
    with clock.set_to(timezone.now() - dt.timedelta(days=3)):
        e = services.escalation_raise(
            actor=people["practitioner.health"],
            partnership=partnership,
            details=raise_details(
                with_agency=social,
                with_practitioner_username="practitioner.social",
                kind="theme",
                summary="Neglect of teenagers is missed at the front door",
                children=[],
            ),
            immediate_danger=False,
        )
        services.escalation_record_discussion(
            actor=people["practitioner.health"],
            escalation=e,
            held_on=clock.today(),
            note="Talked it through with my manager.",
            with_manager=True,
        )
        e = services.escalation_escalate(
            actor=people["practitioner.health"], escalation=e, reason="Not settled."
        )
        e = services.escalation_escalate(
            actor=people["manager.health"], escalation=e, reason="Managers differ."
        )
        e = services.escalation_escalate(
            actor=people["senior.health"],
            escalation=e,
            reason="Concerns remain.",
            efforts_to_resolve="Practitioners, managers and leaders met.",
        )
        services.escalation_commission_response(
            actor=people["pdg.chair"],
            escalation=e,
            note="A multi-agency response.",
            actions=[
                services.ActionDetails(
                    description="Brief probation officers on spotting neglect of teenagers",
                    owner_agency_id=probation.pk,
                    due_date=clock.today() + dt.timedelta(days=1),
                )
            ],
        )
    action = e.agreed_actions.get()
    log_in(page, manager.username)
    # Told of it, and on the home page: the action itself, not the escalation.
    expect(page.get_by_test_id("agency-actions")).to_contain_text(
        "Brief probation officers", use_inner_text=True
    )
    assert_accessible(page)
    page.get_by_test_id("agency-actions").get_by_role("link").first.click()
    page.wait_for_url(f"**/escalations/actions/{action.pk}/")
    main = page.locator("main").inner_text()
    assert "Neglect of teenagers is missed at the front door" in main and "Overdue" in main
    screenshot(page, "follow-through-04-action")
    assert_accessible(page)
    page.get_by_label("What was done (optional)").fill("All officers briefed at the team meeting.")
    page.locator("main").get_by_role("button", name="Mark as done").click()
    expect(page.locator("body")).to_contain_text("Action marked done", use_inner_text=True)
    expect(page.get_by_test_id("action")).to_contain_text("All officers briefed", use_inner_text=True)
    assert_accessible(page)
    action.refresh_from_db()
    assert action.completed_by == manager
    # The escalation itself stays the parties' (rule 7).
    page.goto(f"/escalations/{e.pk}/")
    assert "not found" in page.locator("main").inner_text().lower() or "Page not found" in page.title()


def test_learning_naming_the_child_is_refused_and_the_rest_reaches_the_pdg(page, demo_users):
    from accord.escalations import services

    partnership, _users = demo_users
    social = Agency.objects.get(name="Devon County Council Children's Services")
    health = User.objects.get(username="practitioner.health")
    e = services.escalation_raise(
        actor=health,
        partnership=partnership,
        details=raise_details(with_agency=social, with_practitioner_username="practitioner.social"),
        immediate_danger=False,
    )
    log_in(page, "manager.health")  # stage 1: the parties' managers record its outcome
    page.goto(f"/escalations/{e.pk}/")
    page.get_by_role("link", name="Record the resolution").click()
    page.get_by_label("Agreed way forward", exact=True).check()
    page.get_by_label("The agreed way forward").fill("A joint visit this week.")
    page.get_by_label("Yes", exact=True).check()
    page.get_by_label("Learning for the partnership (optional)").fill(
        "Zebedee's school could have told us sooner."
    )
    page.locator("main").get_by_role("button", name="Save").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("must not identify the child", use_inner_text=True)
    screenshot(page, "follow-through-05-learning-refused")
    assert_accessible(page)
    assert Escalation.objects.get(pk=e.pk).status == Status.OPEN
    page.get_by_label("Learning for the partnership (optional)").fill(
        "Schools hold what we need: ask them first."
    )
    page.locator("main").get_by_role("button", name="Save").click()
    assert Escalation.objects.get(pk=e.pk).status == Status.RESOLVED
    log_out(page)

    log_in(page, "pdg.chair")  # a stage-1 difference: read in words, by theme and area
    page.goto("/reports/learning/")
    learning = page.get_by_test_id("learning")
    assert "Schools hold what we need" in learning.inner_text() and e.reference not in learning.inner_text()
    screenshot(page, "follow-through-06-learning")
    assert_accessible(page)
    page.get_by_role("button", name="Mark fit to publish").click()
    expect(page.get_by_test_id("learning")).to_contain_text("Fit to publish", use_inner_text=True)
    assert_accessible(page)
