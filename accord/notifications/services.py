"""The outbox: writing notifications (in the transaction of the change that causes them)
and delivering them by email, one by one or as a daily digest.

The outbox knows nothing of what it carries: each app registers its kinds of notification
(``models.register_kinds``) and writes rows with what they are about and the path of the
page to see it on (``outbox_rows``). Who is told what about an escalation, and the due and
overdue reminders, are the escalations app's (``accord.escalations.notices``); a PDG
meeting's overdue actions are the reports app's. Notifications never carry a child's name,
date of birth, agency reference or any free text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accord.core import clock
from accord.partnership.models import User

from . import channels
from .channels import render_email  # noqa: F401 - the outbox's own, as before
from .models import EmailState, Notification

logger = logging.getLogger("accord.notifications")


def unique_recipients(users: Iterable[User], *, exclude: User | None = None) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        if user is not None and user.is_active and (exclude is None or user.pk != exclude.pk):
            seen.setdefault(user.pk, user)
    return list(seen.values())


# ------------------------------------------------------------------ creating notifications


def _state_for(user: User) -> str:
    if not user.email:
        return EmailState.NOT_SENT
    return EmailState.DIGEST if user.email_digest else EmailState.PENDING


def outbox_rows(
    *,
    partnership_id: int,
    subject: str,
    path: str,
    kind: str,
    recipients: Iterable[User],
    key: str,
    due_date: dt.date | None = None,
    about: str = "",
    stage: int | None = None,
) -> list[Notification]:
    """One unsaved notification a recipient about anything of Accord's: what it is about
    (never a child's details) and the path of the page to see it on."""
    now = clock.now()
    return [
        Notification(
            key=f"{key}:{user.pk}"[:200],
            recipient=user,
            partnership_id=partnership_id,
            subject=subject[:120],
            path=path,
            about=about[:60],
            kind=kind,
            stage=stage,
            due_date=due_date,
            email_state=_state_for(user),
            next_attempt_at=now,
        )
        for user in recipients
    ]


def save_notifications(rows: list[Notification]) -> int:
    """Insert the rows whose keys are new, in two queries however many there are."""
    if not rows:
        return 0
    existing = set(Notification.objects.filter(key__in=[r.key for r in rows]).values_list("key", flat=True))
    fresh = list({r.key: r for r in rows if r.key not in existing}.values())
    # The unique key also settles a race between two copies: the second insert is ignored.
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


# ------------------------------------------------------------------ delivering email


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def deliver_pending(*, batch: int = 100) -> int:
    """Send due emails from the outbox, by SMTP or through GOV.UK Notify (``channels``).
    Safe to run in several copies at once."""
    now = clock.now()
    sent = 0
    with transaction.atomic():
        qs = (
            Notification.objects.filter(email_state=EmailState.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("recipient", "partnership")
            .order_by("id")
        )
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        items = list(qs[:batch])
        if not items:
            return 0
        channel = channels.current()
        try:
            channel.open()
        except Exception as exc:  # noqa: BLE001 - the server is down: every item waits and retries
            for n in items:
                _failed(n, exc, now)
            return 0
        try:
            for i, n in enumerate(items):
                try:
                    if not channel.delivered_earlier([n]):
                        channel.send_notice(n)
                except channels.ServiceFailed as exc:
                    for rest in items[i:]:  # the service failed: what is left waits and retries
                        _failed(rest, exc, now)
                    break
                except Exception as exc:  # noqa: BLE001
                    _failed(n, exc, now)
                    continue
                _sent([n], now)
                sent += 1
        finally:
            channel.close()
    return sent


def _sent(items: list[Notification], now: dt.datetime) -> None:
    for n in items:
        n.email_state, n.sent_at = EmailState.SENT, now
    Notification.objects.bulk_update(items, ["email_state", "sent_at", "sent_as"])


def _failed(n: Notification, exc: Exception, now: dt.datetime) -> None:
    n.attempts += 1
    n.next_attempt_at = now + _backoff(n.attempts)
    n.last_error = str(exc)[:300]
    n.save(update_fields=["attempts", "next_attempt_at", "last_error", "sent_as"])
    logger.warning("Email for notification %s not sent (attempt %s): %s", n.pk, n.attempts, exc)


def send_digests() -> int:
    """One email a day for people who chose a digest, after the digest hour on working days:
    one for each partnership they have updates in, naming it, so that nothing of one
    partnership is sent under another's name. A digest that fails is tried again with the
    same back-off as a single email."""
    now = clock.now()
    local = timezone.localtime(now)
    if local.hour < settings.NOTIFY_DIGEST_HOUR:
        return 0
    sent = 0
    waiting = (
        Notification.objects.filter(email_state=EmailState.DIGEST)
        .values_list("recipient_id", "partnership_id")
        .distinct()
    )
    for recipient_id, partnership_id in list(waiting):
        with transaction.atomic():
            qs = Notification.objects.filter(
                recipient_id=recipient_id, partnership_id=partnership_id, email_state=EmailState.DIGEST
            ).select_related("recipient", "partnership")
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            items = list(qs.order_by("id"))
            if not items or any(n.attempts and n.next_attempt_at and n.next_attempt_at > now for n in items):
                continue  # (taken by another copy, or backing off after a failure)
            channel = channels.current()
            try:
                channel.open()
                try:
                    earlier = channel.delivered_earlier(items)
                    _sent(earlier, now)
                    rest = [n for n in items if n not in earlier]
                    if rest:
                        channel.send_digest(rest)
                        _sent(rest, now)
                finally:
                    channel.close()
            except Exception as exc:  # noqa: BLE001 - tried again on a later run
                for n in items:
                    if n.email_state == EmailState.DIGEST:
                        _failed(n, exc, now)
                continue
            sent += 1
    return sent


# ------------------------------------------------------------------ reminders
