"""The daily tallies the reports read stay exactly what a recount from the records gives."""

import datetime as dt

import pytest
from django.utils import timezone

from accord.core import clock
from accord.escalations import services, tallies
from accord.escalations.models import DailyTally, Outcome

pytestmark = pytest.mark.django_db


def snapshot(partnership):
    return {
        (t.day, t.dimension, t.key): t.n
        for t in DailyTally.objects.filter(partnership=partnership)
        if t.n  # a count that went back to zero is the same as no row
    }


def test_what_the_services_keep_is_what_a_rebuild_counts(world):
    """Every lifecycle change, across days and a stage reached twice: no count drifts."""
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 2, 10))):
        settled = world.raised()
        formal = world.formal()
        conference = world.from_conference()
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 5, 10))):
        at_3 = world.at_stage_3()
        services.escalation_pause(
            actor=world.senior_health, escalation=at_3, reason="Waiting for the strategy meeting"
        )
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 9, 10))):
        services.escalation_resume(actor=world.senior_health, escalation=at_3)
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=settled,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
        services.escalation_resolve(
            actor=world.manager_health,
            escalation=conference,
            outcome=Outcome.DECISION_CHANGED,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="partly",
        )
    with clock.set_to(timezone.make_aware(dt.datetime(2026, 11, 12, 10))):
        services.escalation_reopen(actor=world.manager_social, escalation=settled, reason="It happened again")
        services.escalation_withdraw(
            actor=world.practitioner_health, escalation=formal, reason="Settled elsewhere"
        )
    kept = snapshot(world.partnership)
    assert kept[(dt.date(2026, 11, 2), "status", "open")] >= 1
    assert (dt.date(2026, 11, 9), "outcome", Outcome.AGREED_WAY_FORWARD) in kept
    assert (dt.date(2026, 11, 2), "iru_outcome", Outcome.DECISION_CHANGED) in kept
    tallies.rebuild(world.partnership.pk)
    assert snapshot(world.partnership) == kept


def test_the_rebuild_command_recounts_every_partnership(world, other_world):
    from django.core.management import call_command

    world.raised()
    other_world.raised()
    kept = snapshot(world.partnership), snapshot(other_world.partnership)
    DailyTally.objects.all().delete()
    call_command("rebuild_tallies", verbosity=0)
    assert (snapshot(world.partnership), snapshot(other_world.partnership)) == kept


PERIODS = [
    (dt.date(2026, 1, 31), dt.date(2026, 3, 3)),  # a whole February between two partial months
    (dt.date(2026, 2, 1), dt.date(2026, 2, 28)),  # exactly one month
    (dt.date(2026, 2, 10), dt.date(2026, 2, 20)),  # inside a month
    (dt.date(2025, 12, 15), dt.date(2026, 4, 1)),  # across a year end
    (dt.date(2026, 3, 31), dt.date(2026, 4, 30)),
    (dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
]


def test_any_period_adds_up_from_months_and_days_to_the_records(world):
    """Whole months come from the monthly roll-ups and partial ones day by day: every period,
    however its ends fall, gives the counts a direct count of the records gives."""
    from accord.escalations.models import Escalation
    from accord.reports.selectors import Period, day_bounds, tally_sums

    days = [dt.date(2026, 1, 30), dt.date(2026, 1, 31), dt.date(2026, 2, 1), dt.date(2026, 2, 15)]
    days += [dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2026, 3, 3), dt.date(2026, 3, 31)]
    days += [dt.date(2026, 4, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 4, 30)]
    for i, day in enumerate(days):
        e = world.raised(at=timezone.make_aware(dt.datetime(day.year, day.month, day.day, 9 + i % 8)))
        if i % 3 == 0:
            world.consulted(e)
    for start, end in PERIODS:
        period = Period(start, end)
        low, high = day_bounds(period)
        records = Escalation.objects.filter(
            partnership=world.partnership, raised_at__gte=low, raised_at__lt=high
        )
        sums = tally_sums(world.partnership, period)
        count = records.count()
        assert sums.get("total", {}).get("all", 0) == count, (start, end)
        assert sums.get("raising", {}) == ({str(world.health.pk): count} if count else {}), (start, end)


def test_the_check_reports_a_drifted_tally_and_changes_nothing_until_asked(world):
    from django.core.management import CommandError, call_command

    world.raised()
    kept = snapshot(world.partnership)
    drifted = DailyTally.objects.filter(partnership=world.partnership, dimension="total").first()
    drifted.n += 3
    drifted.save()
    with pytest.raises(CommandError, match="1 tallies differ"):
        call_command("rebuild_tallies", "--check", "--partnership", world.partnership.slug, verbosity=0)
    assert DailyTally.objects.get(pk=drifted.pk).n == drifted.n  # --check changed nothing
    call_command("rebuild_tallies", "--partnership", world.partnership.slug, verbosity=0)
    assert snapshot(world.partnership) == kept
    with pytest.raises(CommandError, match="No partnership"):
        call_command("rebuild_tallies", "--partnership", "nowhere", verbosity=0)
