"""Notifications and reminders that never miss, never repeat and never leak."""

import datetime as dt
import socket
import threading

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.utils import timezone

from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Outcome, PdgActionKind
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.notices import send_due_reminders
from accord.notifications.models import EmailState, Notification
from accord.notifications.services import deliver_pending, render_email, send_digests
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def kinds_for(user):
    return set(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_who_is_told_what(world):
    e = world.raised()
    assert kinds_for(world.practitioner_social) == {Kind.RAISED_WITH_YOU}
    assert kinds_for(world.practitioner_health) == set()  # not told of their own action
    world.consulted(e)
    assert Kind.DISCUSSION in kinds_for(world.practitioner_social)
    e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="x")
    assert Kind.REACHED_YOUR_STAGE in kinds_for(world.manager_social)
    assert Kind.REACHED_YOUR_STAGE in kinds_for(world.manager_health)
    assert Kind.REACHED_YOUR_STAGE not in kinds_for(world.manager_other)
    e = services.escalation_escalate(actor=world.manager_health, escalation=e, reason="x")
    assert Kind.REACHED_YOUR_STAGE in kinds_for(world.senior_social)
    e = services.escalation_escalate(
        actor=world.senior_health, escalation=e, reason="x", efforts_to_resolve="y"
    )
    assert Kind.REACHED_YOUR_STAGE in kinds_for(world.pdg_member)
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
    )
    assert Kind.FACILITATOR_APPOINTED in kinds_for(world.facilitator)
    assert Kind.FACILITATOR_APPOINTED in kinds_for(world.practitioner_health)
    services.escalation_resolve(
        actor=world.senior_social,
        escalation=e,
        outcome=Outcome.DECISION_CHANGED,
        agreed_way_forward="w",
        child_centred_outcome_achieved="yes",
    )
    assert Kind.RESOLVED in kinds_for(world.practitioner_health)
    assert not Notification.objects.filter(
        recipient__in=[world.executive, world.auditor, world.practitioner_other]
    ).exists()


def test_an_escalation_with_no_named_practitioner_goes_to_the_agencys_managers(world):
    world.raised(with_practitioner_username="")
    assert kinds_for(world.manager_social) == {Kind.RAISED_WITH_YOU}


def test_no_notification_carries_personal_data(world, client):
    secret_bits = [
        "Philomena Quartz-Ellery",
        "2017-09-23",
        "23 September 2017",
        "PQ-SECRET-771",
        "Unmistakable concern text",
        "Hidden reflection",
    ]
    e = world.raised(
        children=[
            services.ChildDetails(
                name=secret_bits[0], date_of_birth=dt.date(2017, 9, 23), agency_reference=secret_bits[3]
            )
        ],
        concern=secret_bits[4],
        summary="Summary with Philomena Quartz-Ellery in it",
        reflection=secret_bits[5],
    )
    world.consulted(e)
    services.escalation_escalate(
        actor=world.practitioner_health, escalation=e, reason="Philomena Quartz-Ellery again"
    )
    world.practitioner_social.email_digest = True
    world.practitioner_social.save()
    texts = []
    for n in Notification.objects.select_related("partnership"):
        texts.extend(render_email(n))
    for kind in Kind.values:  # every template, for every kind
        n = Notification(
            about=f"escalation:{e.pk}",
            partnership=e.partnership,
            kind=kind,
            stage=2,
            due_date=dt.date(2026, 12, 1),
            recipient=world.manager_health,
            key="x",
        )
        texts.extend(render_email(n))
    with clock.set_to(at(2026, 12, 1, 9)):
        send_digests()
    texts.extend(m.subject + m.body for m in mail.outbox)
    sign_in(client, world.practitioner_social)
    texts.append(client.get("/notifications/").content.decode())
    blob = "\n".join(texts)
    assert e.reference in blob
    for bit in [*secret_bits, "Philomena", "Quartz"]:
        assert bit not in blob, bit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf8", "replace"))
        return "250 OK"


def test_the_outbox_survives_a_mail_server_outage_and_delivers_exactly_once(world, settings):
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        world.raised()
        assert deliver_pending() == 1
        assert len(inbox.messages) == 1 and "Subject: Accord TST-" in inbox.messages[0]
    finally:
        server.stop()

    # The server is down: the next notifications wait in the outbox.
    world.raised()
    world.raised()
    assert deliver_pending() == 0
    waiting = Notification.objects.filter(email_state=EmailState.PENDING)
    assert waiting.count() == 2 and all(n.attempts == 1 and n.last_error for n in waiting)

    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        assert deliver_pending() == 0  # backing off: not yet time to retry
        with clock.set_to(timezone.now() + dt.timedelta(minutes=5)):
            assert deliver_pending() == 2
            assert deliver_pending() == 0  # nothing is sent twice
    finally:
        server.stop()
    assert len(inbox.messages) == 3
    ids = [line for m in inbox.messages for line in m.splitlines() if line.lower().startswith("message-id")]
    assert len(set(ids)) == 3
    assert Notification.objects.filter(email_state=EmailState.SENT).count() == 3


def test_people_without_email_are_told_in_accord_only(world):
    world.practitioner_social.email = ""
    world.practitioner_social.save()
    world.raised()
    n = Notification.objects.get(recipient=world.practitioner_social)
    assert n.email_state == EmailState.NOT_SENT
    assert deliver_pending() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_deliver_each_notification_exactly_once(world):
    from django.db import close_old_connections

    for _ in range(15):
        world.raised(with_practitioner_username="")  # each goes to the social care managers
    total = Notification.objects.filter(email_state=EmailState.PENDING).count()
    assert total >= 15
    barrier = threading.Barrier(2)
    counts = []

    def worker():
        try:
            barrier.wait(timeout=10)
            n = 0
            while True:
                sent = deliver_pending(batch=3)
                if not sent:
                    break
                n += sent
            counts.append(n)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(counts) == total
    assert len(mail.outbox) == total
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == total


def test_reminders_skip_weekends_and_bank_holidays_and_never_repeat(world):
    # Raised Friday 18 December 2026: stage 1 is due Tuesday 29 December.
    e = world.raised(at=at(2026, 12, 18))
    Notification.objects.all().delete()
    assert e.due_date == dt.date(2026, 12, 29)
    # Thursday 24th: the next working day is Tuesday 29th, so "due soon" goes now, once, to
    # the stage's workers and their line managers (rule 6).
    with clock.set_to(at(2026, 12, 24, 10)):
        assert send_due_reminders() == 4
        assert send_due_reminders() == 0
    due_soon = set(
        Notification.objects.filter(kind=Kind.DUE_SOON).values_list("recipient__username", flat=True)
    )
    assert due_soon == {
        world.practitioner_health.username,
        world.practitioner_social.username,
        world.manager_health.username,
        world.manager_social.username,
    }
    # Christmas Day, the weekend and the substitute Boxing Day bank holiday: nothing.
    for day in (25, 26, 27, 28):
        with clock.set_to(at(2026, 12, day, 10)):
            assert send_due_reminders() == 0
    # Outside working hours: nothing.
    with clock.set_to(at(2026, 12, 30, 20)):
        assert send_due_reminders() == 0
    # Wednesday 30th: overdue, to its owners and their line managers, once.
    with clock.set_to(at(2026, 12, 30, 10)):
        created = send_due_reminders()
        assert send_due_reminders() == 0
    overdue = set(
        Notification.objects.filter(kind=Kind.OVERDUE).values_list("recipient__username", flat=True)
    )
    assert overdue == {
        world.practitioner_health.username,
        world.practitioner_social.username,
        world.manager_health.username,
        world.manager_social.username,
    }
    assert created == 4
    # Still overdue five and ten working days later: never told twice (rule 6).
    for day in (7, 14):
        with clock.set_to(at(2027, 1, day, 10)):
            assert send_due_reminders() == 0


def test_a_partnership_that_asks_for_an_overdue_repeat_gets_one_every_so_many_working_days(world):
    """The presets leave it off; a partnership may set one (its own setting, not the deployment's)."""
    assert world.partnership.overdue_reminder_repeat_working_days == 0
    world.partnership.overdue_reminder_repeat_working_days = 5
    world.partnership.save(update_fields=["overdue_reminder_repeat_working_days"])
    world.raised(at=at(2026, 12, 18))  # due Tuesday 29 December
    with clock.set_to(at(2026, 12, 30, 10)):
        send_due_reminders()
    with clock.set_to(at(2027, 1, 7, 10)):  # five working days on
        assert send_due_reminders() == 4
        assert send_due_reminders() == 0


def test_catching_up_after_downtime_sends_only_the_current_reminder(world):
    world.raised(at=at(2026, 11, 2))  # due Monday 9 November
    Notification.objects.all().delete()
    with clock.set_to(at(2026, 11, 11, 11)):  # the worker was down since before the due date
        send_due_reminders()
    assert not Notification.objects.filter(kind=Kind.DUE_SOON).exists()
    assert Notification.objects.filter(kind=Kind.OVERDUE).count() == 4


def test_a_paused_or_closed_escalation_gets_no_reminders(world):
    e = world.raised(at=at(2026, 11, 2))
    services.escalation_pause(actor=world.manager_social, escalation=e, reason="conference")
    Notification.objects.all().delete()
    with clock.set_to(at(2026, 11, 20, 10)):
        assert send_due_reminders() == 0


def test_the_daily_digest_gathers_updates_into_one_email(world):
    world.practitioner_social.email_digest = True
    world.practitioner_social.save()
    world.raised()
    world.raised()
    assert deliver_pending() == 0
    with clock.set_to(timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(6)))):
        assert send_digests() == 0  # before the digest hour
    with clock.set_to(timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(9)))):
        assert send_digests() == 1
        assert send_digests() == 0
    assert len(mail.outbox) == 1 and mail.outbox[0].body.count("TST-") == 2


def test_the_notification_list_marks_items_read(world, client):
    world.raised()
    sign_in(client, world.practitioner_social)
    home = client.get("/").content.decode()
    assert "Notifications (1)" in home
    page = client.get("/notifications/").content.decode()
    assert "An escalation was raised with you" in page
    assert "Notifications (1)" not in page  # read now, on this page too
    assert "Notifications (1)" not in client.get("/").content.decode()
    client.post("/notifications/", {"frequency": "digest"})
    world.practitioner_social.refresh_from_db()
    assert world.practitioner_social.email_digest


def _sweep_queries(world) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with clock.set_to(at(2026, 11, 11, 11)), CaptureQueriesContext(connection) as ctx:
        created = send_due_reminders()
    return created, len(ctx.captured_queries)


def test_the_reminder_sweep_makes_the_same_number_of_queries_however_many_are_overdue(world):
    """Owners, line managers and stage owners are read once a sweep, not once an escalation."""
    world.raised(at=at(2026, 11, 2))
    world.raised(at=at(2026, 11, 2), raiser=world.practitioner_social, with_agency=world.health)
    Notification.objects.all().delete()
    created, few = _sweep_queries(world)
    assert created > 0
    for _ in range(5):
        world.raised(at=at(2026, 11, 2))
        world.raised(at=at(2026, 11, 2), raiser=world.practitioner_social, with_agency=world.health)
    Notification.objects.all().delete()
    created_more, many = _sweep_queries(world)
    assert created_more > created and many == few


def test_raising_makes_the_same_number_of_queries_whoever_is_told(world):
    """Telling an agency's managers (no named practitioner) costs no query a manager."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.testing.factories import UserFactory

    def raise_one():
        with CaptureQueriesContext(connection) as ctx:
            world.raised(
                raiser=world.practitioner_social, with_agency=world.health, with_practitioner_username=""
            )
        return len(ctx.captured_queries)

    raise_one()  # warm: the year's first reference creates its counter; the raiser's roles are cached
    few = raise_one()
    for i in range(4):
        UserFactory(username=f"extra.manager{i}", agency=world.health, roles=[(world.partnership, "manager")])
    assert raise_one() == few
    assert Notification.objects.filter(
        kind=Kind.RAISED_WITH_YOU, recipient__username="extra.manager0"
    ).exists()


def test_the_outbox_knows_the_kinds_only_as_the_apps_register_them():
    """A generic outbox: the escalations and the PDG's meetings register their own kinds (code
    and words) as their apps load; the outbox's own code names none of them."""
    from pathlib import Path

    from accord.notifications import models as outbox
    from accord.notifications import services as delivery
    from accord.reports.services import MeetingNoticeKind

    assert set(Kind.values) | set(MeetingNoticeKind.values) <= set(outbox.kind_codes())
    assert outbox.kind_label(Kind.REACHED_YOUR_STAGE) == "An escalation reached your stage"
    for module in (outbox, delivery):
        source = Path(module.__file__).read_text()
        assert "raised_with_you" not in source and "meeting_action" not in source
