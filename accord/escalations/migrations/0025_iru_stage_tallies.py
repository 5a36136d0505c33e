from django.db import migrations


def recount(apps, schema_editor):
    """Count the conference and review escalations already recorded by the highest stage they
    reached (the new ``iru_stage`` tallies), by recounting each partnership's tallies."""
    from accord.escalations import tallies

    Partnership = apps.get_model("partnership", "Partnership")
    for pk in Partnership.objects.values_list("pk", flat=True):
        tallies.rebuild(pk)


class Migration(migrations.Migration):
    dependencies = [("escalations", "0024_draft_documents")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop)]
