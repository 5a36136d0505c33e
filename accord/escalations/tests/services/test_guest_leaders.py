"""Where a difference climbs to the agencies' managers (or senior leaders) and an agency it is
with has nobody in Accord to work that stage, the raiser's line manager (or the business unit)
names that agency's manager (or senior leader) by work email. Invited as any guest is, once
confirmed they act for their agency in that tier on this escalation alone: they see it as its
managers would and take the actions its managers may at a stage they hold, never the formal
body's, nor anything else a leader does."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotAllowed, NotFound
from accord.escalations import services
from accord.escalations.models import Escalation, EventType, Guest, GuestState, Status
from accord.escalations.policies import allowed_actions, sees_children
from accord.escalations.services import guests as g
from accord.partnership.models import PartnershipAgency, Role, RoleAssignment
from accord.partnership.services.people import PersonDetails, person_save

pytestmark = pytest.mark.django_db

HEAD = "head.of.service@justice.gov.uk"


def probation_domains(world):
    link = PartnershipAgency.objects.get(partnership=world.partnership, agency=world.other)
    link.work_email_domains = "justice.gov.uk"
    link.save()


def with_probation(world, stage: int) -> Escalation:
    """Raised by the health practitioner with probation (a manager, no senior leader), walked
    to ``stage``."""
    probation_domains(world)
    e = world.consulted(world.raised(with_agency=world.other))
    if stage >= 2:
        e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Not settled.")
    if stage >= 3:
        e = services.escalation_escalate(actor=world.manager_health, escalation=e, reason="Managers differ.")
    return Escalation.objects.get(pk=e.pk)


def confirmed(guest, capture) -> Guest:
    with capture(execute=True):
        g.guest_send_code(guest)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    g.guest_check_code(guest, code)
    g.guest_confirm(guest=guest, name="Hattie Head")
    guest.refresh_from_db()
    return guest


def named_leader(world, e, capture, actor=None, email=HEAD) -> Guest:
    with capture(execute=True):
        return g.guest_name_leader(
            actor=actor or world.manager_health, escalation=e, agency_id=world.other.pk, email=email
        )


def test_at_a_senior_leaders_stage_the_raisers_manager_names_the_agencys_senior_leader(
    world, django_capture_on_commit_callbacks
):
    e = with_probation(world, 3)
    assert g.leader_tier_wanted(e) == "senior_leaders"
    assert g.agencies_without_leader(e) == [world.other]  # probation has a manager, no senior leader
    guest = named_leader(world, e, django_capture_on_commit_callbacks)
    assert guest.tier == "senior_leaders" and guest.state == GuestState.NAMED and guest.agency == world.other
    [message] = [m for m in mail.outbox if m.to == [HEAD]]
    assert "to act for" in message.body and "senior leaders" in message.body
    assert "Zebedee" not in message.body and "/guest/" in message.body
    named = AuditEvent.objects.get(verb=Verb.GUEST_NAMED, target_id=str(e.pk))
    assert named.actor == world.manager_health and named.payload["tier"] == "senior_leaders"
    assert g.agencies_without_leader(e) == []  # named once: nobody more


def test_once_confirmed_they_act_as_the_agencys_senior_leader_and_nothing_more(
    world, django_capture_on_commit_callbacks
):
    e = with_probation(world, 3)
    guest = named_leader(world, e, django_capture_on_commit_callbacks)
    account = guest.account
    assert not account.has_perm("escalations.view", e) and not sees_children(account, e)
    confirmed(guest, django_capture_on_commit_callbacks)
    e = Escalation.objects.get(pk=e.pk)
    assert account.has_perm("escalations.view", e) and sees_children(account, e)
    assert allowed_actions(account, e) == {"record_discussion", "escalate", "pause", "resolve"}
    other = world.raised(with_agency=world.other)
    assert not account.has_perm("escalations.view", other)
    assert not Escalation.objects.visible_to(account).exists()
    services.escalation_pause(actor=account, escalation=e, reason="Waiting for the strategy meeting.")
    e = Escalation.objects.get(pk=e.pk)
    assert e.status == Status.PAUSED and allowed_actions(account, e) >= {"resume"}
    services.escalation_resume(actor=account, escalation=e)
    e = Escalation.objects.get(pk=e.pk)
    services.escalation_resolve(
        actor=account,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="A joint visit this week.",
        child_centred_outcome_achieved="yes",
    )
    e = Escalation.objects.get(pk=e.pk)
    assert e.status == Status.RESOLVED
    assert e.events.filter(type=EventType.RESOLVED, actor=account).exists()


def test_a_manager_guest_holds_the_managers_stage_and_not_the_one_above(
    world, django_capture_on_commit_callbacks
):
    world.manager_other.is_active = False  # probation's only manager has left
    world.manager_other.save()
    e = with_probation(world, 2)
    assert g.leader_tier_wanted(e) == "managers" and g.agencies_without_leader(e) == [world.other]
    guest = confirmed(
        named_leader(world, e, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    account = guest.account
    assert guest.tier == "managers"
    e = Escalation.objects.get(pk=e.pk)
    assert {"escalate", "resolve", "pause"} <= allowed_actions(account, e)
    assert not allowed_actions(account, e) & {"reassign", "change_parties", "withdraw", "appoint_facilitator"}
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_escalate(actor=account, escalation=e, reason="The managers could not agree.")
    e = Escalation.objects.get(pk=e.pk)
    assert e.stage == 3
    # The senior leaders' stage is not a manager's to leave or settle: they still see and discuss.
    assert allowed_actions(account, e) == {"record_discussion"}
    with pytest.raises(NotAllowed):
        services.escalation_resolve(
            actor=account,
            escalation=e,
            outcome="agreed_way_forward",
            agreed_way_forward="x",
            child_centred_outcome_achieved="yes",
        )
    # And now the senior leader may be named.
    assert g.agencies_without_leader(e) == [world.other]


def test_who_may_name_and_when(world, django_capture_on_commit_callbacks, neighbour):
    early = world.consulted(world.raised(with_agency=world.other))
    probation_domains(world)
    with pytest.raises(ValidationError) as refused:
        g.guest_name_leader(
            actor=world.manager_health, escalation=early, agency_id=world.other.pk, email=HEAD
        )
    assert "practitioners'" in str(refused.value)
    e = with_probation(world, 3)
    for actor in (world.practitioner_health, world.manager_other, world.senior_health):
        with pytest.raises(NotAllowed):
            g.guest_name_leader(actor=actor, escalation=e, agency_id=world.other.pk, email=HEAD)
    for stranger in (world.practitioner_social, neighbour.manager_health, neighbour.admin):
        with pytest.raises(NotFound):
            g.escalation_for_leader_naming(stranger, e.pk)
        with pytest.raises(NotFound):
            g.guest_name_leader(actor=stranger, escalation=e, agency_id=world.other.pk, email=HEAD)
    with pytest.raises(ValidationError) as refused:
        g.guest_name_leader(
            actor=world.manager_health, escalation=e, agency_id=world.other.pk, email="a@nhs.net"
        )
    assert "@justice.gov.uk" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        g.guest_name_leader(actor=world.manager_health, escalation=e, agency_id=world.social.pk, email=HEAD)
    assert "agencies the difference is with" in str(refused.value)
    world.practitioner_other.email = HEAD
    world.practitioner_other.save()
    with pytest.raises(ValidationError) as refused:
        g.guest_name_leader(actor=world.manager_health, escalation=e, agency_id=world.other.pk, email=HEAD)
    assert "has an account in Accord" in str(refused.value)
    # The business unit may, though it does not see the escalation.
    assert not world.admin.has_perm("escalations.view", e)
    assert g.escalation_for_leader_naming(world.admin, e.pk) == e
    guest = named_leader(
        world, e, django_capture_on_commit_callbacks, actor=world.admin, email="lead@justice.gov.uk"
    )
    assert guest.tier == "senior_leaders" and guest.named_by == world.admin
    with pytest.raises(ValidationError) as refused:
        g.guest_name_leader(
            actor=world.manager_health, escalation=e, agency_id=world.other.pk, email="second@justice.gov.uk"
        )
    assert "already has someone to work this stage" in str(refused.value)
    assert Guest.objects.filter(escalation=e).count() == 1


def test_an_agency_with_someone_in_accord_is_never_an_opening(world):
    """Social care has its managers and senior leaders: nobody is named for it by email."""
    e = world.at_stage_3()
    assert g.leader_tier_wanted(e) == "senior_leaders" and g.agencies_without_leader(e) == []


def test_a_leader_only_in_another_partnership_does_not_work_this_one(world, neighbour):
    """The health trust works in both: a senior leader of it who holds the role only in the
    neighbour partnership leaves this one's stage without one of health's."""
    e = world.consulted(world.raised(raiser=world.practitioner_social, with_agency=world.health))
    e = services.escalation_escalate(actor=world.practitioner_social, escalation=e, reason="Not settled.")
    e = services.escalation_escalate(actor=world.manager_social, escalation=e, reason="Managers differ.")
    e = Escalation.objects.get(pk=e.pk)
    assert g.agencies_without_leader(e) == []
    RoleAssignment.objects.filter(partnership=world.partnership, user=world.senior_health).delete()
    assert neighbour.senior_health.agency == world.health
    assert g.agencies_without_leader(e) == [world.health]


def test_a_leader_guest_is_gone_when_the_escalation_closes(world, django_capture_on_commit_callbacks):
    e = with_probation(world, 3)
    guest = confirmed(
        named_leader(world, e, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    services.escalation_resolve(
        actor=world.senior_health,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="A joint visit.",
        child_centred_outcome_achieved="yes",
    )
    e = Escalation.objects.get(pk=e.pk)
    assert not guest.account.has_perm("escalations.view", e) and allowed_actions(guest.account, e) == set()
    with pytest.raises(ValidationError):
        g.guest_name_leader(
            actor=world.manager_health, escalation=e, agency_id=world.other.pk, email="x@justice.gov.uk"
        )


def test_made_a_person_they_hold_the_tiers_role_and_are_named_as_no_practitioner(
    world, django_capture_on_commit_callbacks
):
    e = with_probation(world, 3)
    guest = confirmed(
        named_leader(world, e, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks
    )
    assert g.guest_person_roles(guest) == [Role.SENIOR_LEADER]
    account = guest.account
    person_save(
        actor=world.admin,
        partnership=world.partnership,
        person=account,
        details=PersonDetails(
            first_name="Hattie",
            last_name="Head",
            email=HEAD,
            agency=world.other,
            roles=g.guest_person_roles(guest),
        ),
    )
    account.refresh_from_db()
    assert g.guests_made_person(actor=world.admin, account=account, partnership=world.partnership) == []
    e = Escalation.objects.get(pk=e.pk)
    assert e.with_practitioner_id is None and not e.others()
    person = type(account).objects.get(pk=account.pk)
    assert Escalation.objects.visible_to(person).filter(pk=e.pk).exists()  # as probation's senior leader
    assert "resolve" in allowed_actions(person, e)
    assert g.agencies_without_leader(e) == []  # probation has its senior leader in Accord now
