import django.db.models.deletion
from django.db import migrations, models


def home(apps, schema_editor):
    """Each person's home: the partnership they hold a role in (the first, for someone in
    several); with none, the one partnership that keeps their agency, if only one does."""
    User = apps.get_model("partnership", "User")
    RoleAssignment = apps.get_model("partnership", "RoleAssignment")
    PartnershipAgency = apps.get_model("partnership", "PartnershipAgency")
    first_role = {}
    for user_id, partnership_id in RoleAssignment.objects.order_by("pk").values_list(
        "user_id", "partnership_id"
    ):
        first_role.setdefault(user_id, partnership_id)
    keepers = {}
    for agency_id, partnership_id in PartnershipAgency.objects.values_list("agency_id", "partnership_id"):
        keepers.setdefault(agency_id, set()).add(partnership_id)
    for user in User.objects.filter(added_by_sign_in_at__isnull=True).only("pk", "agency_id"):
        found = first_role.get(user.pk)
        if found is None and len(keepers.get(user.agency_id, ())) == 1:
            found = next(iter(keepers[user.agency_id]))
        if found is not None:
            User.objects.filter(pk=user.pk).update(home_partnership_id=found)


class Migration(migrations.Migration):
    dependencies = [
        ("partnership", "0004_stage_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="home_partnership",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="partnership.partnership",
            ),
        ),
        migrations.RunPython(home, migrations.RunPython.noop),
    ]
