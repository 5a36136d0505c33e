"""Recounts the table of who may see which escalation with today's rule 7, which reads
who works each stage from the ladder (partnership 0006). Counted by the same statements
that keep the table afterwards, so a database already holding escalations starts exact
(``rebuild_visibility --check`` confirms it). A later migration that changes a table these
statements read must move this recount after its own change."""

from django.db import migrations


def recount(apps, schema_editor):
    from accord.escalations import visibility

    visibility.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0015_visibility_recent"),
        ("partnership", "0006_protocol_as_data"),
    ]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop, elidable=True)]
