"""Idempotency-Key: a write repeated with the same key answers as the first did and changes
nothing more; the same key with another request is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from ninja.errors import HttpError

from accord.core.errors import NotFound
from accord.escalations.models import Escalation

from . import schemas as s
from .app import problem
from .models import IdempotencyRecord
from .serialisers import escalation_out


def respond(request: HttpRequest, status: int, escalation_id: int, escalation: Escalation | None = None):
    """The escalation as it is now; or, where the change ended the caller's part in it (rule
    7: a reassignment, an agency taken out), 204 with its address and nothing of it. A read
    passes the escalation it found (``escalation``) rather than have it read twice."""
    try:
        data = escalation_out(request, escalation_id, escalation)
    except NotFound:
        gone = HttpResponse(status=204)
        gone["Location"] = f"/api/v1/escalations/{escalation_id}"
        return gone
    response = JsonResponse(s.EscalationOut(**data).model_dump(mode="json"), status=status)
    response["ETag"] = f'"{data["version"]}"'
    response["Location"] = f"/api/v1/escalations/{escalation_id}"
    return response


def request_fingerprint(request: HttpRequest) -> str:
    """What identifies the request: its method, path and body. A multipart body (an
    evidence document) has been read into its fields and files by then: those, with each
    file's name, size and content hash, stand for it."""
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + b"\n")
    try:
        digest.update(request.body)
    except RawPostDataException:
        for key in sorted(request.POST):
            digest.update(f"{key}={request.POST.getlist(key)}\n".encode())
        for key in sorted(request.FILES):
            for upload in request.FILES.getlist(key):
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)
                digest.update(f"{key}:{upload.name}:{upload.size}:{content.hexdigest()}\n".encode())
    return digest.hexdigest()


def idempotent(request: HttpRequest, status: int, write: Callable[[], int]):
    """Run ``write`` (which answers an escalation id) at most once per Idempotency-Key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return respond(request, status, write())
    if not 1 <= len(key) <= 200 or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in key):
        # (A NUL would reach the database, which refuses it: a 500 on PostgreSQL.)
        raise HttpError(400, "Idempotency-Key must be 1 to 200 characters, none of them a control character.")
    fingerprint = request_fingerprint(request)
    existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            return problem(422, "Idempotency-Key reused", "This key was used for a different request.")
        return respond(request, existing.status_code, existing.escalation_id)
    try:
        with transaction.atomic():
            escalation_id = write()
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                fingerprint=fingerprint,
                status_code=status,
                escalation_id=escalation_id,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(user=request.user, key=key)
        return respond(request, existing.status_code, existing.escalation_id)
    return respond(request, status, escalation_id)
