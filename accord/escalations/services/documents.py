"""Evidence documents: attached after the checks of ``core.uploads``, encrypted at rest, read
back only by those who see the escalation."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.crypto import decrypt_bytes, encrypt_bytes
from accord.core.errors import NotFound
from accord.core.uploads import docx_problem, safe_filename, sniff_content_type, virus_check
from accord.partnership.models import User

from ..models import Document, Draft, DraftDocument, Escalation, EventType
from ._base import _event, _locked, _require, _touch

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------- evidence documents


def checked_upload(upload: Any) -> tuple[bytes, str, str]:
    """An upload's content, its type judged by its content, and a safe file name; or a
    ``ValidationError`` on ``file`` saying what is wrong with it (too large, empty, not a
    type Accord takes, a Word file that is not one). Virus-checked by the caller inside
    its transaction."""
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
    return content, content_type, safe_filename(upload.name or "document")


def escalation_add_document(
    *,
    actor: User,
    escalation: Escalation,
    upload: Any,
    description: str = "",
    expected_version: int | None = None,
) -> Document:
    content, content_type, name = checked_upload(upload)
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "add_document", escalation)
        document = Document(
            escalation=escalation,
            filename=name,
            content_type=content_type,
            size=upload.size,
            description=description.strip()[:200],
            uploaded_by=actor,
        )
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


# --------------------------------------------------------------------------- while raising

MOST_DRAFT_DOCUMENTS = 10


def draft_add_document(*, actor: User, draft: Draft, upload: Any, description: str = "") -> DraftDocument:
    """Attach evidence to a draft while raising: the same checks as on an escalation,
    encrypted at rest, seen by no one but the draft's owner until it is raised."""
    if draft.owner_id != actor.pk:
        raise NotFound()
    content, content_type, name = checked_upload(upload)
    with transaction.atomic():
        if draft.documents.count() >= MOST_DRAFT_DOCUMENTS:
            raise ValidationError(
                {
                    "file": _("You can attach up to %(n)s documents while raising; add more afterwards")
                    % {"n": MOST_DRAFT_DOCUMENTS}
                }
            )
        virus_check(content)
        document = DraftDocument(
            draft=draft,
            filename=name,
            content_type=content_type,
            size=len(content),
            description=description.strip()[:200],
        )
        document.file.save(
            f"draft-{draft.pk}-{clock.now():%Y%m%d%H%M%S%f}.bin",
            ContentFile(encrypt_bytes(content)),
            save=False,
        )
        document.save()
        audit_record(
            actor=actor,
            verb=Verb.DOCUMENT_UPLOADED,
            target=document,
            partnership_id=draft.partnership_id,
            payload={"draft": draft.pk, "size": len(content), "content_type": content_type},
        )
    return document


def draft_remove_document(*, actor: User, draft: Draft, document_id: int) -> None:
    """Take a document off a draft (its file is removed from storage)."""
    if draft.owner_id != actor.pk:
        raise NotFound()
    document = draft.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    document.file.delete(save=False)
    document.delete()


def draft_discard(*, actor: User, draft: Draft) -> None:
    """Delete a draft and the files attached to it."""
    if draft.owner_id != actor.pk:
        raise NotFound()
    for document in draft.documents.all():
        document.file.delete(save=False)
    draft.delete()


def documents_from_draft(escalation: Escalation, actor: User, draft: Draft) -> int:
    """On raising, the draft's documents become the escalation's (the encrypted files are
    kept where they are), each on the timeline and audited. In the raise's transaction."""
    moved = 0
    for kept in draft.documents.all():
        document = Document.objects.create(
            escalation=escalation,
            file=kept.file.name,
            filename=kept.filename,
            content_type=kept.content_type,
            size=kept.size,
            description=kept.description,
            uploaded_by=actor,
        )
        _event(escalation, actor, EventType.DOCUMENT_ADDED, kept.filename)
        audit_record(
            actor=actor,
            verb=Verb.DOCUMENT_UPLOADED,
            target=document,
            partnership_id=escalation.partnership_id,
            payload={"reference": escalation.reference, "size": kept.size, "content_type": kept.content_type},
        )
        DraftDocument.objects.filter(pk=kept.pk).delete()  # the row only: the file is the document's now
        moved += 1
    return moved
