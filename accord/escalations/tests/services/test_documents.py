"""Evidence uploads are judged by their content: markup never passes as plain text, a Word
document is opened and its expanded size bounded, and an upload larger than allowed is
refused from its declared length before it is read (pages and API alike)."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.escalations import services
from accord.escalations.models import Document
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def docx(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


WORD = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document>Chronology</w:document>"}


def attach(world, e, name: str, content: bytes):
    return services.escalation_add_document(
        actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile(name, content)
    )


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.txt", b"<html><body><script>alert(1)</script></body></html>"),
        ("notes.txt", b"  \n<!DOCTYPE html><p>hi</p>"),
        ("drawing.txt", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
        ("data.txt", b"\xef\xbb\xbf<?xml version='1.0'?><x/>"),
        ("evidence.docx", docx({"word/document.xml": b"x"})),  # no content types: not Word
        ("evidence.docx", docx({**WORD, "word/media/bomb.bin": b"\0" * (60 * 1024 * 1024)})),  # expands 1000x
        ("evidence.docx", b"PK\x03\x04 this is not really an archive"),
    ],
)
def test_markup_a_broken_archive_and_a_zip_bomb_are_refused_and_nothing_is_kept(world, name, content):
    e = world.raised()
    with pytest.raises(ValidationError) as refused:
        attach(world, e, name, content)
    assert "file" in refused.value.message_dict
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    "name, content",
    [
        ("notes.txt", "< 5 visits in March; the child said “I’m hungry”".encode()),
        ("evidence.docx", docx(WORD)),
    ],
)
def test_plain_text_and_a_real_word_document_are_kept(world, name, content):
    e = world.raised()
    document = attach(world, e, name, content)
    assert document.size == len(content)


def test_a_page_upload_larger_than_allowed_is_refused_from_its_declared_length(client, world):
    e = world.raised()
    sign_in(client, world.practitioner_health)
    too_big = str(settings.EVIDENCE_MAX_BYTES + 1024 * 1024)
    response = client.post(f"/escalations/{e.pk}/documents/", {"file": b""}, CONTENT_LENGTH=too_big)
    assert response.status_code == 413 and "too large" in response.content.decode()
    from accord.api.tests.test_api import Api

    api = Api(client, world.practitioner_health)
    answer = client.post(
        f"/api/v1/escalations/{e.pk}/documents",
        {"file": SimpleUploadedFile("a.txt", b"x")},
        CONTENT_LENGTH=too_big,
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert answer.status_code == 413 and answer["Content-Type"].startswith("application/problem+json")
    # Within the limit, the API takes a document larger than its other requests may be.
    big = SimpleUploadedFile("long.txt", b"a line of the chronology\n" * 80_000)  # about 2 MB
    made = client.post(
        f"/api/v1/escalations/{e.pk}/documents", {"file": big}, HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert made.status_code == 201, made.content
