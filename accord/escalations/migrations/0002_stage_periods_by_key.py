from django.db import migrations, models


def record_stages(apps, schema_editor):
    """Each stage period the stage it was at, by key, name and formality (as the ladder says
    now: it is the ladder those periods ran on)."""
    StagePeriod = apps.get_model("escalations", "StagePeriod")
    Stage = apps.get_model("partnership", "Stage")
    stages = {(s.partnership_id, s.number): s for s in Stage.objects.all()}
    for period in StagePeriod.objects.select_related("escalation").iterator(chunk_size=2000):
        stage = stages.get((period.escalation.partnership_id, period.stage))
        if stage is None:
            continue
        StagePeriod.objects.filter(pk=period.pk).update(
            stage_key=stage.key, stage_name=stage.name, formal=stage.is_formal
        )


def count_formal(apps, schema_editor):
    """The tallies' new ``formal`` dimension for the escalations already recorded: each that
    became formal, on the day it was raised (and in its month's roll-up)."""
    from collections import Counter

    from django.utils import timezone

    Escalation = apps.get_model("escalations", "Escalation")
    DailyTally = apps.get_model("escalations", "DailyTally")
    counts: Counter = Counter()
    for partnership_id, raised_at in Escalation.objects.filter(formal_at__isnull=False).values_list(
        "partnership_id", "raised_at"
    ):
        day = timezone.localdate(raised_at)
        counts[(partnership_id, day, "formal")] += 1
        counts[(partnership_id, day.replace(day=1), "m:formal")] += 1
    DailyTally.objects.bulk_create(
        DailyTally(partnership_id=pid, day=day, dimension=dim, key="reached", n=n)
        for (pid, day, dim), n in counts.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0001_initial"),
        ("partnership", "0004_stage_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="stageperiod",
            name="stage_key",
            field=models.CharField(blank=True, max_length=30),
        ),
        migrations.AddField(
            model_name="stageperiod",
            name="stage_name",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="stageperiod",
            name="formal",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(record_stages, migrations.RunPython.noop),
        migrations.RunPython(count_formal, migrations.RunPython.noop),
    ]
