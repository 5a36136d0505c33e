"""Each pair of the table of who may see which escalation keeps when the escalation was
raised (filled here; required, and indexed for someone's escalations most recent first,
in 0015, once the recount's writes are committed): the unfiltered list finds a page's
escalations from it."""

from django.db import migrations, models


def fill(apps, schema_editor):
    # Each pair takes its escalation's date here; the recount by today's rule 7 (which
    # reads the ladder's columns as they are now) runs once every table it reads has its
    # present shape, in 0016.
    Visibility = apps.get_model("escalations", "Visibility")
    Escalation = apps.get_model("escalations", "Escalation")
    Visibility.objects.update(
        raised_at=models.Subquery(
            Escalation.objects.filter(pk=models.OuterRef("escalation_id")).values("raised_at")[:1]
        )
    )


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
