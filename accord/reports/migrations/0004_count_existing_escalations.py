from django.db import migrations


def count_existing(apps, schema_editor):
    """Fill the new daily tallies from the escalations already recorded."""
    from accord.escalations import tallies

    Partnership = apps.get_model("partnership", "Partnership")
    for pk in Partnership.objects.values_list("pk", flat=True):
        tallies.rebuild(pk)


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_daily_tallies"), ("escalations", "0006_visibility_covering_index")]

    operations = [migrations.RunPython(count_existing, migrations.RunPython.noop)]
