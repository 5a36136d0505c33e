import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0003_formal_body_words"),
        ("partnership", "0009_agency_work_email_domains_and_guest_idle_days"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Guest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("email", models.EmailField(max_length=150, verbose_name="work email")),
                ("named_at", models.DateTimeField()),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("named", "Named: not yet confirmed"),
                            ("confirmed", "Confirmed they work with the child or theme"),
                            ("declined", "Said this is not for them"),
                            ("ended", "Access ended"),
                        ],
                        default="named",
                        max_length=12,
                    ),
                ),
                ("link_hash", models.CharField(max_length=64, unique=True)),
                ("code_hash", models.CharField(blank=True, max_length=64)),
                ("code_expires_at", models.DateTimeField(blank=True, null=True)),
                ("code_tries", models.PositiveSmallIntegerField(default=0)),
                ("codes_since", models.DateTimeField(blank=True, null=True)),
                ("codes_sent", models.PositiveSmallIntegerField(default=0)),
                ("session_hash", models.CharField(blank=True, max_length=64)),
                ("session_seen_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                ("declined_at", models.DateTimeField(blank=True, null=True)),
                ("ended_at", models.DateTimeField(blank=True, null=True)),
                (
                    "end_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("closed", "The escalation closed"),
                            ("removed", "Removed by the raiser's manager or the business unit"),
                            ("idle", "Not used for the partnership's period"),
                            ("made_person", "Became one of the partnership's people"),
                        ],
                        max_length=12,
                    ),
                ),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="guest_places",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="partnership.agency"
                    ),
                ),
                (
                    "ended_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "escalation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="guests",
                        to="escalations.escalation",
                    ),
                ),
                (
                    "named_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["named_at", "id"],
                "indexes": [models.Index(fields=["account", "escalation"], name="guest_account")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("state__in", ["named", "confirmed", "declined", "ended"])),
                        name="guest_state_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("end_reason", ""),
                            ("end_reason__in", ["closed", "removed", "idle", "made_person"]),
                            _connector="OR",
                        ),
                        name="guest_end_valid",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("state__in", ["named", "confirmed"])),
                        fields=("escalation", "email"),
                        name="guest_once_per_escalation",
                    ),
                ],
            },
        ),
    ]
