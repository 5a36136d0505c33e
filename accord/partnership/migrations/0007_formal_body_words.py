import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0006_overdue_reminder_repeat"),
    ]

    operations = [
        migrations.AlterField(
            model_name="partnership",
            name="follow_up_weeks",
            field=models.PositiveSmallIntegerField(
                default=6,
                help_text="The parties are asked then whether what was agreed held and what changed for the child; the standing-item and annual reports count the answers. 0: never ask.",
                validators=[django.core.validators.MaxValueValidator(52)],
                verbose_name="weeks after a resolution to ask whether the agreed way forward held",
            ),
        ),
        migrations.AlterField(
            model_name="partnership",
            name="suppression_threshold",
            field=models.PositiveSmallIntegerField(
                default=5,
                help_text="Counts from 1 to one less than this are shown as “fewer than …” in the executive's view of the standing-item report and in the annual report, so that no child can be identified.",
                validators=[
                    django.core.validators.MinValueValidator(2),
                    django.core.validators.MaxValueValidator(20),
                ],
                verbose_name="smallest count the executive's reports show",
            ),
        ),
        migrations.AlterField(
            model_name="partnershipagency",
            name="takes_part_in_raising",
            field=models.BooleanField(
                default=True,
                help_text="Off for an agency that takes no part in raising them here (the business unit, the formal body's own members, a facilitators' organisation): the standing-item report then never lists it as raising or receiving fewer than expected.",
                verbose_name="raises and receives escalations",
            ),
        ),
        migrations.AlterField(
            model_name="roleassignment",
            name="role",
            field=models.CharField(
                choices=[
                    ("practitioner", "Practitioner"),
                    ("manager", "Manager or safeguarding lead"),
                    ("senior_leader", "Senior leader"),
                    ("conference_chair", "Conference chair or IRO"),
                    ("pdg_member", "Member of the formal body"),
                    ("pdg_chair", "Chair of the formal body"),
                    ("facilitator", "Restorative facilitator"),
                    ("business_unit", "Partnership business unit"),
                    ("executive", "Partnership Executive Group"),
                    ("auditor", "Auditor or data protection officer"),
                ],
                max_length=30,
                verbose_name="role",
            ),
        ),
        migrations.AlterField(
            model_name="stage",
            name="worked_by",
            field=models.CharField(
                choices=[
                    ("practitioners", "Practitioners"),
                    ("managers", "Managers and safeguarding leads"),
                    ("senior_leaders", "Senior leaders"),
                    ("formal_body", "The formal body"),
                ],
                max_length=20,
                verbose_name="who works it",
            ),
        ),
    ]
