"""Once recounted the table of who may see which escalation (a raiser's line manager sees
through the link only while they hold a manager's or senior leader's role). The recount
now runs in ``0020_facilitator_appointment_ends``, after the last column rule 7 reads."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0018_event_labels"),
        ("partnership", "0008_protocol_version"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop, elidable=True)]
