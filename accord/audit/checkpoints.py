"""Checkpoints of the audit trail, kept outside the database.

The chain (``audit.services``) shows that no entry was edited, removed from the middle or
rewritten without the key; it cannot show that the newest entries are all still there.
A checkpoint can: ``record_checkpoint`` writes the newest entry's id and hash, sealed with
an HMAC under ``ACCORD_AUDIT_KEY``, as one line of a file in
``ACCORD_AUDIT_CHECKPOINT_DIR`` and as a line of the log. ``verify_trail`` checks the
chain and then every checkpoint: an entry that a checkpoint names and the trail no longer
holds, or holds with another hash, means the trail was cut or rewritten.

The worker records one on every sweep; ``manage.py audit_checkpoint`` records one from
cron. Entries written after the last checkpoint are protected by the chain alone until
the next.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent, PendingRead
from .services import GENESIS_HASH, KEYED, audit_verify, entry_hash, pending_reads_tampered

logger = logging.getLogger("accord.audit.checkpoint")

FILE_NAME = "audit-checkpoints.jsonl"
CHECK_CHUNK = 500  # checkpointed entries read in one query


class CheckpointError(Exception):
    """The trail does not hold what an earlier checkpoint recorded."""


@dataclass(frozen=True)
class Checkpoint:
    recorded_at: str
    entry: int
    entry_hash: str
    where: str = ""  # the file and line it was read from

    def fields(self) -> dict[str, object]:
        return {"recorded_at": self.recorded_at, "entry": self.entry, "entry_hash": self.entry_hash}


@dataclass
class TrailReport:
    """What ``verify_trail`` found."""

    entries: int = 0
    checkpoints: int = 0
    pending_reads: int = 0  # sealed, not chained yet
    broken: AuditEvent | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.problems


def _seal(fields: dict[str, object]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hmac.new(
        settings.ACCORD_AUDIT_KEY.encode(), b"checkpoint:" + body.encode(), hashlib.sha256
    ).hexdigest()


def checkpoint_dir() -> Path:
    return Path(settings.ACCORD_AUDIT_CHECKPOINT_DIR)


def read_checkpoints() -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint in the directory, oldest first, and a problem for each line that is
    not one (unreadable, or not sealed with Accord's audit key)."""
    checkpoints: list[Checkpoint] = []
    problems: list[str] = []
    folder = checkpoint_dir()
    if not folder.is_dir():
        return checkpoints, problems
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                where = f"{path.name}, line {number}"
                try:
                    data = json.loads(line)
                    point = Checkpoint(
                        recorded_at=str(data["recorded_at"]),
                        entry=int(data["entry"]),
                        entry_hash=str(data["entry_hash"]),
                        where=where,
                    )
                    seal = str(data["seal"])
                except (ValueError, KeyError, TypeError):
                    problems.append(f"The checkpoint at {where} cannot be read.")
                    continue
                if not hmac.compare_digest(seal, _seal(point.fields())):
                    problems.append(f"The checkpoint at {where} is not sealed with Accord's audit key.")
                    continue
                checkpoints.append(point)
    checkpoints.sort(key=lambda point: (point.entry, point.recorded_at))
    return checkpoints, problems


def _check_since(last: Checkpoint | None) -> None:
    """Refuse to record a checkpoint over a trail that has lost what the last one recorded,
    and check the chain from that entry to the newest (so a checkpoint seals a chain that
    was whole when it was written)."""
    previous = GENESIS_HASH
    start = 0
    if last is not None:
        held = AuditEvent.objects.filter(pk=last.entry).values_list("entry_hash", flat=True).first()
        if held is None:
            raise CheckpointError(
                f"Entry {last.entry}, recorded by the checkpoint of {last.recorded_at}, is no longer in the "
                "audit trail: entries were removed."
            )
        if not hmac.compare_digest(held, last.entry_hash):
            raise CheckpointError(
                f"Entry {last.entry} no longer matches the checkpoint of {last.recorded_at}: it was rewritten."
            )
        previous, start = held, last.entry
    for event in AuditEvent.objects.filter(pk__gt=start).order_by("id").iterator(chunk_size=2000):
        if (
            event.previous_hash != previous
            or event.scheme != KEYED  # every entry is keyed: a plain one is a rewrite
            or not hmac.compare_digest(entry_hash(event), event.entry_hash)
        ):
            raise CheckpointError(
                f"The audit trail is broken at entry {event.pk}: it or an entry before it was changed outside Accord."
            )
        previous = event.entry_hash


def record_checkpoint() -> Checkpoint | None:
    """Record the newest entry outside the database; None while the trail is empty.

    Raises ``CheckpointError`` (and records nothing) when the trail no longer holds what
    the last checkpoint recorded, or its chain since then is broken.
    """
    known, _ = read_checkpoints()
    last = known[-1] if known else None
    newest = AuditEvent.objects.order_by("-id").values_list("id", "entry_hash").first()
    if newest is None:
        if last is not None:
            raise CheckpointError(
                f"The audit trail is empty, but the checkpoint of {last.recorded_at} recorded entry {last.entry}."
            )
        return None
    _check_since(last)
    point = Checkpoint(recorded_at=timezone.now().isoformat(), entry=newest[0], entry_hash=newest[1])
    line = json.dumps({**point.fields(), "seal": _seal(point.fields())}, sort_keys=True) + "\n"
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(folder / FILE_NAME, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    logger.info("Audit trail checkpoint: %s", line.strip())
    return point


def verify_trail() -> TrailReport:
    """The chain from the first entry to the last, then every checkpoint against it."""
    report = TrailReport()
    ok, broken = audit_verify()
    if not ok:
        report.broken = broken
    checkpoints, report.problems = read_checkpoints()
    report.checkpoints = len(checkpoints)
    report.entries = AuditEvent.objects.count()
    # The reads waiting to be chained: each under its own seal until the worker chains it.
    report.pending_reads = PendingRead.objects.count()
    for read in pending_reads_tampered():
        report.problems.append(
            f"Read {read.pk} waiting to be chained ({read.at:%Y-%m-%d %H:%M:%S}, {read.verb} by "
            f"{read.actor_label}) does not match its seal: it was changed outside Accord."
        )
    if not checkpoints:
        return report
    # A year of checkpoints every five minutes is about 100,000 entries: asked for a chunk at
    # a time, not in one query longer than a database takes.
    wanted = sorted({point.entry for point in checkpoints})
    held: dict[int, str] = {}
    for start in range(0, len(wanted), CHECK_CHUNK):
        chunk = wanted[start : start + CHECK_CHUNK]
        held.update(AuditEvent.objects.filter(pk__in=chunk).values_list("id", "entry_hash"))
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for point in checkpoints:
        if point.entry not in held:
            if point.entry > newest:
                report.problems.append(
                    f"Entries are missing from the end of the trail: the checkpoint of {point.recorded_at} "
                    f"({point.where}) recorded entry {point.entry}, and the trail now ends at entry {newest or 'none'}."
                )
            else:
                report.problems.append(
                    f"Entry {point.entry}, recorded by the checkpoint of {point.recorded_at} ({point.where}), "
                    "is missing from the trail."
                )
        elif not hmac.compare_digest(held[point.entry], point.entry_hash):
            report.problems.append(
                f"Entry {point.entry} does not match the checkpoint of {point.recorded_at} ({point.where}): "
                "the trail was rewritten."
            )
    return report
