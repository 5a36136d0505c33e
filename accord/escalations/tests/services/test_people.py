"""When people move on: the raiser's or a named practitioner's part handed to someone else in
the same agency by that agency's managers and leaders (with a reason, on the timeline,
audited, told), who may then see it and the one before may not (rule 7, in the query and the
kept table alike); and a leaver's open work handed on when their account is deactivated."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotAllowed, NotFound
from accord.escalations import services, visibility
from accord.escalations.models import Escalation, EventType
from accord.escalations.notices import NoticeKind as Kind
from accord.notifications.models import Notification
from accord.partnership.models import Role
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def sees(person, escalation) -> bool:
    return Escalation.objects.visible_to(person).filter(pk=escalation.pk).exists()


@pytest.fixture
def colleague(world):
    return UserFactory(
        username="second.social",
        agency=world.social,
        roles=[(world.partnership, Role.PRACTITIONER)],
        line_manager=world.manager_social,
    )


def test_the_receiving_agencys_manager_hands_the_named_practitioners_part_on(world, colleague):
    e = world.raised()
    assert sees(world.practitioner_social, e) and not sees(colleague, e)
    services.escalation_reassign(
        actor=world.manager_social,
        escalation=e,
        holder=str(world.social.pk),
        to_username=colleague.username,
        reason="Moved to the east locality team.",
    )
    e.refresh_from_db()
    assert e.with_practitioner == colleague
    assert sees(colleague, e) and not sees(world.practitioner_social, e)
    assert visibility.differences() == (0, 0, 0)  # the kept table agrees with the query
    event = e.events.get(type=EventType.REASSIGNED)
    assert "east locality" in event.summary
    assert AuditEvent.objects.get(verb=Verb.REASSIGNED).payload["after"] == colleague.username
    assert Notification.objects.filter(recipient=colleague, kind=Kind.REASSIGNED_TO_YOU).exists()


def test_only_that_agencys_leaders_and_only_within_the_agency(world, colleague):
    e = world.raised()
    with pytest.raises(NotAllowed):  # health's manager may not hand on social care's part
        services.escalation_reassign(
            actor=world.manager_health,
            escalation=e,
            holder=str(world.social.pk),
            to_username=colleague.username,
            reason="x",
        )
    with pytest.raises(NotAllowed):  # a practitioner is not a leader
        services.escalation_reassign(
            actor=world.practitioner_social,
            escalation=e,
            holder=str(world.social.pk),
            to_username=colleague.username,
            reason="x",
        )
    with pytest.raises(NotFound):  # someone who may not see it is not told it exists
        services.escalation_reassign(
            actor=world.manager_other,
            escalation=e,
            holder="raiser",
            to_username=colleague.username,
            reason="x",
        )
    with pytest.raises(ValidationError) as wrong:  # to someone of another agency
        services.escalation_reassign(
            actor=world.manager_social,
            escalation=e,
            holder=str(world.social.pk),
            to_username=world.practitioner_health.username,
            reason="x",
        )
    assert "same agency" in str(wrong.value)
    with pytest.raises(ValidationError):  # the reason is needed
        services.escalation_reassign(
            actor=world.manager_social,
            escalation=e,
            holder=str(world.social.pk),
            to_username=colleague.username,
            reason=" ",
        )
    assert Escalation.objects.get(pk=e.pk).with_practitioner == world.practitioner_social


def test_the_raisers_part_goes_to_someone_of_the_raising_agency_who_may_raise(world):
    e = world.raised()
    other_raiser = UserFactory(
        username="second.health", agency=world.health, roles=[(world.partnership, Role.PRACTITIONER)]
    )
    no_role = UserFactory(username="roleless.health", agency=world.health, roles=[])
    with pytest.raises(ValidationError):
        services.escalation_reassign(
            actor=world.manager_health,
            escalation=e,
            holder="raiser",
            to_username=no_role.username,
            reason="x",
        )
    services.escalation_reassign(
        actor=world.manager_health,
        escalation=e,
        holder="raiser",
        to_username=other_raiser.username,
        reason="On long-term leave.",
    )
    e.refresh_from_db()
    assert e.raised_by == other_raiser and sees(other_raiser, e) and not sees(world.practitioner_health, e)
    assert visibility.differences() == (0, 0, 0)


def test_a_leavers_open_work_is_handed_on(world):
    raised = world.raised()
    named = world.raised(raiser=world.practitioner_health)
    world.practitioner_social.is_active = False
    world.practitioner_social.save()
    handed = services.person_left(actor=world.admin, person=world.practitioner_social)
    assert handed == 2  # named on both
    for e in (raised, named):
        e.refresh_from_db()
        assert e.with_practitioner is None and sees(world.manager_social, e)  # the managers receive it
        assert "has left" in e.events.get(type=EventType.REASSIGNED).summary
    world.practitioner_health.is_active = False
    world.practitioner_health.save()
    assert services.person_left(actor=world.admin, person=world.practitioner_health) == 2
    raised.refresh_from_db()
    assert raised.raised_by == world.practitioner_health.line_manager  # their line manager raises it now
    assert visibility.differences() == (0, 0, 0)


def test_the_api_and_the_page_reassign_with_the_same_refusals(client, world, colleague):
    e = world.raised()
    body = {"holder": world.social.pk, "to": colleague.username, "reason": "Moved team."}
    refused = Api(client, world.manager_health).post(f"/escalations/{e.pk}/reassign", body)
    assert refused.status_code == 403
    unseen = Api(client, world.manager_other).post(f"/escalations/{e.pk}/reassign", body)
    assert unseen.status_code == 404
    done = Api(client, world.manager_social).post(f"/escalations/{e.pk}/reassign", body)
    assert done.status_code == 200, done.content
    assert done.json()["with_practitioner"] == colleague.username
    sign_in(client, world.manager_social)
    assert client.get(f"/escalations/{e.pk}/reassign/").status_code == 200
    back = client.post(
        f"/escalations/{e.pk}/reassign/",
        {
            "holder": str(world.social.pk),
            "to": world.practitioner_social.username,
            "reason": "Back again.",
            "version": Escalation.objects.get(pk=e.pk).version,
        },
    )
    assert back.status_code == 302 and back["Location"] == f"/escalations/{e.pk}/"
    assert Escalation.objects.get(pk=e.pk).with_practitioner == world.practitioner_social
    # Handed to someone they do not manage, the manager's part in it ends: 204, nothing of it.
    stranger = UserFactory(
        username="third.social", agency=world.social, roles=[(world.partnership, Role.PRACTITIONER)]
    )
    ended = Api(client, world.manager_social).post(
        f"/escalations/{e.pk}/reassign", {**body, "to": stranger.username}
    )
    assert ended.status_code == 204 and ended.content == b"" and ended["Location"].endswith(f"/{e.pk}")


def test_the_reflection_stays_with_the_line_manager_who_managed_the_raiser_when_it_was_written(world):
    e = world.raised(reflection="I may be too close to this family.")  # line-managed by manager_health
    assert e.reflection and e.reflection_reader == world.manager_health
    assert world.manager_health.has_perm("escalations.read_reflection", e)
    # The raiser moves to social care, managed there: the new manager may not read it.
    raiser = world.practitioner_health
    raiser.agency, raiser.line_manager = world.social, world.manager_social
    raiser.save()
    fresh = Escalation.objects.get(pk=e.pk)
    assert not world.manager_social.has_perm("escalations.read_reflection", fresh)
    assert raiser.has_perm("escalations.read_reflection", fresh)  # still theirs, as its raiser


def test_a_mover_hands_on_what_they_were_named_on_for_the_old_agency(world, colleague):
    e = world.raised()  # named: practitioner_social
    mover = world.practitioner_social
    mover.agency = world.other
    mover.save()
    assert services.person_moved(actor=world.admin, person=mover) == 1
    e.refresh_from_db()
    assert e.with_practitioner is None and sees(world.manager_social, e) and not sees(mover, e)
    assert "moved to another agency" in e.events.get(type=EventType.REASSIGNED).summary
    assert visibility.differences() == (0, 0, 0)


def test_not_to_someone_of_a_shared_agency_who_works_only_in_the_other_partnership(world, other_world):
    from accord.partnership.models import PartnershipAgency

    PartnershipAgency.objects.create(partnership=other_world.partnership, agency=world.social)
    elsewhere = UserFactory(
        username="social.elsewhere", agency=world.social, roles=[(other_world.partnership, Role.PRACTITIONER)]
    )
    e = world.raised()
    with pytest.raises(ValidationError, match="works on escalations in this partnership"):
        services.escalation_reassign(
            actor=world.manager_social,
            escalation=e,
            holder=str(world.social.pk),
            to_username=elsewhere.username,
            reason="Moved team.",
        )
    assert Escalation.objects.get(pk=e.pk).with_practitioner == world.practitioner_social


def test_a_raiser_who_moves_agency_keeps_what_they_raised_and_their_new_manager_gains_none_of_it(world):
    e = world.raised()  # raised from health by practitioner_health, line-managed by manager_health
    raiser = world.practitioner_health
    assert sees(world.manager_health, e)
    raiser.agency, raiser.line_manager = world.other, world.manager_other
    raiser.save()
    fresh = Escalation.objects.get(pk=e.pk)
    assert sees(raiser, fresh) and raiser.has_perm("escalations.view", fresh)
    # Their new manager, in probation, manages them now but not what was raised from health:
    # not in the list, not by the permission, not in the kept table.
    assert not sees(world.manager_other, fresh)
    assert not world.manager_other.has_perm("escalations.view", fresh)
    assert not world.manager_other.has_perm("escalations.withdraw", fresh)
    assert visibility.differences() == (0, 0, 0)
    assert visibility.count_visible(world.manager_other, world.partnership.pk) == 0
    # A new escalation they raise from probation is their new manager's to see.
    later = world.raised(raiser=raiser, with_agency=world.social)
    assert sees(world.manager_other, later) and world.manager_other.has_perm("escalations.view", later)
    assert visibility.differences() == (0, 0, 0)
