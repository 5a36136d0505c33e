"""Trigram indexes for the list's search (reference or summary containing the words), on
PostgreSQL only: without them a search reads every escalation. SQLite has no such index
and keeps its plain scan."""

from django.db import migrations

INDEXES = {
    "escalation_reference_trgm": "reference",
    "escalation_summary_trgm": "summary",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        # The expression Django writes for ``__icontains``: UPPER(column::text) LIKE UPPER(...).
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS {name} ON escalations_escalation USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("escalations", "0008_list_covering_index")]

    operations = [migrations.RunPython(create, drop)]
