"""The daily tallies' model now lives in the escalations app (escalations 0021), on the
same table: only Django's record of it leaves here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0004_count_existing_escalations"),
        ("escalations", "0021_tally_move"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="DailyTally")]),
    ]
