from collections import Counter
from datetime import timedelta

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import TruncDate

RESOLVED_DAYS = ["resolved_days", "m:resolved_days"]


def resolved_days_tallies(apps, schema_editor):
    """The reports' new ``resolved_days`` tallies (and their monthly roll-ups): each resolved
    escalation on the day it was resolved, by the language it was raised in and the working
    days it took on its partnership's calendar, as the services keep them from now on
    (``accord.escalations.tallies``)."""
    from accord.partnership.calendar import WorkingCalendar

    DailyTally = apps.get_model("escalations", "DailyTally")
    Escalation = apps.get_model("escalations", "Escalation")
    Partnership = apps.get_model("partnership", "Partnership")
    for partnership in Partnership.objects.order_by("pk"):
        calendar = WorkingCalendar(
            country=partnership.holiday_country, subdivision=partnership.holiday_subdivision
        )
        rows = list(
            Escalation.objects.filter(partnership=partnership, status="resolved", closed_at__isnull=False)
            .annotate(raised_day=TruncDate("raised_at"), resolved_day=TruncDate("closed_at"))
            .values_list("raised_language", "raised_day", "resolved_day")
            .annotate(n=Count("id"))
            .order_by()
        )
        if not rows:
            continue
        day = min(min(r[1], r[2]) for r in rows)
        last = max(max(r[1], r[2]) for r in rows)
        working, running = {}, 0
        while day <= last:
            running += calendar.is_working_day(day)
            working[day] = running
            day += timedelta(days=1)
        counts: Counter = Counter()
        for language, raised, resolved, n in rows:
            key = f"{language}:{working[resolved] - working[raised] if resolved > raised else 0}"
            counts[(resolved, "resolved_days", key)] += n
            counts[(resolved.replace(day=1), "m:resolved_days", key)] += n
        DailyTally.objects.bulk_create(
            (
                DailyTally(partnership_id=partnership.pk, day=day, dimension=dimension, key=key, n=n)
                for (day, dimension, key), n in counts.items()
            ),
            batch_size=5000,
        )


def no_resolved_days_tallies(apps, schema_editor):
    apps.get_model("escalations", "DailyTally").objects.filter(dimension__in=RESOLVED_DAYS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0014_highest_stage_gone"),
    ]

    operations = [
        migrations.RunPython(resolved_days_tallies, no_resolved_days_tallies),
    ]
