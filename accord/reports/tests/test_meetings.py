"""The PDG's meetings recorded by the business unit and the PDG's chair on Accord's own pages:
a meeting's record, the actions it asked of people with owners and dates, audited; nobody
else, and no other partnership's recorder, reaches them."""

import datetime as dt

import pytest

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import NotAllowed
from accord.reports.models import MeetingAction, PdgMeeting
from accord.reports.services import meeting_save
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 3)


def day_fields(prefix: str, day: dt.date) -> dict:
    return {f"{prefix}-day": day.day, f"{prefix}-month": day.month, f"{prefix}-year": day.year}


@pytest.mark.parametrize("recorder", ["admin", "pdg_chair"])
def test_a_meeting_and_what_it_asked_for_are_recorded_on_the_pages(client, world, recorder):
    sign_in(client, getattr(world, recorder))
    with clock.set_to(dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC)):
        created = client.post(
            "/reports/meetings/new/",
            {"form": "meeting", **day_fields("held_on", DAY), "discussed": "The quarter's escalations"},
        )
        assert created.status_code == 302
        meeting = PdgMeeting.objects.get(partnership=world.partnership, held_on=DAY)
        added = client.post(
            f"/reports/meetings/{meeting.pk}/",
            {
                "form": "action",
                "action-description": "Brief the health teams on the learning",
                "action-owner_email": world.manager_health.email,
                **day_fields("action-due_on", dt.date(2026, 11, 20)),
            },
        )
        assert added.status_code == 302
    action = MeetingAction.objects.get(meeting=meeting)
    assert action.owner == world.manager_health and action.due_on == dt.date(2026, 11, 20)
    assert AuditEvent.objects.filter(verb=Verb.MEETING_RECORDED).count() == 1
    assert AuditEvent.objects.filter(verb=Verb.MEETING_ACTION_ADDED).count() == 1
    listed = client.get("/reports/meetings/")
    assert listed.status_code == 200 and "3 November 2026" in listed.content.decode()


def test_an_action_is_asked_only_of_someone_of_the_partnership_and_not_before_the_meeting(
    client, world, neighbour
):
    meeting = PdgMeeting.objects.create(partnership=world.partnership, held_on=DAY)
    sign_in(client, world.admin)
    refused = client.post(
        f"/reports/meetings/{meeting.pk}/",
        {
            "form": "action",
            "action-description": "Brief the team",
            "action-owner_email": neighbour.manager_social.email,  # another partnership's
            **day_fields("action-due_on", dt.date(2026, 11, 1)),
        },
    )
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "works in this partnership now" in html and "on or after the meeting" in html
    assert not MeetingAction.objects.exists()


def test_one_meeting_a_day_and_none_in_the_future(world):
    with clock.set_to(dt.datetime(2026, 11, 10, 10, tzinfo=dt.UTC)):
        meeting_save(actor=world.admin, partnership=world.partnership, held_on=DAY)
        with pytest.raises(Exception, match="recorded already"):
            meeting_save(actor=world.admin, partnership=world.partnership, held_on=DAY)
        with pytest.raises(Exception, match="has been held"):
            meeting_save(actor=world.admin, partnership=world.partnership, held_on=dt.date(2026, 12, 1))


@pytest.mark.parametrize("role", ["pdg_member", "executive", "manager_health"])
def test_only_the_business_unit_and_the_pdg_chair_record_meetings(client, world, neighbour, role):
    with pytest.raises(NotAllowed):
        meeting_save(actor=getattr(world, role), partnership=world.partnership, held_on=DAY)
    with pytest.raises(NotAllowed):  # another partnership's business unit, sharing an agency
        meeting_save(actor=neighbour.admin, partnership=world.partnership, held_on=DAY)
    sign_in(client, getattr(world, role))
    assert (
        client.post("/reports/meetings/new/", {"form": "meeting", **day_fields("held_on", DAY)}).status_code
        == 403
    )
    assert not PdgMeeting.objects.exists()


def test_the_meetings_list_costs_the_same_queries_however_many_meetings(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.admin)
    client.get("/reports/meetings/")
    for n in range(30):
        meeting = PdgMeeting.objects.create(
            partnership=world.partnership, held_on=DAY - dt.timedelta(days=7 * n)
        )
        MeetingAction.objects.create(meeting=meeting, description="x", owner=world.manager_health, due_on=DAY)
    with django_assert_max_num_queries(12):
        assert client.get("/reports/meetings/").status_code == 200
