"""A restorative facilitator's appointment can end, and the facilitator's access ends with it:
when the PDG ends it, or appoints someone else. Rule 7 holds in all its statements (the
predicate, the list's filter, the visibility table and "my work"), on every preset's first
formal stage, through the page and the API alike."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.core.errors import IllegalTransition, NotAllowed
from accord.escalations import policies, services, visibility
from accord.escalations.models import Escalation, EventType, PdgActionKind
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.selectors import my_work
from accord.escalations.tests.test_presets import MOVER
from accord.notifications.models import Notification
from accord.partnership.protocol import install_ladder, ladder_of, preset, preset_names
from accord.testing.auth import sign_in
from accord.testing.factories import World

pytestmark = pytest.mark.django_db


def to_first_formal_stage(world: World) -> Escalation:
    ladder = ladder_of(world.partnership)
    e = world.consulted(world.raised())
    while e.formal_at is None:
        current = ladder.stage(e.stage)
        e = services.escalation_escalate(
            actor=getattr(world, MOVER[current.worked_by]),
            escalation=e,
            reason=f"Not settled at stage {e.stage}.",
            efforts_to_resolve="Practitioners and managers met twice.",
        )
    return e


def appoint(world: World, e: Escalation, facilitator) -> Escalation:
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=facilitator.username,
    )
    return Escalation.objects.get(pk=e.pk)


def sees(world: World, person, e: Escalation) -> bool:
    """Rule 7's statements agree, and answer whether the person sees the escalation."""
    fresh = type(person).objects.get(pk=person.pk)
    by_filter = Escalation.objects.visible_to(fresh).filter(pk=e.pk).exists()
    assert fresh.has_perm("escalations.view", Escalation.objects.get(pk=e.pk)) == by_filter
    assert visibility.differences() == (0, 0, 0)
    work = my_work(user=fresh, partnership=world.partnership)
    assert (e.pk in {x.pk for x in work.awaiting}) <= by_filter
    return by_filter


@pytest.mark.parametrize("name", preset_names())
def test_ending_an_appointment_ends_the_facilitators_access_on_every_preset(name):
    world = World()
    install_ladder(world.partnership, preset(name))
    e = appoint(world, to_first_formal_stage(world), world.facilitator)
    assert sees(world, world.facilitator, e)
    assert "end_facilitation" in policies.allowed_actions(world.pdg_chair, e)

    e = services.escalation_end_facilitation(actor=world.pdg_member, escalation=e, reason="Offer declined")
    assert not sees(world, world.facilitator, e)
    ended = e.events.get(type=EventType.FACILITATOR_ENDED)
    assert "Offer declined" in ended.summary
    assert Notification.objects.filter(
        about=f"escalation:{e.pk}", kind=Kind.FACILITATOR_ENDED, recipient=world.facilitator
    ).exists()
    entry = AuditEvent.objects.filter(verb=Verb.FACILITATION_ENDED).get()
    assert entry.payload["facilitators"] == [world.facilitator.username]
    assert entry.partnership_id == world.partnership.pk
    # Nothing left to end: refused as a state, not a role.
    with pytest.raises(IllegalTransition, match="nothing to end"):
        services.escalation_end_facilitation(actor=world.pdg_member, escalation=e)


def test_a_new_appointment_ends_the_one_before(world):
    e = appoint(world, world.formal(), world.facilitator)
    e = appoint(world, e, world.other_facilitator)
    assert not sees(world, world.facilitator, e)
    assert sees(world, world.other_facilitator, e)
    assert e.events.filter(type=EventType.FACILITATOR_ENDED).count() == 1
    # Appointing the same person again keeps their access, and is no ending.
    e = appoint(world, e, world.other_facilitator)
    assert sees(world, world.other_facilitator, e)
    assert e.events.filter(type=EventType.FACILITATOR_ENDED).count() == 1
    assert e.pdg_actions.filter(facilitator__isnull=False, ended_at__isnull=True).count() == 1


def test_only_the_pdg_ends_an_appointment_and_it_can_after_closing(world):
    e = appoint(world, world.formal(), world.facilitator)
    for person in (world.facilitator, world.senior_social, world.manager_health):
        with pytest.raises(NotAllowed):
            services.escalation_end_facilitation(actor=person, escalation=e)
    e = services.escalation_resolve(
        actor=world.senior_social,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="Joint plan",
        child_centred_outcome_achieved="yes",
    ).escalation
    e = Escalation.objects.get(pk=e.pk)
    assert sees(world, world.facilitator, e)  # a closed escalation stays open to its facilitator
    services.escalation_end_facilitation(actor=world.pdg_chair, escalation=e)
    assert not sees(world, world.facilitator, e)


def test_the_page_and_the_api_end_an_appointment(client, world):
    e = appoint(world, world.formal(), world.facilitator)
    sign_in(client, world.facilitator)
    assert client.get(f"/escalations/{e.pk}/").status_code == 200
    assert client.get(f"/escalations/{e.pk}/end-facilitation/").status_code == 403

    sign_in(client, world.pdg_chair)
    page = client.get(f"/escalations/{e.pk}/").content.decode()
    assert f"/escalations/{e.pk}/end-facilitation/" in page
    form = client.get(f"/escalations/{e.pk}/end-facilitation/")
    assert form.status_code == 200 and escape(world.facilitator.get_full_name()) in form.content.decode()
    done = client.post(f"/escalations/{e.pk}/end-facilitation/", {"reason": "", "version": e.version})
    assert done.status_code == 302
    sign_in(client, world.facilitator)
    assert client.get(f"/escalations/{e.pk}/").status_code == 404
    assert Api(client, world.facilitator).get(f"/escalations/{e.pk}").status_code == 404

    # The API: another appointment, ended through it; then nothing left to end (409).
    e = appoint(world, Escalation.objects.get(pk=e.pk), world.other_facilitator)
    api = Api(client, world.pdg_member)
    assert "end_facilitation" in api.get(f"/escalations/{e.pk}").json()["allowed_actions"]
    assert api.post(f"/escalations/{e.pk}/end-facilitation", {"reason": "Done"}).status_code == 200
    assert Api(client, world.other_facilitator).get(f"/escalations/{e.pk}").status_code == 404
    assert api.post(f"/escalations/{e.pk}/end-facilitation", {}).status_code == 409
    assert (
        Api(client, world.senior_social).post(f"/escalations/{e.pk}/end-facilitation", {}).status_code == 403
    )
