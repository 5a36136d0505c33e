"""Writing to the audit trail. Call inside the transaction of the change it records."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from accord.core.clientip import client_ip as _client_ip
from accord.core.clientip import current_client_ip
from accord.core.directory import directory

from .models import AuditEvent, PendingRead, Verb
from .payloads import check_payload

logger = logging.getLogger("accord.audit")

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 74_737_001  # PostgreSQL advisory lock for the chain


KEYED = 2  # AuditEvent.scheme of an entry chained under ACCORD_AUDIT_KEY
PLAIN = 1  # AuditEvent.scheme of an entry written before the chain was keyed


def _content(entry: AuditEvent | PendingRead) -> dict[str, Any]:
    """What an entry's hash covers, besides the entry before it."""
    return {
        "at": entry.at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "actor_agency": entry.actor_agency,
        "actor_roles": entry.actor_roles,
        "verb": entry.verb,
        "partnership": entry.partnership_id,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "payload": entry.payload,
        "ip": entry.ip_address,
    }


def _serialised(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(event: AuditEvent) -> str:
    """The entry's hash: an HMAC-SHA256 of its content and the previous entry's hash under
    ``ACCORD_AUDIT_KEY`` (which is not in the database), or for an entry written before the
    chain was keyed, the plain SHA-256 it was written with."""
    body = _serialised({"previous": event.previous_hash, **_content(event)})
    if event.scheme == PLAIN:
        return hashlib.sha256(body).hexdigest()
    return hmac.new(settings.ACCORD_AUDIT_KEY.encode(), body, hashlib.sha256).hexdigest()


def read_seal(read: PendingRead) -> str:
    """A read's seal while it waits to be chained: an HMAC of its own content under the key
    (with a prefix of its own, so that no seal is ever an entry's hash)."""
    body = b"read:" + _serialised(_content(read))
    return hmac.new(settings.ACCORD_AUDIT_KEY.encode(), body, hashlib.sha256).hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    """The request's client address (``accord.core.clientip``); without a request, that of
    the request being served, if any."""
    return _client_ip(request) if request is not None else current_client_ip()


# What looks at a record rather than changing one: each is written, without the chain's
# lock, as a ``PendingRead`` and chained later (``chain_pending_reads``), so that readers
# never wait for each other's entry. Everything else is chained as it is written.
READ_VERBS = frozenset(
    {
        Verb.ESCALATION_VIEWED,
        Verb.ESCALATION_LISTED,
        Verb.ESCALATIONS_EXPORTED,
        Verb.ESCALATION_PRINTED,
        Verb.DOCUMENT_DOWNLOADED,
        Verb.REPORT_VIEWED,
        Verb.REPORT_DOWNLOADED,
        Verb.AUDIT_SEARCHED,
        Verb.AUDIT_EXPORTED,
        Verb.DIRECTORY_SEARCHED,
        Verb.SUBJECT_ACCESS,
    }
)


def audit_record(
    *,
    actor: Any,
    verb: Verb,
    target: Any = None,
    partnership_id: int | None = None,
    payload: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_label: str | None = None,
) -> AuditEvent | PendingRead:
    """Append one entry to the trail, chained to the previous entry; or, for a read
    (``READ_VERBS``), record it sealed, to be chained by the worker.

    ``actor=None`` is Accord's own scheduled work (the system actor) unless
    ``actor_label`` says otherwise (for example "anonymous" for a failed log-in).
    """
    # Who did it is read before the chain is locked, so the lock (which every audited
    # change in every worker waits for) is held only to read the last entry and append.
    check_payload(verb, payload or {})
    real_actor = actor if getattr(actor, "is_authenticated", False) else None
    roles = ""
    agency = ""
    if real_actor is not None:
        # Their roles in every partnership: read once a request and kept on the user.
        roles = ",".join(sorted(directory().roles_of(real_actor)))
        agency = str(real_actor.agency) if real_actor.agency_id else ""
    fields = {
        "actor": real_actor,
        "actor_label": (real_actor.username if real_actor else (actor_label or "system")),
        "actor_agency": agency,
        "actor_roles": roles,
        "verb": verb,
        "partnership_id": partnership_id,
        "target_type": target.__class__.__name__.lower() if target is not None else "",
        "target_id": str(getattr(target, "pk", "") or "") if target is not None else "",
        "payload": payload or {},
        "ip_address": client_ip(request),
    }
    if verb in READ_VERBS:
        # One insert, in the caller's transaction if there is one (committed with it), else
        # on its own: durable before the answer leaves, and no lock shared with anyone.
        read = PendingRead(at=timezone.now(), **fields)
        read.seal = read_seal(read)
        read.save()
        return read
    # No savepoint of its own inside a caller's transaction (two statements more on every
    # audited request): nothing catches a failed entry and carries on, so a failure here
    # undoes the caller's whole transaction, as it should.
    with transaction.atomic(savepoint=False):
        last, at = _lock_chain()
        event = AuditEvent(at=at, previous_hash=last or GENESIS_HASH, scheme=KEYED, **fields)
        event.entry_hash = entry_hash(event)
        event.save()
        return event


def _lock_chain() -> tuple[str | None, dt.datetime]:
    """Take the chain's lock (PostgreSQL; SQLite has one writer at a time) for the rest of
    the transaction, and answer the chain's last hash and the database's clock."""
    if connection.vendor != "postgresql":
        last = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        return last, timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        # The chain's last entry and the database's clock in one round trip, while the lock
        # that every audited change waits for is held.
        cursor.execute(
            f"SELECT (SELECT entry_hash FROM {AuditEvent._meta.db_table} ORDER BY id DESC LIMIT 1),"  # noqa: S608 - the model's own table name
            " statement_timestamp()"
        )
        return cursor.fetchone()


CHAIN_BATCH = 2000  # reads chained in one transaction


def chain_pending_reads(*, batch: int = CHAIN_BATCH) -> int:
    """Append the reads waiting to be chained to the chain, oldest first, a batch at a time
    under the chain's lock (taken once a batch, not once a read); answer how many.

    A read whose seal does not match its content was changed while it waited: it is left
    where it is, logged, for ``verify_audit`` to report, and never chained as if it were
    whole."""
    chained = 0
    after = 0
    if not PendingRead.objects.exists():  # usually: one statement, and no lock
        return chained
    while True:
        with transaction.atomic():
            last, _at = _lock_chain()
            waiting = list(PendingRead.objects.filter(pk__gt=after).order_by("id")[:batch])
            if not waiting:
                return chained
            after = waiting[-1].pk
            whole = [read for read in waiting if hmac.compare_digest(read_seal(read), read.seal)]
            if len(whole) < len(waiting):
                kept = {read.pk for read in whole}
                logger.error(
                    "Reads waiting to be chained do not match their seals, left for verify_audit: %s",
                    [read.pk for read in waiting if read.pk not in kept],
                )
            events = []
            previous = last or GENESIS_HASH
            # In order of time (a read may commit after a later one), then of writing.
            for read in sorted(whole, key=lambda r: (r.at, r.pk)):
                event = AuditEvent(
                    at=read.at,
                    previous_hash=previous,
                    scheme=KEYED,
                    **{name: getattr(read, name) for name in _COPIED},
                )
                event.entry_hash = previous = entry_hash(event)
                events.append(event)
            made = AuditEvent.objects.bulk_create(events)
            ids = [event.pk for event in made]
            if ids != sorted(ids):  # the chain is walked by id: it must hold them in order
                raise RuntimeError("The chained reads were not numbered in the order they were chained.")
            PendingRead.objects.filter(pk__in=[read.pk for read in whole]).delete()
        chained += len(whole)
        if len(waiting) < batch:
            return chained


_COPIED = (
    "actor_id",
    "actor_label",
    "actor_agency",
    "actor_roles",
    "verb",
    "partnership_id",
    "target_type",
    "target_id",
    "payload",
    "ip_address",
)


def pending_reads_tampered() -> list[PendingRead]:
    """The reads waiting to be chained whose seal does not match their content."""
    return [
        read
        for read in PendingRead.objects.order_by("id").iterator(chunk_size=2000)
        if not hmac.compare_digest(read_seal(read), read.seal)
    ]


def audit_verify() -> tuple[bool, AuditEvent | None]:
    """Walk the chain; answer (True, None) or (False, first broken entry).

    An entry is broken when it does not name the entry before it, when its hash does not
    match its content under the key, or when it is not keyed at all: every entry of every
    deployment was written under ``ACCORD_AUDIT_KEY``, so a plain one (whose SHA-256 anyone
    can compute) is a rewrite, even where no checkpoint has been recorded yet. Checkpoints (``audit.checkpoints``)
    check what this cannot: that no entry is missing after the last one here.
    """
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if (
            event.previous_hash != previous
            or event.scheme != KEYED  # no deployment holds a plain entry: one is a rewrite
            or not hmac.compare_digest(entry_hash(event), event.entry_hash)
        ):
            return False, event
        previous = event.entry_hash
    return True, None


# The parts of Accord whose refusals are audited: escalations (hidden ones answer 404, as
# missing ones do), reports, the audit trail and the settings pages.
AUDITED_REFUSALS = ("/escalations/", "/reports/", "/audit/", "/business-unit/")


def audit_refusal(request: HttpRequest, status: int, *, prefixes: tuple[str, ...] = AUDITED_REFUSALS) -> None:
    """Record that a signed-in person was refused (403) or not found (404) something in a
    part of Accord that holds children's records or the partnership's figures."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith(prefixes):
        return
    partnership = getattr(request, "partnership", None)
    audit_record(
        actor=user,
        verb=Verb.ACCESS_REFUSED,
        partnership_id=partnership.pk if partnership is not None else None,
        payload={"path": request.path[:300], "method": request.method, "status": status},
        request=request,
    )
