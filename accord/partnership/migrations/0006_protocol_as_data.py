"""The protocol as data: who works each stage (``worked_by``, with the formal body in
place of "pdg"), where a conference chair or IRO may start, and the formal body's name and
authority. Existing ladders keep their behaviour: the stages 2 and 3 below the top were
where a conference chair could start."""

from django.db import migrations, models
from django.db.models import Q

WORKED_BY = [
    ("practitioners", "Practitioners"),
    ("managers", "Managers and safeguarding leads"),
    ("senior_leaders", "Senior leaders"),
    ("formal_body", "The formal body (for example the Practice Development Group)"),
]


def forwards(apps, schema_editor):
    Stage = apps.get_model("partnership", "Stage")
    Stage.objects.filter(worked_by="pdg").update(worked_by="formal_body")
    tops = {}
    for stage in Stage.objects.all():
        tops[stage.partnership_id] = max(tops.get(stage.partnership_id, 0), stage.number)
    for partnership_id, top in tops.items():
        Stage.objects.filter(partnership_id=partnership_id, number__in=[2, 3], number__lt=top).update(
            conference_chair_may_start=True
        )


def backwards(apps, schema_editor):
    Stage = apps.get_model("partnership", "Stage")
    Stage.objects.filter(worked_by="formal_body").update(worked_by="pdg")


class Migration(migrations.Migration):
    dependencies = [("partnership", "0005_settings_pages")]

    operations = [
        migrations.RemoveConstraint(model_name="stage", name="stage_owner_valid"),
        migrations.RenameField(model_name="stage", old_name="owner", new_name="worked_by"),
        migrations.AddField(
            model_name="stage",
            name="conference_chair_may_start",
            field=models.BooleanField(default=False, verbose_name="a conference chair or IRO may start here"),
        ),
        migrations.AddField(
            model_name="partnership",
            name="formal_body_name",
            field=models.CharField(
                default="Practice Development Group",
                help_text="Who receives formal escalations: a practice development group, a panel, a chair.",
                max_length=100,
                verbose_name="name of the formal body",
            ),
        ),
        migrations.AddField(
            model_name="partnership",
            name="formal_body_authority",
            field=models.CharField(
                choices=[
                    ("facilitates", "Facilitates: it never records the outcome; the agencies decide"),
                    ("directs_next_steps", "Directs next steps: it may record the outcome at a stage it works"),
                ],
                default="facilitates",
                max_length=20,
                verbose_name="authority of the formal body",
            ),
        ),
        migrations.AddField(
            model_name="partnership",
            name="protocol_source",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="the published procedure the ladder follows"
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.AlterField(
            model_name="stage",
            name="worked_by",
            field=models.CharField(choices=WORKED_BY, max_length=20, verbose_name="who works it"),
        ),
        migrations.AlterField(
            model_name="stage",
            name="is_formal",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Formal stages are the top ones: from the first, the formal body sees the escalation "
                    "and the evidence of efforts to resolve is required."
                ),
                verbose_name="formal",
            ),
        ),
        migrations.AddConstraint(
            model_name="partnership",
            constraint=models.CheckConstraint(
                condition=Q(formal_body_authority__in=["facilitates", "directs_next_steps"]),
                name="partnership_authority_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="stage",
            constraint=models.CheckConstraint(
                condition=Q(worked_by__in=["practitioners", "managers", "senior_leaders", "formal_body"]),
                name="stage_worked_by_valid",
            ),
        ),
    ]
