"""Reading the audit trail: for auditors, scoped to their own partnerships."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone

from accord.core.directory import directory

from .models import AuditEvent, PendingRead, Verb


def audited_partnerships(user) -> list[int]:
    """The partnerships whose trail the user reads (the partnership app says who audits)."""
    return directory().audited_partnerships(user)


# The trail in the order things happened: a read is chained after it was made (by the
# worker, or before the trail is shown), so it is placed by its time, not its number.
NEWEST_FIRST = ("-at", "-id")
OLDEST_FIRST = ("at", "id")


def reads_since(*, actor, verb: Verb, since: dt.datetime) -> int:
    """How many times ``actor`` made this read since then, chained or not yet."""
    chained = AuditEvent.objects.filter(actor=actor, verb=verb, at__gte=since).count()
    return chained + PendingRead.objects.filter(actor=actor, verb=verb, at__gte=since).count()


@dataclass
class AuditFilters:
    person: str = ""
    escalation: str = ""
    agency: str = ""
    verb: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _about(partnership_ids: list[int]) -> QuerySet[AuditEvent]:
    """Entries about these partnerships, and the sign-in events (which belong to no
    partnership) of the people who work in them: their log-ins and log-outs, and the
    failed sign-ins and lock-outs of their accounts."""
    people = directory().people_in(partnership_ids)
    accounts = people.values(as_text=Cast("user_id", output_field=CharField()))
    return AuditEvent.objects.filter(
        Q(partnership_id__in=partnership_ids)
        | Q(partnership_id__isnull=True, actor_id__in=people)
        | Q(
            partnership_id__isnull=True,
            verb__in=[Verb.LOGIN_FAILED, Verb.LOCKED_OUT],
            target_type="user",
            target_id__in=accounts,
        )
    )


def recent_entries(*, user, partnership_id: int, limit: int = 20) -> list[AuditEvent]:
    """The newest entries about one partnership, for its auditor's home page (none for
    anyone who does not audit it). Newest by time: a read is chained after it was made
    (``chain_pending_reads``, which the pages that show the trail run first)."""
    if partnership_id not in audited_partnerships(user):
        return []
    return list(_about([partnership_id]).order_by(*NEWEST_FIRST)[:limit])


def audit_search(*, user, partnership_id: int, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """Entries about the one partnership the auditor is working in, and the log-in events
    of its people (nothing for anyone who does not audit it). An auditor of two
    partnerships searches each from within it, so one partnership's trail is never read
    or exported from another."""
    if partnership_id not in audited_partnerships(user):
        return AuditEvent.objects.none()
    qs = _about([partnership_id])
    if filters.person:
        qs = qs.filter(actor_label__iexact=filters.person.strip())
    if filters.escalation:
        term = filters.escalation.strip()
        by_reference = Q(payload__reference=term)
        if term.isdigit():
            by_reference |= Q(target_type="escalation", target_id=term)
        qs = qs.filter(by_reference)
    if filters.agency:
        qs = qs.filter(actor_agency__icontains=filters.agency.strip())
    if filters.verb:
        qs = qs.filter(verb=filters.verb)
    if filters.date_from:
        qs = qs.filter(at__gte=timezone.make_aware(dt.datetime.combine(filters.date_from, dt.time.min)))
    if filters.date_to:
        qs = qs.filter(
            at__lt=timezone.make_aware(
                dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time.min)
            )
        )
    return qs.order_by(*NEWEST_FIRST)
