from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0002_stage_periods_by_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="pdgaction",
            name="action",
            field=models.CharField(
                choices=[
                    ("restorative_facilitator", "Offer a restorative facilitator"),
                    ("mediation", "Offer mediation"),
                    ("reflective_circle", "Offer a restorative reflective circle"),
                    ("group_case_discussion", "Offer a group case discussion"),
                    ("restorative_supervision", "Offer restorative supervision"),
                    ("note", "Note the formal body's involvement"),
                ],
                max_length=30,
            ),
        ),
    ]
