"""Children's identifiers, the reflection, drafts and documents are encrypted at rest, and
no plaintext copy of them sits anywhere else in the database."""

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from accord.core import clock
from accord.core.crypto import lookup_hash
from accord.escalations import services
from accord.escalations.models import Child, Draft

pytestmark = pytest.mark.django_db
NAME = "Xanthippe Marchbanks-Oyelaran"
REFERENCE = "CASE-ZZ-909182"


def every_text_in_the_database() -> str:
    """Every column of every table, as the database holds it."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            columns = [f.column for f in model._meta.concrete_fields]
            quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                chunks.extend(str(v) for v in row if v is not None)
    return "\n".join(chunks)


def test_no_plaintext_child_identifier_or_reflection_anywhere(world, client):
    from accord.testing.factories import raise_details

    details = raise_details(
        with_agency=world.social,
        children=[services.ChildDetails(name=NAME, agency_reference=REFERENCE)],
        reflection="Secret reflection about over-identification",
    )
    e = services.escalation_raise(
        actor=world.practitioner_health,
        partnership=world.partnership,
        details=details,
        immediate_danger=False,
    )
    services.escalation_record_discussion(
        actor=world.practitioner_health, escalation=e, held_on=clock.today(), note="A note"
    )
    # A draft in progress, and the pages read and list it (audit entries).
    client.login(username=world.practitioner_health.username, password="test-password-123")
    client.post("/escalations/raise/danger/", {"immediate_danger": "no"})
    draft = Draft.objects.get()
    client.post(f"/escalations/raise/{draft.pk}/children/", {"child_1_name": NAME + " draft"})
    client.get(f"/escalations/{e.pk}/")
    client.get("/escalations/")
    everything = every_text_in_the_database()
    assert NAME not in everything
    assert REFERENCE not in everything
    assert "Secret reflection" not in everything
    # ...while the application reads them back.
    child = Child.objects.get(escalation=e)
    assert child.name == NAME and child.agency_reference == REFERENCE
    assert Draft.objects.get().data["child_1_name"] == NAME + " draft"
    assert Child.objects.filter(agency_reference_hash=lookup_hash(" case-zz-909182 ")).get() == child


def test_documents_are_encrypted_on_disk(world):
    e = world.raised()
    upload = SimpleUploadedFile("notes.txt", b"Plain words about the child's bruising")
    document = services.escalation_add_document(actor=world.practitioner_health, escalation=e, upload=upload)
    with document.file.open("rb") as stored:
        raw = stored.read()
    assert b"bruising" not in raw


def test_keys_rotate(world, settings):
    e = world.raised()
    old = list(settings.ACCORD_ENCRYPTION_KEYS)
    upload = SimpleUploadedFile("notes.txt", b"Rotated words")
    document = services.escalation_add_document(actor=world.practitioner_health, escalation=e, upload=upload)
    new_key = Fernet.generate_key().decode()
    settings.ACCORD_ENCRYPTION_KEYS = [new_key, *old]
    call_command("rotate_encryption_keys")
    settings.ACCORD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    assert Child.objects.get(escalation=e).name == "Zebedee Quartermaine"
    from accord.core.crypto import decrypt_bytes

    with document.file.open("rb") as stored:
        assert decrypt_bytes(stored.read()) == b"Rotated words"


def test_key_rotation_covers_every_encrypted_field():
    """A new encrypted field that the rotation does not re-encrypt would be unreadable once
    the old key is removed: every one is in its list."""
    from accord.core.crypto import EncryptedDateField, EncryptedJSONField, EncryptedTextField
    from accord.escalations.management.commands.rotate_encryption_keys import ENCRYPTED_COLUMNS

    listed = {(table, column) for table, _pk, columns in ENCRYPTED_COLUMNS for column in columns}
    found = {
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField | EncryptedJSONField | EncryptedDateField)
    }
    assert found == listed


def test_a_sign_in_providers_secret_is_encrypted_and_rotates(world, settings):
    from accord.partnership.models import SignInProvider

    provider = SignInProvider.objects.create(
        agency=world.health,
        name="Health",
        issuer="https://id.example/",
        client_id="c",
        client_secret="s3cret-value",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT client_secret FROM partnership_signinprovider WHERE id = %s", [provider.pk])
        assert "s3cret-value" not in cursor.fetchone()[0]
    old = list(settings.ACCORD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.ACCORD_ENCRYPTION_KEYS = [new_key, *old]
    call_command("rotate_encryption_keys")
    settings.ACCORD_ENCRYPTION_KEYS = [new_key]
    assert SignInProvider.objects.get(pk=provider.pk).client_secret == "s3cret-value"
