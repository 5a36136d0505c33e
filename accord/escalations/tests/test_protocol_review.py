"""The year's review of the protocol, made while escalations are open (DOMAIN.md: a change
makes a new version, stages keep their identity, open escalations stay on the stage they
stood on unless the business unit moves them, and past figures keep the meaning they had).

Stages are known by key, not number: a stage inserted below another renumbers it, and the
escalations standing at it, and their history and the reports' counts, move with it."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accord.api.serialisers import summary_out
from accord.api.services import api_token_create
from accord.core import clock
from accord.escalations import services, visibility
from accord.escalations.models import DailyTally, Escalation, Visibility
from accord.escalations.protocol import protocol_apply
from accord.partnership.models import WorkedBy
from accord.partnership.protocol import document_of, install_ladder, ladder_of, preset, preset_names
from accord.reports.selectors import Period, every_figure_shown, pdg_figures, tally_sums
from accord.testing.auth import sign_in
from accord.testing.factories import World

pytestmark = pytest.mark.django_db

LAST_YEAR = Period(dt.date(2025, 4, 1), dt.date(2026, 3, 31))


def at(y, m, d):
    return timezone.make_aware(dt.datetime(y, m, d, 10))


def open_everywhere(world) -> dict[str, Escalation]:
    """Devon's demo shape: escalations open at every stage, and a year of settled history."""
    with clock.set_to(at(2025, 6, 2)):
        past_formal = world.formal()
        past_three = world.at_stage_3()
    for e in (past_formal, past_three):
        with clock.set_to(at(2025, 7, 1)):
            services.escalation_withdraw(actor=e.raised_by, escalation=e, reason="Settled outside Accord.")
    return {
        "practitioners": world.raised(),
        "line-management": world.at_stage_2(),
        "senior-leaders": world.at_stage_3(),
        "formal": world.formal(),
    }


GONE_WORDS = " (no longer on the ladder)"


def by_identity(partnership, rows: dict) -> dict:
    """A report's rows by stage as the stages' names: a stage on the ladder by its number's
    name now, a removed one by its own name (its row says it is no longer on the ladder)."""
    ladder = ladder_of(partnership)
    return {
        (ladder.name_of(k) if isinstance(k, int) else k.removesuffix(GONE_WORDS)): v for k, v in rows.items()
    }


def figures_by_name(partnership) -> dict:
    """Last year's figures as a reader sees them: stage reached by the stage's name."""
    sums = tally_sums(partnership, LAST_YEAR)
    figures = pdg_figures(partnership, LAST_YEAR, with_trend=False)
    return {
        "raised": sums.get("total", {}).get("all", 0),
        "formal": sums.get("formal", {}).get("reached", 0),
        "stage": {k: v for k, v in by_identity(partnership, figures.by_stage_reached).items() if v},
        "status": {k: v for k, v in sums.get("status", {}).items() if v},
    }


def every_table(partnership) -> dict:
    """Every table of last year's standing item, in full and as the executive sees it
    (protected), with the tables by stage by the stages' names."""
    figures = pdg_figures(partnership, LAST_YEAR)
    found: dict = {"timeliness": by_identity(partnership, figures.timeliness), "trend": figures.trend}
    for full in (True, False):
        for name, table in every_figure_shown(figures, full=full).items():
            found[(full, name)] = by_identity(partnership, table) if "stage" in name else table
    return found


def tally_rows(partnership) -> dict:
    return {
        (t.day, t.dimension, t.key): t.n for t in DailyTally.objects.filter(partnership=partnership) if t.n
    }


def standing(partnership) -> dict[str, str]:
    ladder = ladder_of(partnership)
    return {
        e.reference: ladder.name_of(e.stage)
        for e in Escalation.objects.filter(partnership=partnership, status__in=["open", "paused"])
    }


def seen(escalations) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for ref, name in Visibility.objects.filter(escalation__in=escalations).values_list(
        "escalation__reference", "user__username"
    ):
        found.setdefault(ref, set()).add(name)
    return found


def with_stage_inserted_after_first(document: dict) -> dict:
    doc = copy.deepcopy(document)
    for s in doc["stages"]:
        if s["number"] >= 2:
            s["number"] += 1
    doc["stages"].append(
        {
            "key": "team-talk",
            "number": 2,
            "name": "Team conversation",
            "worked_by": WorkedBy.PRACTITIONERS,
            "formal": False,
            "routine_working_days": 3,
            "urgent_working_days": 1,
            "conference_chair_may_start": False,
            "other_working_days": {},
        }
    )
    for b in doc.get("budgets", []):
        b["first_stage"] += b["first_stage"] >= 2
        if b["last_stage"] is not None:
            b["last_stage"] += b["last_stage"] >= 2
    return doc


def test_a_stage_inserted_after_the_first_keeps_every_open_escalation_where_it_stood(world):
    opened = open_everywhere(world)
    before_standing = standing(world.partnership)
    before_figures = figures_by_name(world.partnership)
    before_seen = seen(opened.values())
    before_due = {e.reference: Escalation.objects.get(pk=e.pk).due_date for e in opened.values()}
    document = with_stage_inserted_after_first(document_of(world.partnership))

    preview = protocol_apply(
        actor=world.admin, partnership=world.partnership, document=document, dry_run=True
    )
    assert standing(world.partnership) == before_standing  # a preview changes nothing
    assert len(preview.standing) == len(opened)

    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    assert standing(world.partnership) == before_standing  # the same stage, by name
    senior = Escalation.objects.get(pk=opened["senior-leaders"].pk)
    assert senior.stage == 4 and ladder_of(world.partnership).name_of(4) == "Senior leaders"
    assert senior.due_date == before_due[senior.reference]  # its own clock, not the new stage 3's
    api = summary_out(senior)
    assert (api["stage"], api["stage_name"], api["stage_key"]) == (4, "Senior leaders", "senior-leaders")
    assert figures_by_name(world.partnership) == before_figures  # the past keeps its meaning
    after_seen = seen(opened.values())
    for s in preview.standing:  # the preview said who gains and loses sight, exactly
        assert set(s.gains_sight) == after_seen.get(s.reference, set()) - before_seen.get(s.reference, set())
        assert set(s.loses_sight) == before_seen.get(s.reference, set()) - after_seen.get(s.reference, set())
    assert visibility.differences() == (0, 0, 0)
    periods = senior.stage_periods.order_by("id")
    assert [p.stage_key for p in periods] == ["practitioners", "line-management", "senior-leaders"]
    assert [p.stage for p in periods] == [1, 3, 4]  # renumbered with the ladder


def test_a_stage_removed_moves_its_open_escalations_where_the_business_unit_chose(world):
    opened = open_everywhere(world)
    before_figures = figures_by_name(world.partnership)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"] = [s for s in document["stages"] if s["key"] != "senior-leaders"]
    document["stages"][-1]["number"] = 3
    with pytest.raises(ValidationError, match="which this removes: choose"):
        protocol_apply(actor=world.admin, partnership=world.partnership, document=document, dry_run=True)
    services.escalation_pause(
        actor=world.senior_health,
        escalation=opened["senior-leaders"],
        reason="Waiting for a strategy meeting.",
    )
    moves = {"senior-leaders": "line-management"}
    preview = protocol_apply(
        actor=world.admin, partnership=world.partnership, document=document, dry_run=True, moves=moves
    )
    ref = opened["senior-leaders"].reference
    moved = next(s for s in preview.affected if s.reference == ref)
    assert moved.stage_now == "3: Senior leaders" and moved.stage_after == "2: Line management"
    assert world.senior_social.username in moved.loses_action
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document, moves=moves)
    e = Escalation.objects.get(reference=ref)
    assert e.stage == 2 and e.status == "paused" and e.due_date is None  # still paused, no clock
    assert e.stage_periods.get(ended_on__isnull=True).pauses.filter(resumed_on__isnull=True).exists()
    assert [p.stage_key for p in e.stage_periods.order_by("id")][-2:] == ["senior-leaders", "line-management"]
    formal = Escalation.objects.get(pk=opened["formal"].pk)
    assert formal.stage == 3 and ladder_of(world.partnership).is_formal(3)
    assert figures_by_name(world.partnership) == before_figures  # by stage identity, row for row
    reached = pdg_figures(world.partnership, LAST_YEAR, with_trend=False).by_stage_reached
    assert reached["Senior leaders" + GONE_WORDS] == before_figures["stage"]["Senior leaders"]
    assert visibility.differences() == (0, 0, 0)


def test_a_stage_made_formal_counts_only_what_became_formal_when_it_did(world):
    """Senior leaders' stage made formal: last year's escalations that reached it did not
    become formal then, and do not now; the one standing there becomes formal when it is
    next escalated, with rule 3's evidence, and the formal body sees it from then (the
    preview says nobody's sight changes today)."""
    opened = open_everywhere(world)
    before = figures_by_name(world.partnership)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][2]["formal"] = True  # senior leaders: formal from now on
    preview = protocol_apply(
        actor=world.admin, partnership=world.partnership, document=document, dry_run=True
    )
    ref = opened["senior-leaders"].reference
    row = next(s for s in preview.standing if s.reference == ref)
    assert not (row.gains_sight or row.loses_sight)
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    assert figures_by_name(world.partnership) == before  # last year's stage 3 did not become formal
    e = Escalation.objects.get(reference=ref)
    assert (
        e.formal_at is None and not Escalation.objects.visible_to(world.pdg_member).filter(pk=e.pk).exists()
    )
    with pytest.raises(ValidationError):  # entering the formal part asks rule 3's evidence
        services.escalation_escalate(actor=world.senior_health, escalation=e, reason="Still stuck.")


def with_formality_moved(document: dict) -> dict:
    """The formal part starts a stage lower (the stage below it made formal) or, where it
    starts at stage 2, a stage higher (stage 2 no longer formal)."""
    doc = copy.deepcopy(document)
    first_formal = min(s["number"] for s in doc["stages"] if s["formal"])
    for s in doc["stages"]:
        if first_formal > 2 and s["number"] == first_formal - 1:
            s["formal"] = True
        elif first_formal == 2 and s["number"] == 2:
            s["formal"] = False
    return doc


def with_longer_timescales(document: dict) -> dict:
    doc = copy.deepcopy(document)
    for s in doc["stages"]:
        s["routine_working_days"] += 2
        s["urgent_working_days"] += 1
    return doc


def with_stage_2_removed(document: dict) -> dict:
    doc = copy.deepcopy(document)
    doc["stages"] = [s for s in doc["stages"] if s["number"] != 2]
    for s in doc["stages"]:
        s["number"] -= s["number"] > 2
    for b in doc.get("budgets", []):
        b["first_stage"] -= b["first_stage"] > 2
        if b["last_stage"] is not None:
            b["last_stage"] = max(b["first_stage"], b["last_stage"] - (b["last_stage"] >= 2))
    return doc


REVIEWS = {
    "a stage inserted after the first": with_stage_inserted_after_first,
    "the formal part moved by a stage": with_formality_moved,
    "longer timescales": with_longer_timescales,
    "stage 2 removed": with_stage_2_removed,
}


@pytest.mark.parametrize("review", REVIEWS)
@pytest.mark.parametrize("name", preset_names())
def test_last_years_figures_are_the_same_after_a_review_on_every_preset(name, review):
    """Every preset, every kind of review: what last year's figures say does not change, in
    every table (a stage by its name; a removed stage keeps its own row under its name), and a
    recount from the records gives the tallies the services kept."""
    world = World()
    install_ladder(world.partnership, preset(name))
    with clock.set_to(at(2025, 9, 1)):
        settled = world.consulted(world.raised())
        formal = ladder_of(world.partnership).is_formal(2)
        services.escalation_escalate(
            actor=world.practitioner_health,
            escalation=settled,
            reason="Not settled.",
            efforts_to_resolve="The practitioners met twice." if formal else "",
        )
        world.raised()
        withdrawn = world.consulted(world.raised())
        services.escalation_escalate(
            actor=world.practitioner_health,
            escalation=withdrawn,
            reason="Not settled.",
            efforts_to_resolve="The practitioners met twice." if formal else "",
        )
    with clock.set_to(at(2025, 10, 1)):
        services.escalation_withdraw(actor=withdrawn.raised_by, escalation=withdrawn, reason="Settled.")
    before = figures_by_name(world.partnership)
    tables = every_table(world.partnership)
    assert before["raised"] == 3 and len(before["stage"]) == 2  # (a year the review could disturb)
    assert before["formal"] == (2 if formal else 0)
    current = document_of(world.partnership)
    document = REVIEWS[review](current)
    moves = {current["stages"][1]["key"]: current["stages"][0]["key"]} if review == "stage 2 removed" else {}
    change = protocol_apply(actor=world.admin, partnership=world.partnership, document=document, moves=moves)
    assert change.applied and change.version == 2
    assert figures_by_name(world.partnership) == before
    assert every_table(world.partnership) == tables
    if review == "stage 2 removed":
        gone = current["stages"][1]["name"] + GONE_WORDS
        assert gone in pdg_figures(world.partnership, LAST_YEAR).by_stage_reached
        assert gone in pdg_figures(world.partnership, LAST_YEAR).timeliness  # the withdrawn one's time there
    kept = tally_rows(world.partnership)
    call_command("rebuild_tallies", "--partnership", world.partnership.slug, "--check")
    call_command("rebuild_tallies", "--partnership", world.partnership.slug, verbosity=0)
    assert tally_rows(world.partnership) == kept


def test_an_export_without_keys_is_matched_by_number_as_before(world):
    e = world.at_stage_2()
    document = document_of(world.partnership)
    for s in document["stages"]:
        del s["key"]
    document["stages"][1]["name"] = "Managers"
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    assert ladder_of(world.partnership).stage(2).key == "line-management"  # renamed, the same stage
    e.refresh_from_db()
    assert e.stage == 2


def test_a_removed_stage_keeps_its_own_row_in_every_report_and_its_figures(client, world):
    """Senior leaders removed at the review: last year's escalations that reached it keep it
    as their highest stage reached, under its own name, on the standing item (page, CSV, API)
    and in the annual report; the one standing there moves where the business unit chose,
    and counts beyond it again only once escalated past the stage it reached."""
    opened = open_everywhere(world)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"] = [s for s in document["stages"] if s["key"] != "senior-leaders"]
    document["stages"][-1]["number"] = 3
    protocol_apply(
        actor=world.admin,
        partnership=world.partnership,
        document=document,
        moves={"senior-leaders": "line-management"},
    )
    gone = "Senior leaders" + GONE_WORDS
    closed = Escalation.objects.filter(partnership=world.partnership, status="withdrawn")
    assert sorted(closed.values_list("highest_stage_gone", flat=True)) == ["", "senior-leaders"]
    sign_in(client, world.pdg_chair)
    period = {
        "start-day": 1,
        "start-month": 4,
        "start-year": 2025,
        "end-day": 31,
        "end-month": 3,
        "end-year": 2026,
    }
    assert gone in client.get("/reports/pdg/", period).content.decode()
    assert gone in client.get("/reports/pdg.csv", period).content.decode()
    _, token = api_token_create(actor=None, user=world.pdg_member)
    answer = client.get(
        "/api/v1/reports/pdg",
        {"from": "2025-04-01", "to": "2026-03-31"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()
    assert answer["by_stage_reached"][gone] == 1
    client.logout()
    sign_in(client, world.executive)
    assert gone in client.get("/reports/annual.csv", {"year": 2025}).content.decode()

    # The one moved down to line management: past senior leaders only when escalated on.
    moved = Escalation.objects.get(pk=opened["senior-leaders"].pk)
    assert (moved.stage, moved.highest_stage, moved.highest_stage_gone) == (2, 2, "senior-leaders")
    services.escalation_escalate(
        actor=world.manager_health,
        escalation=moved,
        reason="Still stuck.",
        efforts_to_resolve="The managers met twice.",
    )
    moved.refresh_from_db()
    assert (moved.stage, moved.highest_stage, moved.highest_stage_gone) == (3, 3, "")
    kept = tally_rows(world.partnership)
    call_command("rebuild_tallies", "--partnership", world.partnership.slug, verbosity=0)
    assert tally_rows(world.partnership) == kept
