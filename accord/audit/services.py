"""Writing to the audit trail. Call inside the transaction of the change it records."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from accord.core.clientip import client_ip as _client_ip
from accord.core.clientip import current_client_ip
from accord.core.directory import directory

from .models import AuditEvent, Verb
from .payloads import check_payload

GENESIS_HASH = "0" * 64
_CHAIN_LOCK_KEY = 74_737_001  # PostgreSQL advisory lock for the chain


KEYED = 2  # AuditEvent.scheme of an entry chained under ACCORD_AUDIT_KEY
PLAIN = 1  # AuditEvent.scheme of an entry written before the chain was keyed


def entry_hash(event: AuditEvent) -> str:
    """The entry's hash: an HMAC-SHA256 of its content and the previous entry's hash under
    ``ACCORD_AUDIT_KEY`` (which is not in the database), or for an entry written before the
    chain was keyed, the plain SHA-256 it was written with."""
    body = json.dumps(
        {
            "previous": event.previous_hash,
            "at": event.at.astimezone(dt.UTC).isoformat(),
            "actor": event.actor_id,
            "actor_label": event.actor_label,
            "actor_agency": event.actor_agency,
            "actor_roles": event.actor_roles,
            "verb": event.verb,
            "partnership": event.partnership_id,
            "target_type": event.target_type,
            "target_id": event.target_id,
            "payload": event.payload,
            "ip": event.ip_address,
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    if event.scheme == PLAIN:
        return hashlib.sha256(body.encode()).hexdigest()
    return hmac.new(settings.ACCORD_AUDIT_KEY.encode(), body.encode(), hashlib.sha256).hexdigest()


def client_ip(request: HttpRequest | None) -> str | None:
    """The request's client address (``accord.core.clientip``); without a request, that of
    the request being served, if any."""
    return _client_ip(request) if request is not None else current_client_ip()


def audit_record(
    *,
    actor: Any,
    verb: Verb,
    target: Any = None,
    partnership_id: int | None = None,
    payload: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one entry to the trail, chained to the previous entry.

    ``actor=None`` is Accord's own scheduled work (the system actor) unless
    ``actor_label`` says otherwise (for example "anonymous" for a failed log-in).
    """
    # Who did it is read before the chain is locked, so the lock (which every audited
    # request in every worker waits for) is held only to read the last entry and append.
    check_payload(verb, payload or {})
    real_actor = actor if getattr(actor, "is_authenticated", False) else None
    roles = ""
    agency = ""
    if real_actor is not None:
        # Their roles in every partnership: read once a request and kept on the user.
        roles = ",".join(sorted(directory().roles_of(real_actor)))
        agency = str(real_actor.agency) if real_actor.agency_id else ""
    # No savepoint of its own inside a caller's transaction (two statements more on every
    # audited request): nothing catches a failed entry and carries on, so a failure here
    # undoes the caller's whole transaction, as it should.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
                # The chain's last entry and the database's clock in one round trip, while
                # the lock that every audited request waits for is held.
                cursor.execute(
                    f"SELECT (SELECT entry_hash FROM {AuditEvent._meta.db_table} ORDER BY id DESC LIMIT 1),"  # noqa: S608 - the model's own table name
                    " statement_timestamp()"
                )
                last, at = cursor.fetchone()
        else:
            last = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
            at = timezone.now()
        event = AuditEvent(
            at=at,
            actor=real_actor,
            actor_label=(real_actor.username if real_actor else (actor_label or "system")),
            actor_agency=agency,
            actor_roles=roles,
            verb=verb,
            partnership_id=partnership_id,
            target_type=target.__class__.__name__.lower() if target is not None else "",
            target_id=str(getattr(target, "pk", "") or "") if target is not None else "",
            payload=payload or {},
            ip_address=client_ip(request),
            previous_hash=last or GENESIS_HASH,
            scheme=KEYED,
        )
        event.entry_hash = entry_hash(event)
        event.save()
        return event


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
