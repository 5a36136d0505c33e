"""The standing item's newer sections read what stays small at national scale, with the
same figures as a count of the records: the learning recorded at resolution from the
tallies (kept exact by every write path), what is open now from narrow partial indexes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from accord.core import clock
from accord.escalations import services, tallies
from accord.escalations.data_protection import apply_retention
from accord.escalations.models import DailyTally, Escalation, Outcome, Resolution
from accord.escalations.selectors import overdue_q
from accord.reports.selectors import (
    Period,
    day_bounds,
    formal_open,
    learning_counts,
    overdue_by_stage,
    pdg_figures,
)

pytestmark = pytest.mark.django_db

NOVEMBER = Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
PERIODS = [
    NOVEMBER,
    Period(dt.date(2026, 11, 9), dt.date(2026, 11, 9)),  # one day
    Period(dt.date(2026, 10, 15), dt.date(2027, 1, 10)),  # partial months about a whole one
    Period(dt.date(2016, 1, 1), dt.date(2026, 12, 31)),  # ten years
]


def at(month, day):
    return timezone.make_aware(dt.datetime(2026, month, day, 10))


def snapshot(partnership):
    return {
        (t.day, t.dimension, t.key): t.n for t in DailyTally.objects.filter(partnership=partnership) if t.n
    }


def recounted_learning(partnership, period):
    """The learning counts as the standing item counted them from the records."""
    start, end = day_bounds(period)
    resolutions = Resolution.objects.filter(
        escalation__partnership=partnership, resolved_at__gte=start, resolved_at__lt=end
    ).exclude(learning="")
    labels = dict(partnership.practice_themes.values_list("pk", "label"))
    by_theme = (
        resolutions.filter(escalation__themes__isnull=False)
        .values_list("escalation__themes")
        .annotate(n=Count("id", distinct=True))
        .order_by()
    )
    return resolutions.count(), dict(sorted({labels.get(pk, "?"): n for pk, n in by_theme}.items()))


def assert_as_recounted(world):
    """The tallies the services kept are a rebuild's, and every period's learning counts
    a direct count's."""
    kept = snapshot(world.partnership)
    tallies.rebuild(world.partnership.pk)
    assert snapshot(world.partnership) == kept
    for period in PERIODS:
        assert learning_counts(world.partnership, period) == recounted_learning(world.partnership, period), (
            period
        )
        assert (
            pdg_figures(world.partnership, period).learned == recounted_learning(world.partnership, period)[0]
        )


def resolve(world, escalation, when, learning=""):
    with clock.set_to(when):
        return services.escalation_resolve(
            actor=world.manager_social,
            escalation=escalation,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="Joint visit agreed.",
            child_centred_outcome_achieved="yes",
            learning=learning,
        )


def test_learning_is_counted_as_the_records_count_it_through_every_write_path(world):
    """Resolved with learning and without, settled when raised, reopened and resolved again,
    several themes and none, and retention removing the words: the counts follow."""
    one = world.raised(at=at(11, 2))
    two_themes = world.raised(at=at(11, 2), theme_codes=["neglect", "exploitation"])
    no_theme = world.raised(at=at(11, 3), theme_codes=[])
    silent = world.raised(at=at(11, 3))
    with clock.set_to(at(11, 4)):
        formal = world.formal()
    with clock.set_to(at(11, 5)):
        services.escalation_record_settled(
            actor=world.practitioner_health,
            partnership=world.partnership,
            details=services.SettledDetails(
                kind="case",
                with_agency_id=world.social.pk,
                with_practitioner_username=world.practitioner_social.username,
                summary="Who follows up the dentist",
                outcome=Outcome.AGREED_WAY_FORWARD,
                agreed_way_forward="School nurse follows up.",
                learning="Say who follows up at the start.",
            ),
            immediate_danger=False,
        )
    resolve(world, one, at(11, 9), "Early joint visits settle most differences.")
    resolve(world, two_themes, at(11, 9), "Read the thresholds document together.")
    resolve(world, no_theme, at(11, 10), "Name a lead agency.")
    resolve(world, silent, at(11, 10))  # no learning: not counted
    with clock.set_to(at(11, 20)):
        services.escalation_resolve(
            actor=world.senior_social,
            escalation=formal,
            outcome=Outcome.DECISION_CHANGED,
            agreed_way_forward="Strategy discussion held.",
            child_centred_outcome_achieved="partly",
            learning="Thresholds read differently.",
        )
    assert learning_counts(world.partnership, NOVEMBER) == (5, {"Exploitation": 1, "Neglect": 3})
    assert_as_recounted(world)
    with clock.set_to(at(11, 23)):
        services.escalation_reopen(actor=world.manager_social, escalation=one, reason="It happened again")
    resolve(world, Escalation.objects.get(pk=one.pk), at(12, 2), "Agree the plan in writing.")
    assert learning_counts(world.partnership, Period(dt.date(2026, 12, 1), dt.date(2026, 12, 31))) == (
        1,
        {"Neglect": 1},
    )
    assert_as_recounted(world)
    # Retention removes the words of what closed long ago: the learning is no longer counted.
    apply_retention(now=at(12, 3) + dt.timedelta(days=world.partnership.retention_days_after_closure + 1))
    assert not Resolution.objects.exclude(learning="").exists()
    assert learning_counts(world.partnership, NOVEMBER) == (0, {})
    assert_as_recounted(world)


def test_removing_learning_leaves_other_partnerships_counts_alone(world, other_world):
    resolve(world, world.raised(at=at(11, 2)), at(11, 9), "Early joint visits.")
    resolve(other_world, other_world.raised(at=at(11, 2)), at(11, 9), "Early joint visits.")
    other_kept = snapshot(other_world.partnership)
    tallies.learning_removed(
        Escalation.objects.filter(partnership=world.partnership).values_list("pk", flat=True)
    )
    assert learning_counts(world.partnership, NOVEMBER) == (0, {})
    assert snapshot(other_world.partnership) == other_kept
    assert learning_counts(other_world.partnership, NOVEMBER) == (1, {"Neglect": 1})


def test_the_standing_item_reads_the_learning_count_from_its_figures(client, world):
    """The page's count is the figures' (no query of its own), the records' count."""
    from accord.testing.auth import sign_in

    resolve(world, world.raised(at=at(11, 2)), at(11, 9), "Early joint visits.")
    sign_in(client, world.pdg_chair)
    with clock.set_to(at(12, 1)):
        page = client.get("/reports/pdg/", {"start-day": 1, "start-month": 11, "start-year": 2026})
    assert page.status_code == 200
    assert page.context["tables"]["learning_total"] == 1 == page.context["figures"].learned


# ---------------------------------------------------------------- what is open now


def test_what_is_open_now_is_the_records_count_at_every_stage_and_status(world):
    """Overdue by stage and the formal escalations open: the same as a direct count, paused
    and closed ones left out, whatever moved."""
    with clock.set_to(at(11, 2)):
        at_1, at_2, at_3 = world.raised(), world.at_stage_2(), world.at_stage_3()
        formal, formal_paused, formal_closed = world.formal(), world.formal(), world.formal()
        services.escalation_pause(
            actor=world.senior_health, escalation=formal_paused, reason="Strategy meeting"
        )
        services.escalation_pause(actor=world.senior_health, escalation=at_3, reason="Strategy meeting")
        services.escalation_withdraw(
            actor=world.practitioner_health, escalation=formal_closed, reason="Settled"
        )
    with clock.set_to(at(12, 20)):  # everything open is past its due date now
        expected = {
            stage: Escalation.objects.filter(overdue_q(), partnership=world.partnership, stage=stage).count()
            for stage in range(1, 10)
        }
        assert overdue_by_stage(world.partnership) == {s: n for s, n in expected.items() if n}
        assert overdue_by_stage(world.partnership) == {1: 1, 2: 1, 4: 1}
        listed, total = formal_open(world.partnership, world.pdg_chair)
    assert total == 2 and {r.reference for r in listed} == {formal.reference, formal_paused.reference}
    assert at_1.pk and at_2.pk


# The narrow indexes the sections read, and the queries that must be able to use them (an
# index whose condition the query no longer implies is silently never used).
def _literal(value) -> str:
    return str(value) if isinstance(value, int) else "'{}'".format(str(value).replace("'", "''"))


def _uses(queryset, index: str) -> bool:
    """Whether the database can read the query through the index: SQLite is told to
    (``INDEXED BY`` fails where the index cannot answer the query; its values written in, as
    SQLite matches a partial index's condition only against values it can see); PostgreSQL,
    which takes no such order, is asked for its plan with the other ways of reading the
    table priced out."""
    sql, params = queryset.query.sql_with_params()
    table = f'"{queryset.model._meta.db_table}"'
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {index}", 1)
            try:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql % tuple(_literal(p) for p in params)}")
            except OperationalError:  # "no query solution": the index cannot answer it
                return False
            return index in str(cursor.fetchall())
        # Which of several indexes that could answer the planner prefers turns on statistics
        # that earlier tests leave behind: the others are dropped for the question (in a
        # savepoint undone after it), so that the answer is the index's, never the planner's
        # mood. Those behind a constraint (the primary key) stay: they answer anything.
        saved = transaction.savepoint()
        try:
            cursor.execute(
                """SELECT i.relname FROM pg_index x
                   JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                   WHERE t.relname = %s AND i.relname <> %s
                     AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""",
                [queryset.model._meta.db_table, index],
            )
            for (other,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{other}"')
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            return index in str(cursor.fetchall())
        finally:
            transaction.savepoint_rollback(saved)


def test_each_section_of_what_is_open_now_can_be_read_from_its_narrow_index(world):
    from django.db import transaction

    from accord.escalations.models import OPEN_STATUSES

    partnership = world.partnership
    overdue = Escalation.objects.filter(overdue_q(), partnership=partnership).values_list("stage")
    formal = Escalation.objects.filter(
        partnership=partnership, formal_at__isnull=False, status__in=OPEN_STATUSES
    )
    start, end = day_bounds(NOVEMBER)
    learned = Resolution.objects.filter(resolved_at__gte=start, resolved_at__lt=end).exclude(learning="")
    with transaction.atomic():
        assert _uses(overdue.annotate(n=Count("id")).order_by("stage"), "escalation_overdue_stage")
        assert _uses(formal.order_by("due_date", "pk"), "escalation_formal_open")
        assert _uses(learned.order_by("-resolved_at", "-id"), "resolution_learning")
        # A query the index does not answer is told apart (closed ones are not in it).
        assert not _uses(Escalation.objects.filter(partnership=partnership), "escalation_overdue_stage")


# ---------------------------------------------------------------- the kinds' intervals


def _interval_halving_200_times(observed: int, level: float = 0.95) -> tuple[float, float]:
    """``poisson_interval`` as it was: every one of its 200 halvings."""
    from accord.reports.selectors import poisson_cdf

    tail = (1 - level) / 2

    def solve(f, lo, hi):
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) else (lo, mid)
        return round((lo + hi) / 2, 1)

    top = 10.0 + 10 * observed
    low = 0.0 if observed == 0 else solve(lambda m: 1 - poisson_cdf(observed - 1, m) < tail, 0.0, top)
    high = solve(lambda m: poisson_cdf(observed, m) > tail, 0.0, top)
    return low, high


@pytest.mark.parametrize("observed", [*range(41), 57, 99, 250, 1000, 4321, 20000])
def test_the_interval_stops_halving_early_with_the_same_answer(observed):
    """A whole kind's count at national scale took seconds to bracket (200 halvings of a
    Poisson tail each way); it stops once the answer to a tenth is known, the same answer."""
    from accord.reports.selectors import poisson_interval

    assert poisson_interval(observed) == _interval_halving_200_times(observed)
    assert poisson_interval(observed, 0.9) == _interval_halving_200_times(observed, 0.9)


# ---------------------------------------------------------------- time to resolution by language


def test_time_to_resolution_by_language_is_each_escalations_working_days(world):
    """Over Christmas and the new year, and at the period's ends (late in the evening of its
    last day, and of the day before it began): the histogram is each escalation's own
    working days, counted one by one as the calendar counts them."""
    from collections import Counter

    from accord.partnership.calendar import calendar_for
    from accord.reports.languages import resolution_days_by_language

    def moment(y, m, d, h=10, minute=0):
        return timezone.make_aware(dt.datetime(y, m, d, h, minute))

    plan = [
        (moment(2026, 12, 18), moment(2026, 12, 29)),
        (moment(2026, 12, 23), moment(2027, 1, 4)),
        (moment(2026, 12, 24), moment(2026, 12, 24, 16)),  # the same day
        (moment(2026, 11, 20), moment(2026, 11, 30, 23, 30)),  # the day before the period
        (moment(2026, 12, 30), moment(2027, 1, 31, 23, 30)),  # late on its last day
        (moment(2026, 12, 1), moment(2027, 2, 1, 0, 10)),  # the day after
    ]
    for raised, resolved in plan:
        resolve(world, world.raised(at=raised), resolved)
    withdrawn = world.raised(at=moment(2026, 12, 2))
    with clock.set_to(moment(2026, 12, 3)):
        services.escalation_withdraw(actor=world.practitioner_health, escalation=withdrawn, reason="Settled")
    period = Period(dt.date(2026, 12, 1), dt.date(2027, 1, 31))
    calendar = calendar_for(world.partnership)
    expected = Counter(
        calendar.working_days_between(timezone.localdate(raised), timezone.localdate(resolved))
        for raised, resolved in plan
        if period.start <= timezone.localdate(resolved) <= period.end
    )
    assert sorted(expected.items()) == [(0, 1), (5, 2), (21, 1)]  # Christmas and New Year not counted
    assert resolution_days_by_language(world.partnership, period) == {"en-gb": sorted(expected.items())}


def test_time_to_resolution_follows_a_reopening_a_new_calendar_and_a_rebuild(world):
    """The tallies' ``resolved_days`` are what the records count at every step: resolved,
    reopened (taken back from the day it was first resolved), resolved again; and a change
    of calendar leaves the working days a resolution took as they were reckoned then (as a
    stage's are), so that reopening one afterwards takes back exactly what it counted."""
    from accord.escalations.models import DailyTally
    from accord.partnership.services.settings import partnership_update
    from accord.reports.languages import resolution_days_by_language

    def kept():
        return {
            (t.day, t.dimension, t.key): t.n
            for t in DailyTally.objects.filter(
                partnership=world.partnership, dimension__endswith="resolved_days"
            )
            if t.n  # (a count back to 0 is as good as no row; a negative one is kept, and fails)
        }

    def rebuilt():
        before = kept()
        tallies.rebuild(world.partnership.pk)
        return before == kept() and all(n > 0 for n in before.values())

    def moment(m, d, y=2026):
        return timezone.make_aware(dt.datetime(y, m, d, 10))

    def days():
        return resolution_days_by_language(
            world.partnership, Period(dt.date(2026, 11, 1), dt.date(2027, 1, 31))
        )

    reopened = world.raised(at=moment(11, 23))
    resolve(world, reopened, moment(11, 27))  # 4 working days
    over_new_year = world.raised(at=moment(12, 30))
    resolve(world, over_new_year, moment(1, 5, 2027))  # 3: not 1 January
    assert days() == {"en-gb": [(3, 1), (4, 1)]}
    assert rebuilt()
    with clock.set_to(moment(12, 1)):
        services.escalation_reopen(
            actor=world.manager_social, escalation=reopened, reason="It happened again"
        )
    assert days() == {"en-gb": [(3, 1)]}
    assert rebuilt()
    resolve(world, reopened, moment(12, 4))  # 9 working days from raising
    assert days() == {"en-gb": [(3, 1), (9, 1)]}
    # Scotland keeps 30 November (St Andrew's Day) and 2 January (on Monday 4th in 2027):
    # what was reckoned stays; a resolution after the change is reckoned on the new calendar.
    with clock.set_to(moment(12, 7)):
        partnership_update(
            actor=world.admin, partnership=world.partnership, data={"holiday_subdivision": "SCT"}
        )
    assert days() == {"en-gb": [(3, 1), (9, 1)]}
    assert rebuilt()
    with clock.set_to(moment(12, 14)):
        services.escalation_reopen(actor=world.manager_social, escalation=reopened, reason="Again")
    assert days() == {"en-gb": [(3, 1)]}
    assert rebuilt()
    resolve(
        world, reopened, moment(1, 8, 2027)
    )  # in England it would be 31: Scotland also keeps 30 November and 4 January
    reopened.refresh_from_db()
    assert reopened.resolved_working_days == 29
    assert days() == {"en-gb": [(3, 1), (29, 1)]}
    assert rebuilt()
    assert over_new_year.raised_language == "en-gb"


def test_the_standing_item_reads_time_to_resolution_with_its_figures(client, world):
    """The page's time to resolution by language comes from the figures it reads anyway: no
    statement of its own, and none grouping the escalations by language."""
    from django.test.utils import CaptureQueriesContext

    from accord.testing.auth import sign_in

    resolve(world, world.raised(at=at(11, 2)), at(11, 9))  # Monday to Monday: 5 working days
    sign_in(client, world.pdg_chair)
    with clock.set_to(at(12, 1)), CaptureQueriesContext(connection) as queries:
        page = client.get("/reports/pdg/", {"start-day": 1, "start-month": 11, "start-year": 2026})
    assert page.status_code == 200
    english = page.context["by_language"][0]
    assert (english.language, english.resolved, english.median_working_days) == ("en-gb", 1, 5)
    assert page.context["figures"].resolved_days == {"en-gb:5": 1}
    assert not [q["sql"] for q in queries if "raised_language" in q["sql"] and "GROUP BY" in q["sql"]]


def test_the_migration_counts_the_resolutions_already_recorded_as_the_services_would(world, other_world):
    """Escalations resolved before the working days were recorded: the migration reckons
    them for every partnership, each on its own calendar, and counts the tallies, as the
    services record and count them now."""
    import importlib

    from django.apps import apps

    from accord.partnership.services.settings import partnership_update

    partnership_update(
        actor=other_world.admin, partnership=other_world.partnership, data={"holiday_subdivision": "SCT"}
    )
    for w in (world, other_world):
        resolve(w, w.raised(at=at(11, 23)), timezone.make_aware(dt.datetime(2026, 12, 4, 10)))
        resolve(w, w.raised(at=at(11, 24)), timezone.make_aware(dt.datetime(2026, 11, 24, 16)))
    tallied = DailyTally.objects.filter(dimension__endswith="resolved_days")
    kept = sorted(tallied.values_list("partnership_id", "day", "dimension", "key", "n"))
    recorded = sorted(Escalation.objects.values_list("pk", "resolved_working_days"))
    assert {(k[0], k[3]) for k in kept} == {
        (world.partnership.pk, "en-gb:9"),
        (world.partnership.pk, "en-gb:0"),
        (other_world.partnership.pk, "en-gb:8"),
        (other_world.partnership.pk, "en-gb:0"),
    }
    tallied.delete()
    Escalation.objects.update(resolved_working_days=None)
    importlib.import_module("accord.escalations.migrations.0015_resolved_working_days").resolved_working_days(
        apps, None
    )
    assert sorted(tallied.values_list("partnership_id", "day", "dimension", "key", "n")) == kept
    assert sorted(Escalation.objects.values_list("pk", "resolved_working_days")) == recorded
