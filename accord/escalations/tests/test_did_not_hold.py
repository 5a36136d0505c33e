""" "Did not hold" closes the loop: the parties, their agencies' managers and the formal body are
told; any party may reopen the escalation or raise the difference again as a linked
escalation pre-filled from it, whatever the reopening window; the reports count what
followed, adding up to the "did not hold" answers. Page, API and services alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import IllegalTransition, ImmediateDanger, NotAllowed, NotFound, RuleViolation
from accord.escalations import services, tallies
from accord.escalations.models import AfterNotHeld, DailyTally, Draft, Escalation, EventType, FollowUp, Status
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.policies import allowed_actions
from accord.notifications.models import Notification
from accord.reports.selectors import Period, pdg_figures, suppressed
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

# Long after the partnership's 20-day reopening window.
LATE = (12, 14)


def at(m, d, h=10, y=2026):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def resolve(world, escalation, when, actor=None):
    with clock.set_to(when):
        return services.escalation_resolve(
            actor=actor or world.manager_social,
            escalation=escalation,
            outcome="agreed_way_forward",
            agreed_way_forward="A joint visit this week.",
            child_centred_outcome_achieved="yes",
        )


def answer(world, escalation, held="not_held", person=None):
    with clock.set_to(at(11, 20)):
        return services.escalation_follow_up(
            actor=person or world.practitioner_health,
            escalation=escalation,
            held=held,
            what_changed="The visits stopped after two weeks.",
        )


@pytest.fixture
def not_held(world):
    """Raised 5 October 2026, resolved 8 October, followed up on 20 November: it did not hold."""
    e = world.raised(at=at(10, 5))
    resolve(world, e, at(10, 8))
    answer(world, e)
    return Escalation.objects.get(pk=e.pk)


def fresh(e):
    return Escalation.objects.get(pk=e.pk)


def test_the_parties_their_managers_and_the_formal_body_are_told(world):
    e = world.raised(at=at(10, 5))
    resolve(world, e, at(10, 8))
    Notification.objects.all().delete()
    answer(world, e)
    told = Notification.objects.filter(kind=Kind.DID_NOT_HOLD)
    names = {n.recipient.username for n in told}
    assert names == {
        world.practitioner_social.username,  # the other party (the one who answered is not told)
        world.manager_health.username,
        world.manager_social.username,
        world.senior_health.username,
        world.senior_social.username,
        world.pdg_member.username,
        world.pdg_chair.username,
    }
    # The formal body does not see an escalation below the formal stages (rule 7): its link is
    # to the standing item, where it is counted, and the reference is not given.
    for n in told.filter(recipient__in=[world.pdg_member, world.pdg_chair]):
        assert n.path == "/reports/pdg/" and e.reference not in n.subject
    for n in told.exclude(recipient__in=[world.pdg_member, world.pdg_chair]):
        assert n.path == f"/escalations/{e.pk}/" and n.subject == e.reference
    assert "Zebedee" not in str(list(told.values()))


def test_a_formal_one_links_the_formal_body_to_the_escalation(world):
    with clock.set_to(at(10, 5)):
        e = world.formal()
    resolve(world, e, at(10, 8), actor=world.senior_social)
    answer(world, e)
    for n in Notification.objects.filter(kind=Kind.DID_NOT_HOLD, recipient=world.pdg_chair):
        assert n.path == f"/escalations/{e.pk}/"


def test_held_or_partly_tells_nobody_and_opens_nothing(world):
    e = world.raised(at=at(10, 5))
    resolve(world, e, at(10, 8))
    answer(world, e, held="partly")
    assert not Notification.objects.filter(kind=Kind.DID_NOT_HOLD).exists()
    e = fresh(e)
    with clock.set_to(at(*LATE)):
        assert not {"reopen", "raise_again"} & allowed_actions(world.manager_social, e)
        with pytest.raises(RuleViolation):  # the window has passed
            services.escalation_reopen(actor=world.manager_social, escalation=e, reason="Back again")
        with pytest.raises(IllegalTransition):
            services.raise_again_draft(actor=world.practitioner_social, escalation=e, immediate_danger=False)


def test_any_party_reopens_it_whatever_the_window(world, not_held):
    with clock.set_to(at(*LATE)):
        e = fresh(not_held)
        # A practitioner, not only the parties' leaders; the receiving side as well as the raiser.
        assert {"reopen", "raise_again"} <= allowed_actions(world.practitioner_social, e)
        services.escalation_reopen(actor=world.practitioner_social, escalation=e, reason="It came back.")
    e = fresh(not_held)
    assert e.status == Status.OPEN and e.due_date is not None
    follow_up = FollowUp.objects.get(escalation=e)
    assert follow_up.followed_by == AfterNotHeld.REOPENED and follow_up.followed_at is not None
    assert AuditEvent.objects.filter(verb=Verb.REOPENED, target_id=str(e.pk)).count() == 1
    # Acted on: it cannot be raised again too; resolved again, the window rules once more.
    assert "raise_again" not in allowed_actions(world.practitioner_social, e)


def test_the_formal_body_and_outsiders_may_not(world, not_held):
    with clock.set_to(at(*LATE)):
        for outsider in (world.pdg_member, world.practitioner_other):
            with pytest.raises(NotFound):
                services.escalation_reopen(actor=outsider, escalation=not_held, reason="x")
            with pytest.raises(NotFound):
                services.raise_again_draft(actor=outsider, escalation=not_held, immediate_danger=False)
        with clock.set_to(at(10, 5)):
            formal = world.formal()
        resolve(world, formal, at(10, 8), actor=world.senior_social)
        answer(world, formal)
        with pytest.raises(NotAllowed):
            services.escalation_reopen(actor=world.pdg_chair, escalation=fresh(formal), reason="x")
        with pytest.raises(NotAllowed):
            services.raise_again_draft(
                actor=world.pdg_chair, escalation=fresh(formal), immediate_danger=False
            )


def test_raising_it_again_starts_from_a_prefilled_draft_and_links_the_two(world, not_held):
    with clock.set_to(at(*LATE)):
        with pytest.raises(ImmediateDanger):  # rule 1 first: nothing is kept
            services.raise_again_draft(
                actor=world.practitioner_social, escalation=not_held, immediate_danger=True
            )
        assert not Draft.objects.exists()
        draft = services.raise_again_draft(
            actor=world.practitioner_social, escalation=not_held, immediate_danger=False
        )
        d = draft.data
        # From the receiving party's side: the difference is now with health, its raiser named.
        assert d["with_agency"] == str(world.health.pk)
        assert d["with_practitioner"] == world.practitioner_health.username
        assert d["child_1_name"] == "Zebedee Quartermaine" and d["child_1_date_of_birth"] == "2019-05-04"
        assert d["areas"] == ["levels-of-risk"] and d["themes"] == ["neglect"]
        assert "A joint visit this week." in d["tried_so_far"] and "visits stopped" in d["tried_so_far"]
        assert "reflection" not in d  # the raiser's private reflection is never copied
        again = services.escalation_raise(
            actor=world.practitioner_social,
            partnership=world.partnership,
            details=services.RaiseDetails(
                kind=d["kind"],
                with_agency_id=int(d["with_agency"]),
                with_practitioner_username=d["with_practitioner"],
                summary=d["summary"],
                decision_challenged=d["decision_challenged"],
                concern=d["concern"],
                evidence=d["evidence"],
                tried_so_far=d["tried_so_far"],
                desired_outcome=d["desired_outcome"],
                area_of_disagreement_code=d["areas"][0],
                theme_codes=d["themes"],
                children=[services.ChildDetails(name=d["child_1_name"])],
            ),
            immediate_danger=False,
            draft=draft,
        )
    follow_up = FollowUp.objects.get(escalation=not_held)
    assert follow_up.followed_by == AfterNotHeld.RAISED_AGAIN and follow_up.raised_again == again
    assert (
        fresh(not_held).events.filter(type=EventType.RAISED_AGAIN, summary__contains=again.reference).exists()
    )
    entry = AuditEvent.objects.get(verb=Verb.RAISED_AGAIN)
    assert entry.payload["linked"] == again.reference and "Zebedee" not in str(entry.payload)
    assert fresh(not_held).status == Status.RESOLVED  # the first stays closed
    assert not {"reopen", "raise_again"} & allowed_actions(world.practitioner_social, fresh(not_held))


def test_what_followed_is_counted_and_adds_up(world, not_held):
    period = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    figures = pdg_figures(world.partnership, period)
    assert figures.follow_ups == {"not_held": 1} and figures.after_not_held == {"none": 1}
    other = world.raised(at=at(10, 5))
    resolve(world, other, at(10, 8))
    answer(world, other)
    with clock.set_to(at(*LATE)):
        services.escalation_reopen(actor=world.manager_health, escalation=fresh(not_held), reason="Back")
    figures = pdg_figures(world.partnership, period)
    assert figures.after_not_held == {"none": 1, "reopened": 1}
    assert sum(figures.after_not_held.values()) == figures.follow_ups["not_held"] == 2
    kept = set(
        DailyTally.objects.filter(dimension__endswith="after").values_list("dimension", "key", "day", "n")
    )
    tallies.rebuild(world.partnership.pk)
    rebuilt = set(
        DailyTally.objects.filter(dimension__endswith="after").values_list("dimension", "key", "day", "n")
    )
    assert kept == rebuilt and kept
    # The executive's figures protect the small ones together: a count withheld in one table
    # cannot be worked out from the other (2 = 1 + 1, all below the threshold).
    shown = suppressed(figures)
    assert all(not isinstance(v, int) for v in shown["after_not_held"].values())
    assert not isinstance(shown["follow_ups"]["not_held"], int)


def test_the_api_reopens_and_raises_again_with_the_same_rules(client, world, not_held):
    with clock.set_to(at(*LATE)):
        social = Api(client, world.practitioner_social)
        shown = social.get(f"/escalations/{not_held.pk}").json()
        assert {"reopen", "raise_again"} <= set(shown["allowed_actions"])
        body = {
            "kind": "case",
            "immediate_danger": False,
            "with_agency": world.health.pk,
            "summary": "The joint visits stopped",
            "decision_challenged": "d",
            "concern": "c",
            "evidence": "e",
            "tried_so_far": "t",
            "desired_outcome": "o",
            "urgency": "routine",
            "area_of_disagreement": "levels-of-risk",
            "children": [{"name": "Z Q"}],
        }
        assert (
            Api(client, world.pdg_member).post(f"/escalations/{not_held.pk}/raise-again", body).status_code
            == 404
        )
        done = social.post(f"/escalations/{not_held.pk}/raise-again", body)
        assert done.status_code == 201, done.content
        again = Escalation.objects.get(pk=done.json()["id"])
        assert FollowUp.objects.get(escalation=not_held).raised_again == again
        assert social.post(f"/escalations/{not_held.pk}/raise-again", body).status_code == 409
        # Acted on: the window rules again, and reopening is the parties' leaders' once more.
        assert social.post(f"/escalations/{not_held.pk}/reopen", {"reason": "x"}).status_code == 403
        leader = Api(client, world.manager_social).post(f"/escalations/{not_held.pk}/reopen", {"reason": "x"})
        assert leader.status_code == 422


def test_the_pages_offer_both_and_raise_it_again_through_the_journey(client, world, not_held):
    sign_in(client, world.practitioner_social)
    with clock.set_to(at(*LATE)):
        page = client.get(f"/escalations/{not_held.pk}/").content.decode()
        assert 'data-testid="did-not-hold"' in page
        assert (
            f"/escalations/{not_held.pk}/reopen/" in page
            and f"/escalations/{not_held.pk}/raise-again/" in page
        )
        assert client.get(f"/escalations/{not_held.pk}/reopen/").status_code == 200
        form = client.get(f"/escalations/{not_held.pk}/raise-again/")
        assert form.status_code == 200 and "immediate danger" in form.content.decode()
        danger = client.post(f"/escalations/{not_held.pk}/raise-again/", {"immediate_danger": "yes"})
        assert danger.url == "/escalations/raise/emergency/" and not Draft.objects.exists()
        started = client.post(f"/escalations/{not_held.pk}/raise-again/", {"immediate_danger": "no"})
        draft = Draft.objects.get(owner=world.practitioner_social)
        assert started.url == f"/escalations/raise/{draft.pk}/check/"
        check = client.get(started.url).content.decode()
        assert "Zebedee Quartermaine" in check and world.health.name in check
        raised = client.post(started.url)
        assert raised.status_code == 302, raised.content.decode()[:2000]
        again = Escalation.objects.exclude(pk=not_held.pk).get()
        first = client.get(f"/escalations/{not_held.pk}/").content.decode()
        assert again.reference in first and 'data-testid="did-not-hold"' not in first
        second = client.get(f"/escalations/{again.pk}/").content.decode()
        assert not_held.reference in second and 'data-testid="raises-again"' in second
    client.logout()
    sign_in(client, world.pdg_member)
    assert client.get(f"/escalations/{not_held.pk}/raise-again/").status_code == 404
