import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0005_home_partnership"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnership",
            name="overdue_reminder_repeat_working_days",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="0, as the brief and every preset have it: an overdue stage is told once to its workers and their managers, never twice. A partnership that wants a repeat sets how many working days apart.",
                validators=[django.core.validators.MaxValueValidator(60)],
                verbose_name="remind again of an overdue stage every (working days)",
            ),
        ),
    ]
