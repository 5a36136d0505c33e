from django.db import migrations, models
from django.db.models import F, Value
from django.db.models.functions import Cast, Concat


def name_the_escalations(apps, schema_editor):
    """Each notification about an escalation names it as the escalations app does."""
    Notification = apps.get_model("notifications", "Notification")
    Notification.objects.filter(escalation__isnull=False).update(
        about=Concat(Value("escalation:"), Cast(F("escalation_id"), models.CharField()))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="about",
            field=models.CharField(blank=True, db_index=True, max_length=60),
        ),
        migrations.RunPython(name_the_escalations, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="notification",
            name="escalation",
        ),
    ]
