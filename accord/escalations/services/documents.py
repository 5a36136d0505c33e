"""Evidence documents: attached after the checks of ``core.uploads``, encrypted at rest, read
back only by those who see the escalation."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.crypto import decrypt_bytes, encrypt_bytes
from accord.core.errors import NotFound
from accord.core.uploads import docx_problem, safe_filename, sniff_content_type, virus_check
from accord.partnership.models import User

from ..models import Document, Escalation, EventType
from ._base import _event, _locked, _require, _touch

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- evidence documents


def escalation_add_document(
    *,
    actor: User,
    escalation: Escalation,
    upload: Any,
    description: str = "",
    expected_version: int | None = None,
) -> Document:
    from django.conf import settings

    if upload is None:
        raise ValidationError({"file": _("Select a file")})
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file must be smaller than %(mb)s MB")
                % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The selected file is empty")})
    head = upload.read(2048)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type not in settings.EVIDENCE_ALLOWED_TYPES:
        raise ValidationError(
            {"file": _("The selected file must be a PDF, Word document, PNG, JPEG or plain text file")}
        )
    content = b"".join(upload.chunks())
    if content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        problem = docx_problem(content)
        if problem:
            raise ValidationError({"file": problem})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "add_document", escalation)
        name = safe_filename(upload.name or "document")
        document = Document(
            escalation=escalation,
            filename=name,
            content_type=content_type,
            size=upload.size,
            description=description.strip()[:200],
            uploaded_by=actor,
        )
        from django.core.files.base import ContentFile

        virus_check(content)
        encrypted = encrypt_bytes(content)
        document.file.save(
            f"{escalation.pk}-{clock.now():%Y%m%d%H%M%S%f}.bin", ContentFile(encrypted), save=False
        )
        document.save()
        _event(escalation, actor, EventType.DOCUMENT_ADDED, name)
        _touch(escalation)
        audit_record(
            actor=actor,
            verb=Verb.DOCUMENT_UPLOADED,
            target=document,
            partnership_id=escalation.partnership_id,
            payload={"reference": escalation.reference, "size": upload.size, "content_type": content_type},
        )
    return document


def escalation_document_read(
    *, actor: User, escalation: Escalation, document_id: int
) -> tuple[Document, bytes]:
    """An evidence document of an escalation the actor may see, decrypted, with the read
    audited (``NotFound`` for one that is not this escalation's, or is missing from
    storage). The pages and the API both read documents through this."""
    if not actor.has_perm("escalations.view", escalation):
        raise NotFound()
    document = escalation.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    audit_record(
        actor=actor,
        verb=Verb.DOCUMENT_DOWNLOADED,
        target=document,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference},
    )
    try:
        with document.file.open("rb") as stored:
            content = decrypt_bytes(stored.read())
    except OSError:
        logger.exception("Evidence document %s is missing from storage", document.pk)
        raise NotFound() from None
    return document, content
