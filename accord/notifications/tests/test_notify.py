"""The outbox through GOV.UK Notify: against a stand-in for Notify's API that the tests start
(``accord/testing/notify.py``), the same rules as SMTP: each notice once, across an outage
and a lost answer; retried with back-off; digests after the digest hour; no personal data."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from accord.core import clock
from accord.escalations import services
from accord.escalations.notices import NoticeKind as Kind
from accord.notifications import channels
from accord.notifications.checks import (
    notify_settings,
    refuse_to_start_without_notify_templates,
    templates_needed,
)
from accord.notifications.models import EmailState, Notification, kind_codes
from accord.notifications.services import deliver_pending, outbox_rows, save_notifications, send_digests
from accord.testing.notify import NotifyStandIn, placeholders

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[3] / "docs" / "notify.md"


def documented_template(name: str) -> str:
    """The suggested text of a template in docs/notify.md (its fenced block)."""
    found = re.search(rf"```notify-{name}\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert found, name
    return found.group(1)


def later(minutes: int):
    return clock.set_to(clock.now() + dt.timedelta(minutes=minutes))


def today_at(hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(), dt.time(hour)))


@pytest.fixture
def notify(settings):
    """The stand-in, with a template for every kind of notice and the digest, each requiring
    the placeholders of the text docs/notify.md suggests; Accord's settings pointing at it."""
    notice = placeholders(documented_template("notice"))
    digest = placeholders(documented_template("digest"))
    assert {"reference", "kind", "link"} <= set(notice) and "updates" in digest
    templates = {kind: notice for kind in kind_codes()} | {channels.DIGEST: digest}
    with NotifyStandIn(templates=templates) as stand_in:
        settings.ACCORD_NOTIFY_API_KEY = stand_in.api_key
        settings.ACCORD_NOTIFY_BASE_URL = stand_in.url
        settings.ACCORD_NOTIFY_TEMPLATES = dict(stand_in.template_ids)
        settings.ACCORD_NOTIFY_TIMEOUT = 2
        yield stand_in


def pending():
    return Notification.objects.filter(email_state=EmailState.PENDING)


def test_smtp_stays_the_default(settings):
    assert settings.ACCORD_NOTIFY_API_KEY == ""
    assert isinstance(channels.current(), channels.SmtpChannel)
    settings.ACCORD_NOTIFY_API_KEY = "k"
    assert isinstance(channels.current(), channels.NotifyChannel)


def test_a_notice_goes_through_notify_with_its_kinds_template_and_its_rows_reference(world, notify):
    world.raised()
    n = Notification.objects.get(kind=Kind.RAISED_WITH_YOU)
    assert deliver_pending() == 1
    assert mail.outbox == []  # not by SMTP
    [email] = notify.emails
    assert email["email_address"] == world.practitioner_social.email
    assert email["template"]["id"] == notify.template_ids[Kind.RAISED_WITH_YOU]
    assert email["reference"] == f"accord-notification-{n.pk}"
    p = email["personalisation"]
    assert p["kind"] == "An escalation was raised with you" and p["reference"] == n.subject
    assert p["link"].startswith("https://accord.test/") and p["partnership"] == world.partnership.name
    assert all(r.authorised for r in notify.requests)
    n.refresh_from_db()
    assert n.email_state == EmailState.SENT and n.sent_as == email["reference"]
    assert deliver_pending() == 0 and len(notify.emails) == 1


def test_every_kind_of_notice_has_its_own_template(world, notify):
    e = world.raised()
    Notification.objects.all().delete()
    for kind in kind_codes():
        save_notifications(
            outbox_rows(
                partnership_id=world.partnership.pk,
                subject=e.reference,
                path="/",
                kind=kind,
                recipients=[world.manager_health],
                key=f"every:{kind}",
                stage=2,
                due_date=dt.date(2026, 12, 29),
            )
        )
    assert deliver_pending() == len(kind_codes())
    assert sorted(m["template"]["id"] for m in notify.emails) == sorted(
        notify.template_ids[k] for k in kind_codes()
    )
    p = notify.emails[0]["personalisation"]
    assert p["stage"] == "2" and p["due_date"] == "Tuesday 29 December 2026"
    assert p["details"] == "Stage: 2\nDue by: Tuesday 29 December 2026"


def test_the_outbox_survives_a_notify_outage_and_sends_each_notice_exactly_once(world, notify):
    world.raised()
    assert deliver_pending() == 1

    notify.stop()  # Notify is down: the next notices wait in the outbox
    world.raised()
    world.raised()
    assert deliver_pending() == 0
    assert pending().count() == 2 and all(n.attempts == 1 and n.last_error for n in pending())

    notify.start()
    assert deliver_pending() == 0  # backing off: not yet time to retry
    notify.fail_next(1)  # up, but failing: a 500 holds back the whole pass
    with later(5):
        assert deliver_pending() == 0
    assert all(n.attempts == 2 and "500" in n.last_error for n in pending())
    with later(5):
        assert deliver_pending() == 0  # the second back-off is longer
    with later(15):
        assert deliver_pending() == 2
        assert deliver_pending() == 0  # nothing is sent twice
    references = [m["reference"] for m in notify.emails]
    assert len(references) == 3 and len(set(references)) == 3
    assert set(references) == {
        f"accord-notification-{pk}" for pk in Notification.objects.values_list("pk", flat=True)
    }
    assert Notification.objects.filter(email_state=EmailState.SENT).count() == 3


def test_a_notice_notify_received_but_never_answered_is_not_sent_again(world, notify, settings):
    settings.ACCORD_NOTIFY_TIMEOUT = 0.5  # (the stand-in answers after 2 seconds)
    notify.answer_late(1, seconds=2)  # Notify takes it, and its answer comes too late
    world.raised()
    assert deliver_pending() == 0
    n = pending().get()
    assert n.attempts == 1 and n.sent_as == f"accord-notification-{n.pk}"
    assert len(notify.emails) == 1
    with later(5):
        assert deliver_pending() == 1  # Notify says it has it: marked sent, not sent again
    assert len(notify.emails_with(n.sent_as)) == 1
    asked = [r for r in notify.requests if r.method == "GET"]
    assert len(asked) == 1 and asked[0].path == "/v2/notifications"
    n.refresh_from_db()
    assert n.email_state == EmailState.SENT


def test_a_notice_notify_never_received_is_sent_on_the_next_try(world, notify):
    notify.fail_next(1)
    world.raised()
    assert deliver_pending() == 0
    with later(5):
        assert deliver_pending() == 1
    assert len(notify.emails) == 1  # asked first (nothing there), then sent once
    assert [r.method for r in notify.requests] == ["POST", "GET", "POST"]


def test_notify_refusing_one_message_holds_back_only_that_one(world, notify):
    world.raised()
    world.raised()
    first, second = pending().order_by("id")
    notify.require(Kind.RAISED_WITH_YOU, "not_given")  # Notify refuses the first with a 400
    Notification.objects.filter(pk=second.pk).update(kind=Kind.DISCUSSION)
    assert deliver_pending() == 1  # the first refused; the second sent in the same pass
    first.refresh_from_db()
    assert first.email_state == EmailState.PENDING and "not_given" in first.last_error
    assert [m["reference"] for m in notify.emails] == [f"accord-notification-{second.pk}"]


def test_a_key_notify_does_not_recognise_sends_nothing_and_loses_nothing(world, notify, settings):
    settings.ACCORD_NOTIFY_API_KEY = notify.api_key[:-36] + "00000000-0000-4000-8000-000000000000"
    world.raised()
    assert deliver_pending() == 0
    assert notify.emails == [] and [r.authorised for r in notify.requests] == [False]
    assert "403" in pending().get().last_error


def test_digests_go_through_notify_after_the_digest_hour_once(world, notify, settings):
    world.practitioner_social.email_digest = True
    world.practitioner_social.save()
    world.raised()
    world.raised()
    assert deliver_pending() == 0
    with clock.set_to(today_at(settings.NOTIFY_DIGEST_HOUR - 1)):
        assert send_digests() == 0  # before the digest hour
    assert notify.requests == []
    with clock.set_to(today_at(settings.NOTIFY_DIGEST_HOUR)):
        assert send_digests() == 1
        assert send_digests() == 0
    [digest] = notify.emails
    assert digest["template"]["id"] == notify.template_ids[channels.DIGEST]
    rows = list(Notification.objects.filter(recipient=world.practitioner_social).order_by("id"))
    assert digest["reference"] == f"accord-digest-{rows[0].pk}-{rows[-1].pk}"
    assert digest["personalisation"]["count"] == "2"
    updates = digest["personalisation"]["updates"]
    assert len(updates) == 2 and all("An escalation was raised with you" in u for u in updates)


def test_a_digest_notify_received_but_never_answered_is_not_sent_again(world, notify, settings):
    settings.ACCORD_NOTIFY_TIMEOUT = 0.5
    world.practitioner_social.email_digest = True
    world.practitioner_social.save()
    with clock.set_to(today_at(12)):
        world.raised()
        world.raised()
        notify.answer_late(1, seconds=2)
        assert send_digests() == 0
        assert len(notify.emails) == 1
        world.raised()  # a third update arrives meanwhile
        assert send_digests() == 0  # backing off
        with later(5):
            assert send_digests() == 1
    first, second = notify.emails
    rows = list(Notification.objects.filter(recipient=world.practitioner_social).order_by("id"))
    assert first["personalisation"]["count"] == "2"
    # Only the update the lost digest did not carry goes in the next one.
    assert second["personalisation"]["count"] == "1" and second["reference"] == (
        f"accord-digest-{rows[2].pk}-{rows[2].pk}"
    )
    assert all(n.email_state == EmailState.SENT for n in rows)


def test_nothing_sent_to_notify_carries_personal_data(world, notify):
    secret_bits = ["Philomena Quartz-Ellery", "2017-09-23", "PQ-SECRET-771", "Unmistakable concern text"]
    world.manager_social.email_digest = True  # (a digest, and single emails to the others)
    world.manager_social.save()
    e = world.raised(
        children=[
            services.ChildDetails(
                name=secret_bits[0], date_of_birth=dt.date(2017, 9, 23), agency_reference=secret_bits[2]
            )
        ],
        concern=secret_bits[3],
        summary="Summary with Philomena Quartz-Ellery in it",
    )
    world.consulted(e)
    services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Philomena again")
    assert deliver_pending() >= 1
    with clock.set_to(today_at(12)):
        assert send_digests() >= 1
    blob = json.dumps([r.body for r in notify.requests])
    assert e.reference in blob
    for bit in [*secret_bits, "Philomena", "Quartz", "23 September 2017"]:
        assert bit not in blob, bit


def test_reminders_through_notify_go_only_in_working_hours(world, notify):
    from accord.escalations.notices import send_due_reminders

    world.raised(at=timezone.make_aware(dt.datetime(2026, 11, 2, 10)))  # due Monday 9 November
    Notification.objects.all().delete()
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 11, 20))):  # overdue, but evening
        assert send_due_reminders() == 0
        assert deliver_pending() == 0
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 14, 11))):  # a Saturday
        assert send_due_reminders() == 0
        assert deliver_pending() == 0
    assert notify.requests == []
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 16, 11))):  # Monday morning
        assert send_due_reminders() == 4
        assert deliver_pending() == 4
    assert {m["template"]["id"] for m in notify.emails} == {notify.template_ids[Kind.OVERDUE]}


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_send_each_notice_through_notify_exactly_once(world, notify):
    from django.db import close_old_connections

    for _ in range(12):
        world.raised(with_practitioner_username="")  # each goes to the social care managers
    total = pending().count()
    assert total >= 12
    barrier = threading.Barrier(2)
    counts = []

    def worker():
        try:
            barrier.wait(timeout=10)
            n = 0
            while sent := deliver_pending(batch=3):
                n += sent
            counts.append(n)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    references = [m["reference"] for m in notify.emails]
    assert sum(counts) == total == len(references) == len(set(references))


def test_the_guide_names_every_template(settings):
    """docs/notify.md lists the variable of every template the start-up check asks for."""
    guide = DOC.read_text()
    for template in templates_needed():
        assert f"`{template.upper()}`" in guide, template


# ------------------------------------------------------------------ the start-up check


def test_a_notify_key_without_every_template_is_refused_at_start_up(settings):
    settings.ACCORD_NOTIFY_API_KEY = "accord-live-" + "11111111-1111-4111-8111-111111111111-" * 2
    settings.ACCORD_NOTIFY_API_KEY = settings.ACCORD_NOTIFY_API_KEY.rstrip("-")
    every = {t: "22222222-2222-4222-8222-222222222222" for t in templates_needed()}
    settings.ACCORD_NOTIFY_TEMPLATES = every
    assert notify_settings() == []
    refuse_to_start_without_notify_templates()

    settings.ACCORD_NOTIFY_TEMPLATES = {t: v for t, v in every.items() if t not in ("digest", "overdue")}
    [error] = notify_settings()
    assert error.id == "accord.E102"
    assert "ACCORD_NOTIFY_TEMPLATE_DIGEST" in error.msg and "ACCORD_NOTIFY_TEMPLATE_OVERDUE" in error.msg
    with pytest.raises(ImproperlyConfigured, match="ACCORD_NOTIFY_TEMPLATE_OVERDUE"):
        refuse_to_start_without_notify_templates()
    with pytest.raises(ImproperlyConfigured):
        call_command("run_worker", "--once")
    with pytest.raises(ImproperlyConfigured):
        call_command("send_due_reminders")


def test_a_malformed_key_or_template_id_is_refused_and_a_stray_template_is_warned_of(settings):
    settings.ACCORD_NOTIFY_API_KEY = "not-a-key"
    settings.ACCORD_NOTIFY_TEMPLATES = {
        t: "33333333-3333-4333-8333-333333333333" for t in templates_needed()
    } | {
        "overdue": "template 7",
        "overdew": "33333333-3333-4333-8333-333333333333",
    }
    ids = [p.id for p in notify_settings()]
    assert ids == ["accord.E101", "accord.E103", "accord.W101"]
    with pytest.raises(ImproperlyConfigured, match="E103"):
        refuse_to_start_without_notify_templates()


def test_without_a_key_there_is_nothing_to_check(settings):
    settings.ACCORD_NOTIFY_TEMPLATES = {}
    assert notify_settings() == []
    refuse_to_start_without_notify_templates()


def _load_the_wsgi_application(notify_env: dict) -> subprocess.CompletedProcess:
    """Start the WSGI application as gunicorn does, with production keys and ``notify_env``."""
    from cryptography.fernet import Fernet

    kept_out = {"DEBUG", "DJANGO_SETTINGS_MODULE", "ACCORD_DERIVE_DEV_KEYS", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in kept_out and not k.startswith("ACCORD_")}
    env |= {
        "SECRET_KEY": "a-long-random-production-secret-" + "z9y8x7w6v5" * 5,
        "ALLOWED_HOSTS": "a.example",
        "ACCORD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ACCORD_LOOKUP_KEY": "l" * 32,
        "ACCORD_AUDIT_KEY": "a" * 32,
    } | notify_env
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=Path(__file__).resolve().parents[3],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_web_server_will_not_start_with_a_notify_key_and_a_template_missing():
    """The settings read each ACCORD_NOTIFY_TEMPLATE_<KIND> from the environment; the server
    starts with all of them, and refuses with one missing, naming it."""
    key = "accord_live-11111111-1111-4111-8111-111111111111-22222222-2222-4222-8222-222222222222"
    every = {f"ACCORD_NOTIFY_TEMPLATE_{t.upper()}": str(uuid.uuid4()) for t in templates_needed()}
    started = _load_the_wsgi_application({"ACCORD_NOTIFY_API_KEY": key, **every})
    assert started.returncode == 0, started.stderr
    del every["ACCORD_NOTIFY_TEMPLATE_RESOLVED"]
    refused = _load_the_wsgi_application({"ACCORD_NOTIFY_API_KEY": key, **every})
    assert refused.returncode != 0
    assert "Accord will not start with these GOV.UK Notify settings" in refused.stderr
    assert "ACCORD_NOTIFY_TEMPLATE_RESOLVED" in refused.stderr
