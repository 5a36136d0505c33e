"""Who is told what, and when; delivering email from the outbox; reminders.

Notifications carry an escalation's reference, stage, due date and a link, and
never a child's name, date of birth, agency reference or any free text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from accord.core import clock
from accord.partnership.calendar import calendar_for
from accord.partnership.models import Partnership, Role, User, WorkedBy
from accord.partnership.protocol import FORMAL_BODY_ROLES, LEADER_ROLES
from accord.partnership.selectors import PARTNERSHIP_PARAMETER

from .models import EmailState, Kind, Notification

logger = logging.getLogger("accord.notifications")
_REMINDER_LOCK = 74_737_002
REMINDER_BATCH = 500  # notifications checked and inserted per query


# ------------------------------------------------------------------ recipients


LEADING_ROLES = tuple(sorted(LEADER_ROLES | FORMAL_BODY_ROLES))
PDG_ROLES = tuple(sorted(FORMAL_BODY_ROLES))


class Directory:
    """Who holds the roles that own stages, and who owns each stage, read once.

    For one event it reads the role holders of the escalation's two agencies and the
    PDG; for a reminder sweep, those of the whole partnership. Either way the number of
    queries does not grow with the number of escalations or recipients.
    """

    def __init__(self, partnership_id: int, agency_ids: Iterable[int] | None = None):
        self.partnership_id = partnership_id
        self.agency_ids = None if agency_ids is None else sorted({a for a in agency_ids if a})
        self._holders: dict[tuple[str, int | None], list[User]] | None = None
        self._stage_owners: dict[int, str] | None = None

    def stage_owner(self, number: int) -> str:
        if self._stage_owners is None:
            from accord.partnership.models import Stage

            self._stage_owners = dict(
                Stage.objects.filter(partnership_id=self.partnership_id).values_list("number", "worked_by")
            )
        return self._stage_owners.get(number, WorkedBy.PRACTITIONERS)

    def holders(self, role: str, agency_ids: Iterable[int] = ()) -> list[User]:
        """Active holders of ``role`` in the partnership: in these agencies, or anywhere for the PDG."""
        if self._holders is None:
            from accord.partnership.models import RoleAssignment

            holders = RoleAssignment.objects.filter(
                partnership_id=self.partnership_id, user__is_active=True
            ).select_related("user")
            if self.agency_ids is None:
                found = list(holders.filter(role__in=LEADING_ROLES).order_by("user_id"))
            else:
                # Two plain queries: with an OR across the two tables the planner reads every user.
                leaders = [r for r in LEADING_ROLES if r not in PDG_ROLES]
                of_agencies = holders.filter(role__in=leaders, user__agency_id__in=self.agency_ids)
                found = list(of_agencies.order_by("user_id")) + list(
                    holders.filter(role__in=PDG_ROLES).order_by("user_id")
                )
            self._holders = {}
            for a in found:
                key = (a.role, None if a.role in PDG_ROLES else a.user.agency_id)
                self._holders.setdefault(key, []).append(a.user)
        if role in PDG_ROLES:
            return list(self._holders.get((role, None), []))
        return [u for agency in dict.fromkeys(agency_ids) for u in self._holders.get((role, agency), [])]


def _directory(escalation, directory: Directory | None) -> Directory:
    return directory or Directory(
        escalation.partnership_id, [escalation.raising_agency_id, escalation.with_agency_id]
    )


def parties(escalation, directory: Directory | None = None) -> list[User]:
    people = [escalation.raised_by]
    if escalation.with_practitioner_id:
        people.append(escalation.with_practitioner)
    else:
        # Raised with an agency and no named practitioner: its managers receive it.
        people += _directory(escalation, directory).holders(Role.MANAGER, [escalation.with_agency_id])
    return people


def stage_owners(
    escalation, stage_number: int | None = None, directory: Directory | None = None
) -> list[User]:
    directory = _directory(escalation, directory)
    owner = directory.stage_owner(stage_number or escalation.stage)
    agencies = [escalation.raising_agency_id, escalation.with_agency_id]
    if owner == WorkedBy.PRACTITIONERS:
        return parties(escalation, directory)
    if owner == WorkedBy.MANAGERS:
        return directory.holders(Role.MANAGER, agencies)
    if owner == WorkedBy.SENIOR_LEADERS:
        return directory.holders(Role.SENIOR_LEADER, agencies)
    return [u for role in PDG_ROLES for u in directory.holders(role)]


def _unique(users: Iterable[User], *, exclude: User | None = None) -> list[User]:
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


def _rows(*, escalation, kind: str, recipients: Iterable[User], key: str) -> list[Notification]:
    now = clock.now()
    return [
        Notification(
            key=f"{key}:{user.pk}"[:200],
            recipient=user,
            partnership_id=escalation.partnership_id,
            escalation=escalation,
            kind=kind,
            stage=escalation.stage,
            due_date=escalation.due_date,
            email_state=_state_for(user),
            next_attempt_at=now,
        )
        for user in recipients
    ]


def _save(rows: list[Notification]) -> int:
    """Insert the rows whose keys are new, in two queries however many there are."""
    if not rows:
        return 0
    existing = set(Notification.objects.filter(key__in=[r.key for r in rows]).values_list("key", flat=True))
    fresh = list({r.key: r for r in rows if r.key not in existing}.values())
    # The unique key also settles a race between two copies: the second insert is ignored.
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def notify(*, escalation, kind: str, recipients: Iterable[User], key: str) -> int:
    """Write one notification per recipient (in the caller's transaction). A key already used is skipped."""
    return _save(_rows(escalation=escalation, kind=kind, recipients=recipients, key=key))


def notify_for_event(event) -> None:
    """Called by the escalation services for every timeline event, in the same transaction."""
    from accord.escalations.models import EventType

    e = event.escalation
    actor = event.actor
    key = f"event:{event.pk}"
    directory = _directory(e, None)
    everyone = parties(e, directory) + stage_owners(e, directory=directory)
    if event.type == EventType.RAISED:
        notify(
            escalation=e,
            kind=Kind.RAISED_WITH_YOU,
            recipients=_unique(parties(e, directory)[1:], exclude=actor),
            key=key,
        )
        if e.stage > 1:
            notify(
                escalation=e,
                kind=Kind.REACHED_YOUR_STAGE,
                recipients=_unique(stage_owners(e, directory=directory), exclude=actor),
                key=key + ":stage",
            )
    elif event.type == EventType.DISCUSSION:
        notify(escalation=e, kind=Kind.DISCUSSION, recipients=_unique(everyone, exclude=actor), key=key)
    elif event.type in (EventType.ESCALATED, EventType.FORMALLY_ESCALATED):
        owners = _unique(stage_owners(e, directory=directory), exclude=actor)
        notify(escalation=e, kind=Kind.REACHED_YOUR_STAGE, recipients=owners, key=key + ":stage")
        owner_ids = {u.pk for u in owners}
        notify(
            escalation=e,
            kind=Kind.ESCALATED,
            recipients=[u for u in _unique(parties(e, directory), exclude=actor) if u.pk not in owner_ids],
            key=key,
        )
    elif event.type == EventType.FACILITATOR_APPOINTED:
        latest = e.pdg_actions.exclude(facilitator=None).order_by("-id").select_related("facilitator").first()
        facilitator = [latest.facilitator] if latest else []
        notify(
            escalation=e,
            kind=Kind.FACILITATOR_APPOINTED,
            recipients=_unique(facilitator + parties(e, directory), exclude=actor),
            key=key,
        )
    elif event.type == EventType.FACILITATOR_ENDED:
        # The facilitator learns that their appointment (and their access) ended.
        ended = (
            e.pdg_actions.filter(ended_at__isnull=False)
            .exclude(facilitator=None)
            .order_by("-ended_at", "-id")
            .select_related("facilitator")
            .first()
        )
        facilitator = [ended.facilitator] if ended else []
        notify(
            escalation=e,
            kind=Kind.FACILITATOR_ENDED,
            recipients=_unique(facilitator + parties(e, directory), exclude=actor),
            key=key,
        )
    elif event.type in (EventType.RESOLVED, EventType.WITHDRAWN, EventType.REOPENED):
        kind = {
            EventType.RESOLVED: Kind.RESOLVED,
            EventType.WITHDRAWN: Kind.WITHDRAWN,
            EventType.REOPENED: Kind.REOPENED,
        }[event.type]
        notify(escalation=e, kind=kind, recipients=_unique(everyone, exclude=actor), key=key)


# ------------------------------------------------------------------ delivering email


def _link(n: Notification) -> str:
    """The escalation's page, naming its partnership: following the link switches someone who
    works in several to it (``CurrentPartnershipMiddleware``)."""
    base = settings.ACCORD_BASE_URL.rstrip("/")
    return f"{base}/escalations/{n.escalation_id}/?{PARTNERSHIP_PARAMETER}={n.partnership.slug}"


def render_email(notification: Notification) -> tuple[str, str]:
    context = {
        "n": notification,
        "reference": notification.escalation.reference,
        "kind": Kind(notification.kind).label,
        "link": _link(notification),
        "partnership": notification.partnership.name,
    }
    subject = render_to_string("notifications/email_subject.txt", context).strip()
    body = render_to_string("notifications/email_body.txt", context)
    return subject, body


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def deliver_pending(*, batch: int = 100) -> int:
    """Send due emails from the outbox. Safe to run in several copies at once."""
    now = clock.now()
    sent = 0
    with transaction.atomic():
        qs = (
            Notification.objects.filter(email_state=EmailState.PENDING)
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
            .select_related("recipient", "escalation", "partnership")
            .order_by("id")
        )
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        items = list(qs[:batch])
        if not items:
            return 0
        mail = get_connection(fail_silently=False)
        try:
            mail.open()
        except Exception as exc:  # noqa: BLE001 - the server is down: every item waits and retries
            for n in items:
                _failed(n, exc, now)
            return 0
        try:
            for n in items:
                subject, body = render_email(n)
                message = EmailMessage(
                    subject,
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    [n.recipient.email],
                    connection=mail,
                    headers={"Message-ID": f"<{n.key.replace(':', '.')}@accord>"},
                )
                try:
                    message.send()
                except Exception as exc:  # noqa: BLE001
                    _failed(n, exc, now)
                    continue
                n.email_state = EmailState.SENT
                n.sent_at = now
                n.save(update_fields=["email_state", "sent_at"])
                sent += 1
        finally:
            try:
                mail.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection
                pass
    return sent


def _failed(n: Notification, exc: Exception, now: dt.datetime) -> None:
    n.attempts += 1
    n.next_attempt_at = now + _backoff(n.attempts)
    n.last_error = str(exc)[:300]
    n.save(update_fields=["attempts", "next_attempt_at", "last_error"])
    logger.warning("Email for notification %s not sent (attempt %s): %s", n.pk, n.attempts, exc)


def send_digests() -> int:
    """One email a day for people who chose a digest, after the digest hour on working days:
    one for each partnership they have updates in, naming it, so that nothing of one
    partnership is sent under another's name."""
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
            ).select_related("recipient", "escalation", "partnership")
            if connection.vendor == "postgresql":
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            items = list(qs.order_by("id"))
            if not items:
                continue
            partnership = items[0].partnership
            body = render_to_string(
                "notifications/digest_body.txt",
                {
                    "partnership": partnership.name,
                    "items": [
                        (Kind(n.kind).label, n.escalation.reference, n.stage, n.due_date, _link(n))
                        for n in items
                    ],
                },
            )
            try:
                EmailMessage(
                    f"Accord: {len(items)} updates in {partnership.name}",
                    body,
                    settings.DEFAULT_FROM_EMAIL,
                    [items[0].recipient.email],
                ).send()
            except Exception as exc:  # noqa: BLE001 - tried again on the next run
                logger.warning("Digest for user %s not sent: %s", recipient_id, exc)
                continue
            Notification.objects.filter(pk__in=[n.pk for n in items]).update(
                email_state=EmailState.SENT, sent_at=now
            )
            sent += 1
    return sent


# ------------------------------------------------------------------ reminders


def _within_working_hours(partnership: Partnership, now: dt.datetime) -> bool:
    local = timezone.localtime(now)
    start, end = settings.NOTIFY_WORKING_HOURS
    return calendar_for(partnership).is_working_day(local.date()) and start <= local.hour < end


def send_due_reminders() -> int:
    """Due-tomorrow and overdue reminders, once each (and again every few working days while
    overdue), only in working hours on working days. Safe to run in several copies at once,
    and after downtime it catches up without sending anything twice."""
    from accord.escalations.models import Escalation, Status

    now = clock.now()
    created = 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_REMINDER_LOCK])
                if not cursor.fetchone()[0]:
                    return 0  # another copy is sending reminders now
        for partnership in Partnership.objects.all():
            if not _within_working_hours(partnership, now):
                continue
            calendar = calendar_for(partnership)
            today = timezone.localtime(now).date()
            tomorrow = calendar.next_working_day(today)
            open_ = Escalation.objects.filter(partnership=partnership, status=Status.OPEN).select_related(
                "raised_by", "with_practitioner", "partnership"
            )
            # Role holders and stage owners for the whole partnership, read once for the sweep.
            directory = Directory(partnership.pk)
            rows: list[Notification] = []
            for e in open_.filter(due_date=tomorrow):
                key = f"due_soon:{e.pk}:{e.stage}:{e.stage_started_on}"
                owners = _unique(stage_owners(e, directory=directory))
                rows += _rows(escalation=e, kind=Kind.DUE_SOON, recipients=owners, key=key)
            overdue = list(open_.filter(due_date__lt=today))
            owners_of = {e.pk: _unique(stage_owners(e, directory=directory)) for e in overdue}
            manager_ids = {
                u.line_manager_id for owners in owners_of.values() for u in owners if u.line_manager_id
            }
            line_managers = User.objects.in_bulk(manager_ids)
            for e in overdue:
                late = calendar.working_days_between(e.due_date, today)
                interval = max(late - 1, 0) // settings.NOTIFY_OVERDUE_REPEAT_WORKING_DAYS
                owners = owners_of[e.pk]
                managers = [line_managers.get(u.line_manager_id) for u in owners if u.line_manager_id]
                key = f"overdue:{e.pk}:{e.stage}:{e.stage_started_on}:{interval}"
                rows += _rows(escalation=e, kind=Kind.OVERDUE, recipients=_unique(owners + managers), key=key)
            for start in range(0, len(rows), REMINDER_BATCH):
                created += _save(rows[start : start + REMINDER_BATCH])
    return created
