"""What a PDG meeting asks for is followed through: listed with the next standing item, on its
owner's home page, marked done once by the owner (or their line manager, the PDG or the
business unit) with a note, audited, and chased while overdue on the same once-only rules as
the escalations' reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import IllegalTransition, NotFound
from accord.notifications.models import Notification
from accord.notifications.services import render_email
from accord.reports.models import MeetingAction, PdgMeeting
from accord.reports.services import MeetingNoticeKind as Kind
from accord.reports.services import chase_meeting_actions, meeting_action_done
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def at(m, d, h=10):
    return timezone.make_aware(dt.datetime(2026, m, d, h))


@pytest.fixture
def asked(world):
    """The meeting of Tuesday 3 November 2026 asked the health manager for a briefing by
    Friday 13 November."""
    meeting = PdgMeeting.objects.create(
        partnership=world.partnership,
        held_on=dt.date(2026, 11, 3),
        decided="Thresholds to be re-briefed.",
        asked_for="A briefing on the thresholds document.",
    )
    return MeetingAction.objects.create(
        meeting=meeting,
        description="Brief health practitioners on the thresholds document.",
        owner=world.manager_health,
        due_on=dt.date(2026, 11, 13),
    )


def test_an_overdue_action_is_chased_to_its_owner_and_their_line_manager_once_an_interval(world, asked):
    assert world.manager_health.line_manager_id is not None
    with clock.set_to(at(11, 13)):  # due today: not overdue
        assert chase_meeting_actions() == 0
    with clock.set_to(at(11, 16)):
        assert chase_meeting_actions() == 2
        assert chase_meeting_actions() == 0  # once
    told = set(
        Notification.objects.filter(kind=Kind.MEETING_ACTION_OVERDUE).values_list("recipient", flat=True)
    )
    assert told == {world.manager_health.pk, world.manager_health.line_manager_id}
    note = Notification.objects.filter(kind=Kind.MEETING_ACTION_OVERDUE).first()
    assert note.about == "" and note.path == f"/reports/meetings/actions/{asked.pk}/"
    subject, body = render_email(note)
    assert (
        "Meeting of the Practice Development Group, 3 November 2026" in subject
        and f"/reports/meetings/actions/{asked.pk}/" in body
    )
    assert "thresholds" not in body  # a link, never the words
    with clock.set_to(at(11, 16, 20)):  # outside working hours: nothing
        assert chase_meeting_actions() == 0
    with clock.set_to(at(11, 24)):  # five working days on: again, once
        assert chase_meeting_actions() == 2
    meeting_action_done(actor=world.manager_health, action_id=asked.pk, note="Briefed at the team meeting.")
    with clock.set_to(at(12, 8)):
        assert chase_meeting_actions() == 0  # done: no longer chased


def test_marked_done_once_by_those_who_follow_it_audited(world, asked):
    with pytest.raises(NotFound):  # someone else's, and not theirs to follow up
        meeting_action_done(actor=world.practitioner_social, action_id=asked.pk)
    done = meeting_action_done(actor=world.pdg_chair, action_id=asked.pk, note="Reported at the meeting.")
    assert done.done_by == world.pdg_chair and done.done_note == "Reported at the meeting."
    assert AuditEvent.objects.filter(verb=Verb.MEETING_ACTION_DONE, actor=world.pdg_chair).exists()
    with pytest.raises(IllegalTransition):
        meeting_action_done(actor=world.manager_health, action_id=asked.pk)


def test_the_owner_sees_it_at_home_and_marks_it_done_on_its_page(client, world, asked):
    sign_in(client, world.manager_health)
    home = client.get("/").content.decode()
    assert "Brief health practitioners on the thresholds document." in home
    page = client.get(f"/reports/meetings/actions/{asked.pk}/")
    assert page.status_code == 200
    done = client.post(f"/reports/meetings/actions/{asked.pk}/", {"note": "Done at the briefing."})
    assert done.status_code == 302
    asked.refresh_from_db()
    assert asked.done_on is not None and asked.done_by == world.manager_health
    assert "Brief health practitioners" not in client.get("/").content.decode()
    client.logout()
    sign_in(client, world.practitioner_social)
    assert client.get(f"/reports/meetings/actions/{asked.pk}/").status_code == 404


def test_the_next_standing_item_follows_up_each_action(client, world, asked):
    sign_in(client, world.pdg_member)
    html = client.get("/reports/pdg/").content.decode()
    assert "Brief health practitioners on the thresholds document." in html
    assert "13 Nov 2026" in html
