from collections import Counter
from datetime import timedelta

from django.db import migrations, models
from django.db.models import CharField, Count, F, Max, Min, Value
from django.db.models.functions import Cast, Concat, TruncDate
from django.utils import timezone

RESOLVED_DAYS = ["resolved_days", "m:resolved_days"]
CHUNK = 2000


def resolved_working_days(apps, schema_editor):
    """Each resolved escalation's working days from raising to resolution, on its
    partnership's calendar as it is now (the services record it at resolution from now on),
    and the reports' ``resolved_days`` tallies (and their monthly roll-ups) counted from them,
    as ``accord.escalations.tallies`` keeps them."""
    from accord.partnership.calendar import WorkingCalendar

    DailyTally = apps.get_model("escalations", "DailyTally")
    Escalation = apps.get_model("escalations", "Escalation")
    Partnership = apps.get_model("partnership", "Partnership")
    for partnership in Partnership.objects.order_by("pk"):
        resolved = Escalation.objects.filter(partnership=partnership, status="resolved", closed_at__isnull=False)
        span = resolved.aggregate(first=Min("raised_at"), last=Max("closed_at"))
        if span["first"] is None:
            continue
        calendar = WorkingCalendar(country=partnership.holiday_country, subdivision=partnership.holiday_subdivision)
        # The working days from the first day up to each day: the days between two are the difference.
        day, last = timezone.localdate(span["first"]), timezone.localdate(span["last"])
        working, running = {}, 0
        while day <= last:
            running += calendar.is_working_day(day)
            working[day] = running
            day += timedelta(days=1)
        after = 0
        while True:
            rows = list(resolved.filter(pk__gt=after).order_by("pk").values_list("pk", "raised_at", "closed_at")[:CHUNK])
            if not rows:
                break
            changed = []
            for pk, raised_at, closed_at in rows:
                raised, closed = timezone.localdate(raised_at), timezone.localdate(closed_at)
                days = working[closed] - working[raised] if closed > raised else 0
                changed.append(Escalation(pk=pk, resolved_working_days=days))
            Escalation.objects.bulk_update(changed, ["resolved_working_days"])
            after = rows[-1][0]
        counts: Counter = Counter()
        keyed = resolved.annotate(
            day=TruncDate("closed_at"),
            k=Concat(
                F("raised_language"),
                Value(":"),
                Cast(F("resolved_working_days"), output_field=CharField()),
                output_field=CharField(),
            ),
        )
        for row in keyed.values("day", "k").annotate(n=Count("id")).order_by().iterator():
            counts[(row["day"], "resolved_days", row["k"])] += row["n"]
            counts[(row["day"].replace(day=1), "m:resolved_days", row["k"])] += row["n"]
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
        migrations.AddField(
            model_name="escalation",
            name="resolved_working_days",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="working days to resolution"),
        ),
        migrations.RunPython(resolved_working_days, no_resolved_days_tallies),
    ]
