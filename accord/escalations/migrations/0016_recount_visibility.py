"""Once recounted the table of who may see which escalation with the rule 7 of its day.

The recount runs today's statements, which read columns later migrations add, so it is
made once, by the newest migration that changes what rule 7 reads
(``0020_facilitator_appointment_ends``); a database that ran this one before keeps what
it counted, and is recounted there again."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0015_visibility_recent"),
        ("partnership", "0006_protocol_as_data"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop, elidable=True)]
