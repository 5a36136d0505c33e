import django.db.models.deletion
from django.db import migrations, models


def own_or_hold(apps, schema_editor):
    """Each provider registered before providers had an owner: the partnership's, where one
    partnership alone keeps its agency; where several do, one business unit could have set
    it for them all, so it is switched off until the deployment's administrators confirm it."""
    SignInProvider = apps.get_model("partnership", "SignInProvider")
    PartnershipAgency = apps.get_model("partnership", "PartnershipAgency")
    for provider in SignInProvider.objects.all():
        keepers = list(
            PartnershipAgency.objects.filter(agency_id=provider.agency_id).values_list(
                "partnership_id", flat=True
            )
        )
        if len(keepers) == 1:
            provider.partnership_id = keepers[0]
            provider.save(update_fields=["partnership"])
        elif len(keepers) > 1:
            provider.is_active = False
            provider.awaiting_confirmation = True
            provider.save(update_fields=["is_active", "awaiting_confirmation"])


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0002_people_by_name"),
    ]

    operations = [
        migrations.AddField(
            model_name="signinprovider",
            name="awaiting_confirmation",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="signinprovider",
            name="partnership",
            field=models.ForeignKey(
                blank=True,
                help_text="The partnership whose business unit keeps it; empty: the deployment's administrators.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sign_in_providers",
                to="partnership.partnership",
            ),
        ),
        migrations.RunPython(own_or_hold, migrations.RunPython.noop),
    ]
