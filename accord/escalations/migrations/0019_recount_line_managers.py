"""Recounts the table of who may see which escalation: a raiser's line manager now sees
through the link only while they hold a manager's or senior leader's role in the
partnership (rows kept for a line manager since demoted go)."""

from django.db import migrations


def recount(apps, schema_editor):
    from accord.escalations import visibility

    visibility.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0018_event_labels"),
        ("partnership", "0008_protocol_version"),
    ]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop, elidable=True)]
