"""The stages' clocks (services/timescales.py): due dates from the calendar and the ladder, recomputed when either changes.

Timescales as data: priority tiers the partnership adds (each with its own timescale at a
stage), a budget over a run of stages (West Yorkshire: steps 1 to 5 within five working
days in all) and an origin's cap on the whole formal dispute (the IRO Handbook: twenty
working days). Due dates follow them when raising, escalating and when the ladder changes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.api.tests.test_api import Api, raise_body
from accord.core import clock
from accord.escalations import services
from accord.escalations.protocol import moved_due_dates, protocol_apply
from accord.escalations.selectors import is_overdue
from accord.partnership.protocol import document_of, install_ladder, ladder_of, parse_document, preset
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


def test_overdue_is_derived_from_the_due_date_and_the_calendar(world):
    e = world.raised(at=at(2026, 12, 18))
    with clock.set_to(at(2026, 12, 29)):
        assert not is_overdue(e)
    with clock.set_to(at(2026, 12, 30)):
        assert is_overdue(e)


def test_each_stage_gets_its_own_due_date(world):
    e = world.raised(at=at(2026, 11, 2))
    with clock.set_to(at(2026, 11, 3)):
        world.consulted(e)
        e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="x")
    assert e.stage_started_on == dt.date(2026, 11, 3)
    assert e.due_date == dt.date(2026, 11, 10)
    with clock.set_to(at(2026, 11, 4)):
        e = services.escalation_escalate(actor=world.manager_health, escalation=e, reason="x")
    assert e.due_date == dt.date(2026, 11, 18)  # 10 working days at stage 3
    periods = list(e.stage_periods.order_by("stage").values_list("stage", "started_on", "ended_on"))
    assert periods == [
        (1, dt.date(2026, 11, 2), dt.date(2026, 11, 3)),
        (2, dt.date(2026, 11, 3), dt.date(2026, 11, 4)),
        (3, dt.date(2026, 11, 4), None),
    ]


def test_a_ladder_change_recomputes_open_due_dates(world):
    e = world.raised(at=at(2026, 11, 2))
    world.partnership.stages.filter(number=1).update(routine_working_days=3)
    assert (
        services.escalations_recompute_due_dates(partnership=world.partnership, refresh_timescales=True) == 1
    )
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 5)


def test_a_calendar_change_recomputes_open_due_dates(world):
    # Raised Wednesday 30 Dec 2026, 5 working days. England: 1 Jan is a holiday -> due 7 Jan 2027.
    e = world.raised(at=at(2026, 12, 30))
    assert e.due_date == dt.date(2027, 1, 7)
    # Scotland also keeps 2 January (a Saturday in 2027, so Monday 4 January is the substitute).
    world.partnership.holiday_subdivision = "SCT"
    world.partnership.save()
    assert services.escalations_recompute_due_dates(partnership=world.partnership) == 1
    e.refresh_from_db()
    assert e.due_date == dt.date(2027, 1, 8)


def test_the_ladder_rule_answers_for_any_caller(world):
    """The settings page is one caller of the ladder's rule; the rule itself is here."""
    P = services.ProposedStage
    tiers = {1: "practitioners", 2: "managers", 3: "senior_leaders", 4: "formal_body"}
    now = [
        P(number=n, is_formal=n == 4, worked_by=tiers[n], was_number=n, was_formal=n == 4)
        for n in (1, 2, 3, 4)
    ]
    services.ladder_validate(partnership=world.partnership, stages=now)  # as it is: fine
    services.ladder_validate(  # a new stage 5 may take over as formal while nothing stands at 4
        partnership=world.partnership,
        stages=[
            *now[:3],
            P(number=4, is_formal=False, worked_by="senior_leaders", was_number=4, was_formal=True),
            P(number=5, is_formal=True, worked_by="formal_body"),
        ],
    )
    services.ladder_validate(  # several formal stages at the top (Croydon's shape)
        partnership=world.partnership,
        stages=[
            *now[:2],
            P(number=3, is_formal=True, worked_by="senior_leaders", was_number=3, was_formal=False),
            P(number=4, is_formal=True, worked_by="senior_leaders", was_number=4, was_formal=True),
            P(number=5, is_formal=True, worked_by="formal_body"),
        ],
    )
    refused = {
        "gap": [now[0], now[1], now[3]],
        "one stage": [P(number=1, is_formal=True, worked_by="formal_body")],
        "nothing formal": [*now[:3], P(number=4, is_formal=False, worked_by="formal_body", was_number=4)],
        "formal not at the top": [
            now[0],
            P(number=2, is_formal=True, worked_by="managers"),
            P(number=3, is_formal=False, worked_by="senior_leaders"),
            now[3],
        ],
        "more junior above": [now[0], now[2], P(number=3, is_formal=False, worked_by="managers"), now[3]],
        "stage 1 not practitioners'": [P(number=1, is_formal=False, worked_by="managers"), *now[1:]],
        "renumbered": [
            P(number=2, is_formal=False, worked_by="practitioners", was_number=1, was_formal=False),
            P(number=1, is_formal=False, worked_by="practitioners", was_number=2, was_formal=False),
            *now[2:],
        ],
    }
    for case, stages in refused.items():
        with pytest.raises(ValidationError):
            services.ladder_validate(partnership=world.partnership, stages=stages)
            pytest.fail(case)
    formal = world.formal()  # now an escalation stands at the formal stage 4
    with pytest.raises(ValidationError, match=f"Open escalations stand at stage 4.*{formal.reference}"):
        services.ladder_validate(
            partnership=world.partnership,
            stages=[
                *now[:3],
                P(number=4, is_formal=False, worked_by="senior_leaders", was_number=4, was_formal=True),
                P(number=5, is_formal=True, worked_by="formal_body"),
            ],
        )
    with pytest.raises(ValidationError, match=f"would remove: {formal.reference}"):
        services.ladder_validate(partnership=world.partnership, stages=now[:3][:2] + [
            P(number=3, is_formal=True, worked_by="formal_body", was_number=3, was_formal=False)
        ])  # fmt: skip


def with_high_priority(world) -> dict:
    """Devon's ladder with a third tier, "high", whose stage-2 timescale is two working days."""
    document = preset("devon")
    document["priorities"] = [
        {"code": "routine", "label": "Routine", "description": ""},
        {"code": "high", "label": "High", "description": "the child is at risk of significant harm"},
        {"code": "urgent", "label": "Urgent", "description": "the child's safety cannot wait a working week"},
    ]
    document["stages"][1]["other_working_days"] = {"high": 2}
    install_ladder(world.partnership, document)
    return document


def escalate(actor, e, when, **kwargs):
    with clock.set_to(when):
        return services.escalation_escalate(actor=actor, escalation=e, reason="Not settled.", **kwargs)


def test_an_added_priority_has_its_own_timescale_at_a_stage_and_the_routine_one_elsewhere(world):
    with_high_priority(world)
    e = world.consulted(world.raised(at=at(2026, 11, 2), urgency="high"), at=at(2026, 11, 2))
    assert e.due_date == dt.date(2026, 11, 9)  # stage 1 names no "high" timescale: routine's 5 days
    e = escalate(world.practitioner_health, e, at(2026, 11, 3))
    assert e.due_date == dt.date(2026, 11, 5)  # stage 2 gives "high" two working days
    assert e.get_urgency_display() == "High"
    with pytest.raises(ValidationError) as refused:
        world.raised(urgency="someday")
    assert "urgency" in refused.value.message_dict


def test_the_raising_page_offers_the_partnerships_priorities_and_the_api_takes_and_lists_them(world, client):
    with_high_priority(world)
    sign_in(client, world.practitioner_health)
    from accord.escalations.forms import DifferenceForm

    choices = dict(DifferenceForm(partnership=world.partnership).fields["urgency"].choices)
    assert choices["high"] == "High: the child is at risk of significant harm"
    assert list(choices) == ["routine", "high", "urgent"]
    api = Api(client, world.practitioner_health)
    listed = api.get("/taxonomies").json()["priorities"]
    assert [p["code"] for p in listed] == ["routine", "high", "urgent"]
    made = api.post("/escalations", raise_body(world, urgency="high"))
    assert made.status_code == 201, made.content
    assert made.json()["urgency"] == "high"
    refused = api.post("/escalations", raise_body(world, urgency="whenever"))
    assert refused.status_code in (400, 422) and "urgency" in refused.content.decode()


def test_a_budget_over_a_run_of_stages_gives_each_stage_what_is_left_of_it(world):
    install_ladder(world.partnership, preset("west-yorkshire"))  # steps 1-5 within 5 days in all
    e = world.consulted(world.raised(at=at(2026, 11, 2)), at=at(2026, 11, 2))  # Monday
    assert e.due_date == dt.date(2026, 11, 9)  # 5 of the budget's 5 days
    e = escalate(world.practitioner_health, e, at(2026, 11, 5))  # 3 working days taken
    assert e.due_date == dt.date(2026, 11, 9)  # 2 left: Thursday + 2 working days
    e = escalate(world.manager_health, e, at(2026, 11, 9))  # 2 more taken: the budget is spent
    assert e.due_date == dt.date(2026, 11, 9)  # due the day it arrives
    for when in (at(2026, 11, 9, 11), at(2026, 11, 9, 12)):
        e = escalate(world.manager_health if e.stage < 4 else world.senior_health, e, when)
    assert e.stage == 5 and e.due_date == dt.date(2026, 11, 9)
    e = escalate(
        world.senior_health, e, at(2026, 11, 10), efforts_to_resolve="Every step met and could not agree."
    )
    assert e.stage == 6 and e.due_date == dt.date(2026, 11, 30)  # outside the run: its own 14 days


def test_an_origins_cap_limits_the_whole_formal_dispute_and_others_are_not_capped(world):
    install_ladder(world.partnership, preset("iro-handbook"))  # formal from 2; 20 days for IRO origins
    review = world.raised(
        at=at(2026, 11, 2),
        raiser=world.chair,
        with_agency=world.health,
        with_practitioner_username="",
        origin="care_review",
        start_stage=2,
        start_stage_reason="Raised at the review: the plan is not being followed.",
    )
    assert review.due_date == dt.date(2026, 11, 9)  # stage 2's own 5 days
    review = world.consulted(review, at=at(2026, 11, 3))
    review = escalate(world.chair, review, at(2026, 11, 18))  # 12 working days at stage 2 (late)
    assert review.due_date == dt.date(2026, 11, 25)  # stage 3's 5 days fit in the 8 left
    review = escalate(world.chair, review, at(2026, 12, 2))  # 10 more: 22 of 20 taken
    assert review.stage == 4 and review.due_date == dt.date(2026, 12, 2)  # none left: due at once
    # A practitioner's own escalation on the same ladder has no cap.
    own = world.consulted(world.raised(at=at(2026, 11, 2)), at=at(2026, 11, 2))
    own = escalate(world.practitioner_health, own, at(2026, 11, 18), efforts_to_resolve="We met twice.")
    own = escalate(world.manager_health, own, at(2026, 12, 2))
    assert own.stage == 3 and own.due_date == dt.date(2026, 12, 9)


def test_a_document_with_priorities_and_budgets_round_trips_and_a_bad_one_names_each_problem(world):
    with_high_priority(world)
    document = document_of(world.partnership)
    document["budgets"] = [{"first_stage": 1, "last_stage": 3, "working_days": 12, "origin": ""}]
    protocol_apply(actor=None, partnership=world.partnership, document=document)
    again = document_of(world.partnership)
    assert again == json.loads(json.dumps(document))
    broken = json.loads(json.dumps(document))
    broken["priorities"] = [{"code": "High!", "label": ""}]
    broken["budgets"] = [{"first_stage": 3, "last_stage": 2, "working_days": 0, "origin": "gossip"}]
    broken["stages"][2]["other_working_days"] = {"someday": 3}
    with pytest.raises(ValidationError) as refused:
        parse_document(broken)
    text = " ".join(refused.value.messages)
    for words in (
        "code is up to 30",
        "label is text",
        "last_stage is not below first_stage",
        "working_days is a whole number",
        "origin is empty or one of",
        "names someday, not an added priority",
    ):
        assert words in text, words
    broken["priorities"] = [{"code": "routine", "label": "Routine"}]
    with pytest.raises(ValidationError) as refused:
        parse_document(broken)
    assert '"routine" and "urgent"' in " ".join(refused.value.messages)
    assert document_of(world.partnership) == again  # nothing changed


def test_a_priority_an_open_escalation_has_cannot_be_removed(world):
    document = with_high_priority(world)
    e = world.raised(urgency="high")
    document["priorities"] = [p for p in document["priorities"] if p["code"] != "high"]
    document["stages"][1]["other_working_days"] = {}
    with pytest.raises(ValidationError) as refused:
        protocol_apply(actor=None, partnership=world.partnership, document=document)
    assert e.reference in " ".join(refused.value.messages)
    assert "high" in ladder_of(world.partnership).priority_codes


def test_the_preview_of_a_new_budget_lists_the_due_dates_it_moves_and_applying_moves_them(world):
    with clock.set_to(at(2026, 11, 2)):
        e = world.at_stage_2(at=at(2026, 11, 2))
    document = document_of(world.partnership)
    document["budgets"] = [{"first_stage": 1, "last_stage": 2, "working_days": 2, "origin": ""}]
    with clock.set_to(at(2026, 11, 2, 12)):
        moved = moved_due_dates(world.partnership, document)
        assert [(m.reference, m.stage, m.becomes) for m in moved] == [(e.reference, 2, dt.date(2026, 11, 4))]
        change = protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    assert change.applied and [m.reference for m in change.moved] == [e.reference]
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 4)


def test_due_dates_move_a_batch_at_a_time_and_all_of_them_move(world):
    escalations = [world.raised(at=at(2026, 11, 2)) for _ in range(5)]
    world.partnership.stages.filter(number=1).update(routine_working_days=3)
    assert (
        services.escalations_recompute_due_dates(
            partnership=world.partnership, refresh_timescales=True, batch=2
        )
        == 5
    )
    for e in escalations:
        e.refresh_from_db()
        assert e.due_date == dt.date(2026, 11, 5) and e.version == 2


def test_each_process_reads_a_ladder_once_per_version_and_a_change_anywhere_is_seen(
    world, django_assert_num_queries
):
    from accord.partnership.models import Partnership, Stage

    first = Partnership.objects.get(pk=world.partnership.pk)
    assert ladder_of(first).stage(1).routine_working_days == 5
    again = Partnership.objects.get(pk=world.partnership.pk)  # the next request's copy
    with django_assert_num_queries(0):
        assert ladder_of(again).stage(1).routine_working_days == 5
        assert ladder_of(again).priority_codes == ["routine", "urgent"]
    stage = Stage.objects.get(partnership=world.partnership, number=1)
    stage.routine_working_days = 4
    stage.save()  # as the settings page saves it, in any process
    later = Partnership.objects.get(pk=world.partnership.pk)
    assert later.protocol_version > again.protocol_version
    assert ladder_of(later).stage(1).routine_working_days == 4
