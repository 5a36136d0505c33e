"""The chain is keyed: entries written from now on carry an HMAC under ACCORD_AUDIT_KEY
(scheme 2); the entries already written keep their plain SHA-256 (scheme 1), and may only
come before the first keyed one. PostgreSQL now refuses TRUNCATE of the trail too."""

from django.db import migrations, models

CREATE = """
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION accord_audit_append_only();
"""

DROP = "DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_access_refused")]

    operations = [
        # Adding the column with a default fills it in without updating a row (which the
        # append-only trigger would refuse); the default then becomes the keyed scheme.
        migrations.AddField(
            model_name="auditevent", name="scheme", field=models.PositiveSmallIntegerField(default=1)
        ),
        migrations.AlterField(
            model_name="auditevent", name="scheme", field=models.PositiveSmallIntegerField(default=2)
        ),
        migrations.RunPython(forwards, backwards),
    ]
