"""The daily tallies are the escalations' read model: the model moves here from the reports
app, keeping its table (``reports_dailytally``), its rows and its indexes. Only Django's
record of where the model lives changes; the database is not touched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0020_facilitator_appointment_ends"),
        ("partnership", "0009_facilitators_see_children"),
        ("reports", "0004_count_existing_escalations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="DailyTally",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("day", models.DateField()),
                        ("dimension", models.CharField(max_length=20)),
                        ("key", models.CharField(max_length=40)),
                        ("n", models.IntegerField(default=0)),
                        (
                            "partnership",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="partnership.partnership",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "reports_dailytally",
                        "indexes": [
                            models.Index(
                                fields=["partnership", "dimension", "day"],
                                include=("key", "n"),
                                name="daily_tally_covering",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("partnership", "dimension", "key", "day"), name="daily_tally_unique"
                            )
                        ],
                    },
                )
            ]
        )
    ]
