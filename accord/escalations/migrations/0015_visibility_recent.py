"""The kept time an escalation was raised is required, and indexed for someone's
escalations most recent first (the unfiltered list's pages). Apart from 0014, whose
recount leaves PostgreSQL's deferred checks pending until it commits."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0014_visibility_raised_at"),
    ]

    operations = [
        migrations.AlterField(
            model_name="visibility",
            name="raised_at",
            field=models.DateTimeField(),
        ),
        migrations.AddIndex(
            model_name="visibility",
            index=models.Index(
                fields=["user", "partnership", "-raised_at", "-escalation"], name="visibility_recent"
            ),
        ),
    ]
