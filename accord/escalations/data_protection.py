"""Retention and subject access: the data protection officer's tools.

Retention removes children's identifiers, free text and documents from
escalations closed longer ago than their partnership keeps them, and keeps the
facts reports need (kind, stages, agencies, dates, area, themes, outcome).
Subject access gathers everything held about a child, found by the keyed hash of
an agency's case reference, into one file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.crypto import decrypt_bytes, lookup_hash
from accord.partnership.models import Partnership

from . import tallies
from .models import (
    ACCOUNT_FIELDS,
    OTHER_PARTIES,
    AgreedAction,
    Child,
    Discussion,
    Document,
    Escalation,
    Event,
    PdgAction,
    Resolution,
    Status,
)

REMOVED = "Removed under the partnership's retention policy."
FREE_TEXT = [*ACCOUNT_FIELDS, "with_people"]


def escalations_past_retention(now: dt.datetime | None = None) -> QuerySet[Escalation]:
    """Closed escalations older than their own partnership's retention period."""
    now = now or clock.now()
    past = Q(pk__in=[])
    for partnership_id, days in Partnership.objects.values_list("pk", "retention_days_after_closure"):
        past |= Q(partnership_id=partnership_id, closed_at__lt=now - dt.timedelta(days=days))
    return Escalation.objects.filter(
        past, status__in=[Status.RESOLVED, Status.WITHDRAWN], redacted_at__isnull=True
    ).order_by("closed_at")


@dataclass
class RetentionResult:
    escalations: list[str]
    children: int
    documents: int


def apply_retention(*, dry_run: bool = False, now: dt.datetime | None = None) -> RetentionResult:
    due = list(escalations_past_retention(now).values_list("pk", "reference", "partnership_id"))
    ids = [pk for pk, _, _ in due]
    children = Child.objects.filter(escalation_id__in=ids).count()
    documents = Document.objects.filter(escalation_id__in=ids)
    result = RetentionResult(
        escalations=[ref for _, ref, _ in due], children=children, documents=documents.count()
    )
    if dry_run or not ids:
        return result
    children_by = Counter(
        Child.objects.filter(escalation_id__in=ids).values_list("escalation__partnership_id", flat=True)
    )
    documents_by = Counter(documents.values_list("escalation__partnership_id", flat=True))
    with transaction.atomic():
        for document in documents:
            document.file.delete(save=False)
        documents.delete()
        Child.objects.filter(escalation_id__in=ids).delete()
        Escalation.objects.filter(pk__in=ids).update(
            summary=REMOVED[:200], redacted_at=clock.now(), **{f: "" for f in FREE_TEXT}
        )
        Discussion.objects.filter(escalation_id__in=ids).update(note="", participants="")
        Event.objects.filter(escalation_id__in=ids).update(summary="")
        PdgAction.objects.filter(escalation_id__in=ids).update(note="")
        # The learning counted in the reports is the learning still recorded: taken back first.
        tallies.learning_removed(ids)
        Resolution.objects.filter(escalation_id__in=ids).update(
            agreed_way_forward="", learning="", referred_to=""
        )
        AgreedAction.objects.filter(escalation_id__in=ids).update(description="")
        # One entry for each partnership, so that each partnership's auditors see what
        # was removed from their own escalations and nothing of another's.
        for partnership_id in sorted({p for _, _, p in due}):
            mine = [pk for pk, _, p in due if p == partnership_id]
            audit_record(
                actor=None,
                verb=Verb.RETENTION_APPLIED,
                partnership_id=partnership_id,
                payload={
                    "references": [ref for _, ref, p in due if p == partnership_id],
                    "children": children_by[partnership_id],
                    "documents": documents_by[partnership_id],
                    "escalations": len(mine),
                },
            )
    return result


def _escalation_record(e: Escalation, reference_hash: str) -> dict[str, Any]:
    return {
        "reference": e.reference,
        "partnership": e.partnership.name,
        "kind": e.kind,
        "status": e.status,
        "stage": e.stage,
        "raised_at": e.raised_at.isoformat(),
        "raised_by": str(e.raised_by),
        "raising_agency": e.raising_agency.name,
        "with_agency": e.with_agency.name,
        "also_with": [o.agency.name for o in e.others()],
        "summary": e.summary,
        **{name: getattr(e, name) for name in FREE_TEXT if name != "reflection"},
        "children": [
            {
                "name": c.name,
                "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
                "agency_reference": c.agency_reference,
                "the_subject": c.agency_reference_hash == reference_hash,
            }
            for c in e.children.all()
        ],
        "discussions": [
            {"held_on": d.held_on.isoformat(), "stage": d.stage, "note": d.note} for d in e.discussions.all()
        ],
        "events": [
            {"at": ev.at.isoformat(), "type": ev.type, "stage": ev.stage, "summary": ev.summary}
            for ev in e.events.all()
        ],
        "resolutions": [
            {"outcome": r.outcome, "agreed_way_forward": r.agreed_way_forward} for r in e.resolutions.all()
        ],
        "documents": [
            {"file": f"documents/{e.reference}/{d.pk}-{d.filename}", "description": d.description}
            for d in e.documents.all()
        ],
    }


def subject_access(*, actor, partnership: Partnership, agency_reference: str) -> tuple[bytes, int]:
    """A ZIP of everything one partnership holds about the child with this agency
    reference, and how many escalations it covers. Only that partnership's escalations are
    searched, whoever asks (a data protection officer answers for their own partnership;
    an agency shared with another partnership makes the same reference findable there, by
    that partnership's officer alone), and the audit entry names the partnership, so its
    own auditors see the search. The private reflections are the raisers' own and are
    excluded; the officer decides on them separately."""
    reference_hash = lookup_hash(agency_reference)
    escalations = (
        (
            Escalation.objects.filter(partnership=partnership, children__agency_reference_hash=reference_hash)
            .distinct()
            .select_related("partnership", "raising_agency", "with_agency", "raised_by")
            .prefetch_related("children", "discussions", "events", "resolutions", "documents", OTHER_PARTIES)
        )
        if reference_hash
        else Escalation.objects.none()
    )
    buffer = io.BytesIO()
    records = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for e in escalations:
            records.append(_escalation_record(e, reference_hash))
            for d in e.documents.all():
                try:
                    with d.file.open("rb") as stored:
                        content = decrypt_bytes(stored.read())
                except OSError:
                    content = b"This document is listed in Accord but its file is missing from storage."
                archive.writestr(f"documents/{e.reference}/{d.pk}-{d.filename}", content)
        archive.writestr(
            "subject-access.json",
            json.dumps(
                {"generated_at": clock.now().isoformat(), "escalations": records}, indent=2, default=str
            ),
        )
    audit_record(
        actor=actor,
        verb=Verb.SUBJECT_ACCESS,
        partnership_id=partnership.pk,
        payload={"escalations": [r["reference"] for r in records]},
    )
    return buffer.getvalue(), len(records)
