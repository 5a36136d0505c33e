"""Each pair of the table of who may see which escalation keeps when the escalation was
raised (filled here; required, and indexed for someone's escalations most recent first,
in 0015, once the recount's writes are committed): the unfiltered list finds a page's
escalations from it."""

from django.db import migrations, models


def fill(apps, schema_editor):
    # Counted by the same statements that keep the tables afterwards, so that a database
    # already holding escalations starts exact (rebuild_visibility --check confirms it).
    # Those statements are today's code: a later migration that changes the table's
    # columns must move this recount after its own change, as this one did from 0013.
    from accord.escalations import visibility

    visibility.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0013_visibility_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="visibility",
            name="raised_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
    ]
