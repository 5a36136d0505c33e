import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0008_facilitated_stage"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnership",
            name="guest_idle_days",
            field=models.PositiveSmallIntegerField(
                default=30,
                help_text="A professional named by email answers as a guest of that one escalation; their access also ends when it closes or when it is removed.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(365),
                ],
                verbose_name="a guest's access ends after this many days without use",
            ),
        ),
        migrations.AddField(
            model_name="partnershipagency",
            name="work_email_domains",
            field=models.TextField(
                blank=True,
                help_text="One a line, for example nhs.net. Someone of this agency who is not in Accord may be named on a difference by an address at one of these, and answer it as a guest.",
                verbose_name="work email domains",
            ),
        ),
    ]
