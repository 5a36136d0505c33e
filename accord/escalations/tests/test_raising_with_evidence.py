"""Evidence attached while raising: checked as on an escalation, encrypted, seen by no one
but the raiser until raised, then the escalation's own documents, on its timeline."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotFound
from accord.escalations import services
from accord.escalations.models import Draft, DraftDocument, Escalation, EventType
from accord.escalations.tests.test_pages import _walk
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_evidence_attached_while_raising_becomes_the_escalations(client, world):
    sign_in(client, world.practitioner_health)
    draft = _walk(client, world)
    url = reverse("escalations:step", args=[draft.pk, "evidence"])
    assert client.get(url).status_code == 200
    page = client.post(
        url,
        {
            "file": SimpleUploadedFile("chronology.txt", b"3 March: missed visit"),
            "description": "Chronology",
            "attach": "1",
        },
    )
    assert page.status_code == 302 and page["Location"] == url
    refused = client.post(
        url, {"file": SimpleUploadedFile("page.html", b"<html><script>x</script>"), "attach": "1"}
    )
    assert refused.status_code == 200
    assert "must be a PDF, Word document, PNG, JPEG or plain text file" in refused.content.decode()
    kept = DraftDocument.objects.get()
    with kept.file.open("rb") as stored:
        assert b"missed visit" not in stored.read()  # encrypted at rest
    check = client.get(reverse("escalations:check", args=[draft.pk])).content.decode()
    assert "chronology.txt" in check
    # Nobody else reaches the draft or its documents.
    assert AuditEvent.objects.filter(verb=Verb.DOCUMENT_UPLOADED).count() == 1
    sign_in(client, world.practitioner_social)
    assert client.get(url).status_code == 404
    with pytest.raises(NotFound):
        services.draft_remove_document(actor=world.practitioner_social, draft=draft, document_id=kept.pk)
    sign_in(client, world.practitioner_health)
    assert client.post(reverse("escalations:check", args=[draft.pk])).status_code == 302
    e = Escalation.objects.get()
    document = e.documents.get()
    assert (document.filename, document.description) == ("chronology.txt", "Chronology")
    assert e.events.filter(type=EventType.DOCUMENT_ADDED).exists()
    assert not Draft.objects.exists() and not DraftDocument.objects.exists()
    # The other agency reads it through the escalation, as any document.
    sign_in(client, world.practitioner_social)
    download = client.get(reverse("escalations:document", args=[e.pk, document.pk]))
    assert (
        download.status_code == 200
        and b"".join(download.streaming_content if download.streaming else [download.content])
        == b"3 March: missed visit"
    )


def test_a_document_removed_or_a_draft_deleted_takes_its_file_with_it(client, world):
    sign_in(client, world.practitioner_health)
    draft = _walk(client, world)
    url = reverse("escalations:step", args=[draft.pk, "evidence"])
    client.post(url, {"file": SimpleUploadedFile("a.txt", b"first"), "attach": "1"})
    client.post(url, {"file": SimpleUploadedFile("b.txt", b"second"), "attach": "1"})
    first, second = DraftDocument.objects.all()
    storage = first.file.storage
    names = [first.file.name, second.file.name]
    assert client.post(url, {"remove": first.pk}).status_code == 302
    assert not storage.exists(names[0]) and storage.exists(names[1])
    client.post(reverse("escalations:draft_delete", args=[draft.pk]))
    assert not storage.exists(names[1]) and not DraftDocument.objects.exists()


def test_the_evidence_page_continues_with_or_without_a_file(client, world):
    sign_in(client, world.practitioner_health)
    draft = _walk(client, world)
    url = reverse("escalations:step", args=[draft.pk, "evidence"])
    nothing = client.post(url, {})
    assert nothing.status_code == 302 and nothing["Location"].endswith("/check/")  # offered from there
    with_file = client.post(url, {"file": SimpleUploadedFile("c.txt", b"notes")})
    assert with_file.status_code == 302 and DraftDocument.objects.count() == 1
