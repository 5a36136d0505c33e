import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    Escalation = apps.get_model("escalations", "Escalation")
    Notification.objects.filter(partnership__isnull=True).update(
        partnership_id=Subquery(Escalation.objects.filter(pk=OuterRef("escalation_id")).values("partnership_id")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("partnership", "0006_protocol_as_data"),
        ("escalations", "0016_recount_visibility"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="partnership",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="partnership.partnership",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="notification",
            name="partnership",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="partnership.partnership"
            ),
        ),
        migrations.RemoveIndex(model_name="notification", name="notificatio_recipie_564b1f_idx"),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["recipient", "partnership", "read_at"], name="notification_unread_idx"),
        ),
    ]
