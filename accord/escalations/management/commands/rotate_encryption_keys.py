from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.crypto import fernet, rotate_text
from accord.escalations.models import Document

# (table, primary key column, encrypted text columns)
ENCRYPTED_COLUMNS = [
    ("escalations_child", "id", ["name", "date_of_birth", "agency_reference"]),
    ("escalations_escalation", "id", ["reflection", "adult_aware", "adult_views", "adult_advocate"]),
    ("escalations_draft", "id", ["data"]),
    ("escalations_followup", "id", ["what_changed"]),
    ("partnership_signinprovider", "id", ["client_secret"]),
]


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value and evidence document with the first key in "
        "ACCORD_ENCRYPTION_KEYS. Put the new key first, keep the old ones after it, run this, "
        "then remove the old keys."
    )

    def handle(self, *args, **options):
        counts = {}
        with transaction.atomic():
            for table, pk, columns in ENCRYPTED_COLUMNS:
                quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT {pk}, {quoted} FROM {table}")  # noqa: S608 - fixed names
                    rows = cursor.fetchall()
                for row in rows:
                    values = [rotate_text(v) if v else v for v in row[1:]]
                    assignments = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
                    with connection.cursor() as cursor:
                        cursor.execute(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", [*values, row[0]])  # noqa: S608
                counts[table] = len(rows)

            documents = 0
            for document in Document.objects.all():
                with document.file.open("rb") as stored:
                    rotated = fernet().rotate(stored.read())
                name = document.file.name
                document.file.storage.delete(name)
                document.file.storage.save(name, ContentFile(rotated))
                documents += 1
            counts["documents"] = documents
            audit_record(actor=None, verb=Verb.KEYS_ROTATED, payload=counts)
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted with the newest key: {counts}"))
