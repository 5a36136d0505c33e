"""A partnership's earlier log brought in: every row checked in plain words with nothing
changed, then all of it or none; imported escalations are closed records of the past that
count in the reports' trends exactly as a recount from the records does, are seen as rule 7
says (by the stage they reached, on every preset), send nothing, cannot be reopened, are
audited as one import with the file's hash, and are removed together, taking back all they
counted."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import IllegalTransition
from accord.escalations import services, tallies, visibility
from accord.escalations.models import (
    DailyTally,
    Escalation,
    EscalationImport,
    FollowUp,
    Resolution,
    Status,
)
from accord.escalations.notices import notifications_about
from accord.escalations.services.importing import (
    Mapping,
    MappingError,
    apply_log_import,
    file_words,
    guess_mapping,
    plan_log_import,
    read_mapping,
    remove_log_import,
)
from accord.partnership.models import AreaOfDisagreement, PracticeTheme, WorkedBy
from accord.partnership.protocol import install_ladder, ladder_of, preset, preset_names
from accord.reports.selectors import Period, first_recorded_day, trend
from accord.testing.factories import WORLD_ROLES, World

pytestmark = pytest.mark.django_db

HEADER = "Ref,Raised by,Raised with,Date raised,Date closed,Stage,Outcome,Type,Area,Themes,Summary"
MAPPING = Mapping(
    columns={
        "reference": "Ref",
        "raising_agency": "Raised by",
        "with_agency": "Raised with",
        "raised_on": "Date raised",
        "closed_on": "Date closed",
        "stage_reached": "Stage",
        "outcome": "Outcome",
        "kind": "Type",
        "area": "Area",
        "themes": "Themes",
        "summary": "Summary",
    },
    values={"agency": {"NHS": "", "CSC": ""}, "outcome": {"Sorted": "agreed_way_forward"}},
)


def mapping_for(world) -> Mapping:
    m = MAPPING.model_copy(deep=True)
    m.values["agency"] = {"NHS": world.health.name, "CSC": world.social.name}
    return m


def log(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def good_rows(world) -> list[str]:
    area = AreaOfDisagreement.objects.filter(partnership=world.partnership).first()
    theme = PracticeTheme.objects.filter(partnership=world.partnership).first()
    return [
        f'CL-1,NHS,CSC,03/02/2025,20/02/2025,1,Sorted,Case,"{area.label}","{theme.label}",Threshold for a strategy meeting',
        f"CL-2,CSC,NHS,2025-04-10,2025-06-01,2,decision_upheld,case,{area.code},,",
        f"CL-3,{world.social.name},{world.other.name},15/05/2025,30/05/2025,1,Withdrawn,Theme,,,",
    ]


def snapshot(partnership):
    return {
        (t.day, t.dimension, t.key): t.n for t in DailyTally.objects.filter(partnership=partnership) if t.n
    }


def test_a_clean_log_is_brought_in_whole_and_counts_as_a_recount_does(world):
    before_first = first_recorded_day(world.partnership)
    world.raised()  # one raised in Accord today
    content = log(*good_rows(world))
    plan = plan_log_import(world.partnership, content, "challenge-log.csv", mapping_for(world))
    assert plan.ok, [(r.line, r.errors) for r in plan.rows] + plan.problems
    assert Escalation.objects.count() == 1  # the dry run changed nothing
    assert "stage 1" in plan.rows[0].described and world.health.name in plan.rows[0].described

    batch = apply_log_import(actor=world.admin, plan=plan)
    imported = Escalation.objects.filter(imported_in=batch).order_by("imported_reference")
    assert [e.imported_reference for e in imported] == ["CL-1", "CL-2", "CL-3"]
    first, second, third = imported
    assert (first.status, first.highest_stage, first.raising_agency, first.with_agency) == (
        Status.RESOLVED,
        1,
        world.health,
        world.social,
    )
    assert first.summary == "Threshold for a strategy meeting" and first.themes.count() == 1
    assert first.raised_at.date() == dt.date(2025, 2, 3) and first.closed_at.date() == dt.date(2025, 2, 20)
    assert Resolution.objects.get(escalation=first).outcome == "agreed_way_forward"
    assert second.area_of_disagreement is not None and second.highest_stage == 2
    assert third.status == Status.WITHDRAWN and third.kind == "theme" and third.area_of_disagreement is None
    assert not Resolution.objects.filter(escalation=third).exists()

    # The tallies are exactly what a recount from the records gives, and the reports now
    # begin with the log's first day.
    kept = snapshot(world.partnership)
    tallies.rebuild(world.partnership.pk)
    assert snapshot(world.partnership) == kept
    assert first_recorded_day(world.partnership) == dt.date(2025, 2, 3) != before_first
    spring = trend(world.partnership, Period(dt.date(2025, 4, 1), dt.date(2025, 6, 30)))
    assert spring[-1]["raised"] == 2 and spring[-1]["resolved"] == 1

    # Sends nothing, asks no follow-up, sets no reminder; audited once with the file's hash.
    assert not notifications_about([e.pk for e in imported]).exists()
    assert not FollowUp.objects.filter(escalation__in=imported).exists()
    assert all(e.due_date is None for e in imported)
    entry = AuditEvent.objects.get(verb=Verb.ESCALATIONS_IMPORTED)
    assert entry.payload["rows"] == 3 and len(entry.payload["file_sha256"]) == 64
    assert entry.payload["import"] == batch.pk

    # The same file again is refused as a whole.
    again = plan_log_import(world.partnership, content, "challenge-log.csv", mapping_for(world))
    assert not again.ok and "was brought in on" in again.problems[0]


def test_each_rows_problems_are_said_in_plain_words_and_nothing_is_brought_in(world):
    rows = good_rows(world) + [
        "CL-4,Nowhere Trust,CSC,03/02/2025,20/02/2025,1,Sorted,Case,,,",
        "CL-5,NHS,CSC,31/02/2025,20/03/2025,1,Sorted,Case,,,",
        "CL-6,NHS,CSC,03/03/2025,,2,Sorted,Case,,,",
        "CL-7,NHS,CSC,03/03/2025,01/03/2025,2,Sorted,Case,,,",
        "CL-8,NHS,CSC,03/03/2025,04/03/2025,9,Sorted,Case,,,",
        "CL-9,NHS,NHS,03/03/2025,04/03/2025,1,Sorted,Case,,,",
        "CL-1,NHS,CSC,03/03/2025,04/03/2025,1,Shrugged,Case,,,",
        "CL-11,NHS,CSC,03/03/2025,04/03/2025,1,Sorted,Case,,Not a theme,",
    ]
    plan = plan_log_import(world.partnership, log(*rows), "log.csv", mapping_for(world))
    problems = {r.reference: " ".join(r.errors) for r in plan.refused}
    assert "“Nowhere Trust” is not an agency of" in problems["CL-4"]
    assert "“31/02/2025” is not a date" in problems["CL-5"]
    assert "an outcome but no date closed" in problems["CL-6"]
    assert "closed before it was raised" in problems["CL-7"]
    assert f"use 1 to {ladder_of(world.partnership).top}" in problems["CL-8"]
    assert "differences between agencies" in problems["CL-9"]
    assert "also on row 2" in problems["CL-1"] and "“Shrugged” is not an outcome" in problems["CL-1"]
    assert "“Not a theme” is not one of the partnership's practice themes" in problems["CL-11"]
    assert not plan.ok
    with pytest.raises(ValidationError):
        apply_log_import(actor=world.admin, plan=plan)
    assert not Escalation.objects.exists() and not EscalationImport.objects.exists()


def test_a_mapping_that_names_no_such_column_or_leaves_out_a_required_field_is_refused(world):
    m = mapping_for(world)
    m.columns["raised_on"] = "When"
    del m.columns["outcome"]
    plan = plan_log_import(world.partnership, log(*good_rows(world)), "log.csv", m)
    assert any("no column “When”" in p for p in plan.problems)
    assert any("holds outcome" in p for p in plan.problems)
    with pytest.raises(MappingError, match="columns"):
        read_mapping('{"columns": {"colour": "Colour"}}')
    with pytest.raises(MappingError):
        read_mapping("not json")


def test_a_workbook_with_dates_typed_as_dates_reads_the_same(world):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    sheet.append(
        ["X-1", "NHS", "CSC", dt.datetime(2025, 3, 3), dt.datetime(2025, 3, 20), 2, "Sorted", "Case"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    plan = plan_log_import(world.partnership, buffer.getvalue(), "log.xlsx", mapping_for(world))
    assert plan.ok, [r.errors for r in plan.rows]
    assert plan.rows[0].raised_on == dt.date(2025, 3, 3) and plan.rows[0].stage == 2


def test_removing_an_import_takes_back_everything_it_counted(world):
    world.raised()
    before = snapshot(world.partnership)
    first_before = first_recorded_day(world.partnership)
    plan = plan_log_import(world.partnership, log(*good_rows(world)), "log.csv", mapping_for(world))
    batch = apply_log_import(actor=world.admin, plan=plan)
    assert remove_log_import(actor=world.admin, batch=batch) == 3
    assert not Escalation.objects.filter(imported_in=batch).exists()
    assert snapshot(world.partnership) == before
    assert first_recorded_day(world.partnership) == first_before
    assert visibility.differences() == (0, 0, 0)
    assert AuditEvent.objects.get(verb=Verb.ESCALATION_IMPORT_REMOVED).payload["rows"] == 3
    with pytest.raises(ValidationError, match="already been removed"):
        remove_log_import(actor=world.admin, batch=batch)
    # Once removed, the same file may be brought in again.
    assert plan_log_import(world.partnership, log(*good_rows(world)), "log.csv", mapping_for(world)).ok


def test_an_imported_escalation_is_never_worked_in_accord(world):
    plan = plan_log_import(
        world.partnership,
        log(f"R-1,NHS,CSC,{dt.date.today():%d/%m/%Y},{dt.date.today():%d/%m/%Y},2,Sorted,Case,,,"),
        "log.csv",
        mapping_for(world),
    )
    apply_log_import(actor=world.admin, plan=plan)
    e = Escalation.objects.get(imported_reference="R-1")
    # Closed today, so inside any reopening window: still not reopened.
    assert not world.manager_social.has_perm("escalations.reopen", e)
    with pytest.raises(IllegalTransition, match="earlier log"):
        services.escalation_reopen(actor=world.manager_social, escalation=e, reason="Try again")


@pytest.mark.parametrize("name", preset_names())
def test_who_sees_an_imported_escalation_is_rule_7_by_the_stage_it_reached_on_every_preset(name):
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    rows = [f"S-{n},NHS,CSC,03/02/2025,20/02/2025,{n},Sorted,Case,,," for n in ladder.numbers]
    apply_log_import(
        actor=world.admin, plan=plan_log_import(world.partnership, log(*rows), "log.csv", mapping_for(world))
    )
    for n in ladder.numbers:
        e = Escalation.objects.get(imported_reference=f"S-{n}")
        assert (e.formal_at is not None) == (ladder.formal_from is not None and n >= ladder.formal_from)
        seen = {
            role
            for role in WORLD_ROLES
            if Escalation.objects.visible_to(getattr(world, role)).filter(pk=e.pk).exists()
        }
        by_rule = {
            role
            for role in WORLD_ROLES
            if type(getattr(world, role))
            .objects.get(pk=getattr(world, role).pk)
            .has_perm("escalations.view", e)
        }
        assert seen == by_rule
        # No raiser and no named practitioner: the practitioners are not parties.
        assert not seen & {"practitioner_health", "practitioner_social", "admin"}
        # The receiving agency's managers, as for any escalation naming nobody there.
        assert "manager_social" in seen
        seniors = ladder.sees_from(WorkedBy.SENIOR_LEADERS)
        assert ("senior_health" in seen) == (seniors is not None and n >= seniors)
        assert ("pdg_member" in seen) == (e.formal_at is not None)
    assert visibility.differences() == (0, 0, 0)


def test_one_partnerships_import_knows_only_its_own_agencies_and_counts_only_there(world, neighbour):
    """The neighbouring partnership shares world's health trust, not its social care."""
    m = mapping_for(world)
    m.values["agency"] = {"NHS": neighbour.health.name, "CSC": world.social.name}
    plan = plan_log_import(
        neighbour.partnership, log("N-1,NHS,CSC,03/02/2025,20/02/2025,1,Sorted,Case,,,"), "l.csv", m
    )
    assert not plan.ok and "is not an agency of" in " ".join(plan.rows[0].errors)
    m.values["agency"]["CSC"] = neighbour.social.name
    plan = plan_log_import(
        neighbour.partnership, log("N-1,NHS,CSC,03/02/2025,20/02/2025,1,Sorted,Case,,,"), "l.csv", m
    )
    apply_log_import(actor=neighbour.admin, plan=plan)
    assert first_recorded_day(world.partnership) is None
    assert first_recorded_day(neighbour.partnership) == dt.date(2025, 2, 3)
    e = Escalation.objects.get(imported_reference="N-1")
    # The shared trust's manager who works only in world's partnership does not see it.
    assert not Escalation.objects.visible_to(world.manager_health).filter(pk=e.pk).exists()
    assert Escalation.objects.visible_to(neighbour.manager_social).filter(pk=e.pk).exists()


def test_the_command_runs_dry_refuses_with_a_non_zero_status_and_applies(world, tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(log(*good_rows(world)))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(mapping_for(world).model_dump_json())
    out = io.StringIO()
    call_command(
        "import_escalations",
        "--partnership",
        world.partnership.slug,
        str(path),
        "--mapping",
        str(mapping),
        "--dry-run",
        stdout=out,
    )
    assert "3 rows would be brought in" in out.getvalue() and not Escalation.objects.exists()

    bad = tmp_path / "bad.csv"
    bad.write_bytes(log(*good_rows(world), "B-1,Nowhere,CSC,03/02/2025,20/02/2025,1,Sorted,Case,,,"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 row has a problem"):
        call_command(
            "import_escalations",
            "--partnership",
            world.partnership.slug,
            str(bad),
            "--mapping",
            str(mapping),
            stderr=err,
        )
    assert "Row 5 (B-1)" in err.getvalue() and not Escalation.objects.exists()

    call_command(
        "import_escalations",
        "--partnership",
        world.partnership.slug,
        str(path),
        "--mapping",
        str(mapping),
        stdout=out,
    )
    assert Escalation.objects.filter(imported_in__isnull=False).count() == 3
    assert AuditEvent.objects.get(verb=Verb.ESCALATIONS_IMPORTED).actor_label

    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"columns": {"nonsense": "X"}}))
    with pytest.raises(CommandError, match="mapping could not be read"):
        call_command(
            "import_escalations", "--partnership", world.partnership.slug, str(path), "--mapping", str(broken)
        )
    with pytest.raises(CommandError, match="No partnership"):
        call_command("import_escalations", "--partnership", "nowhere", str(path), "--mapping", str(mapping))


def test_the_api_shows_an_imported_escalation_as_rule_7_allows_with_nothing_to_do(client, world):
    from accord.api.tests.test_api import Api

    plan = plan_log_import(world.partnership, log(*good_rows(world)), "log.csv", mapping_for(world))
    apply_log_import(actor=world.admin, plan=plan)
    e = Escalation.objects.get(imported_reference="CL-3")  # a theme, withdrawn, no area
    # Stage 1, from social care with probation, naming nobody: probation's managers receive it;
    # social care's do not see it at stage 1 (nobody there raised it).
    assert Api(client, world.manager_social).get(f"/escalations/{e.pk}").status_code == 404
    got = Api(client, world.manager_other).get(f"/escalations/{e.pk}")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["imported_reference"] == "CL-3" and body["area_of_disagreement"] is None
    assert body["allowed_actions"] == []
    reopen = Api(client, world.manager_other).post(f"/escalations/{e.pk}/reopen", {"reason": "Again"})
    assert reopen.status_code == 409
    assert Api(client, world.practitioner_health).get(f"/escalations/{e.pk}").status_code == 404


def test_only_the_partnerships_business_unit_brings_in_or_removes_its_log(world, neighbour):
    """Refused by the service itself, whatever calls it: another role, or the business unit
    of a partnership sharing an agency."""
    from accord.core.errors import NotAllowed

    plan = plan_log_import(world.partnership, log(*good_rows(world)), "log.csv", mapping_for(world))
    for someone in (world.manager_health, world.pdg_chair, neighbour.admin):
        with pytest.raises(NotAllowed):
            apply_log_import(actor=someone, plan=plan)
    assert not EscalationImport.objects.exists()
    batch = apply_log_import(actor=world.admin, plan=plan)
    with pytest.raises(NotAllowed):
        remove_log_import(actor=neighbour.admin, batch=batch)
    assert Escalation.objects.filter(imported_in=batch).count() == 3


OPEN_HEADER = "Ref,Raised by,Raised with,Also with,Date raised,Date closed,Stage,Stage began,Outcome,Type,Origin,Priority,Area,Reasons,Evidence,Efforts"
OPEN_MAPPING = {
    "reference": "Ref",
    "raising_agency": "Raised by",
    "with_agency": "Raised with",
    "other_agencies": "Also with",
    "raised_on": "Date raised",
    "closed_on": "Date closed",
    "stage_reached": "Stage",
    "stage_started_on": "Stage began",
    "outcome": "Outcome",
    "kind": "Type",
    "origin": "Origin",
    "urgency": "Priority",
    "area": "Area",
}
RULE_3 = {"formal_reason": "Reasons", "evidence": "Evidence", "efforts_to_resolve": "Efforts"}


def open_log(*rows: str) -> bytes:
    return ("\n".join([OPEN_HEADER, *rows]) + "\n").encode()


def open_mapping(world, **extra) -> Mapping:
    return Mapping(
        columns=OPEN_MAPPING | extra,
        values={"agency": {"NHS": world.health.name, "CSC": world.social.name, "PRO": world.other.name}},
    )


def test_an_open_row_comes_in_at_its_stage_with_its_due_date_once_confirmed_and_is_worked_on(world):
    """Stage by identity on the ladder now; the stage's clock from the day it began; origin,
    priority, other agencies and areas; nothing written until confirmed; counted as if raised
    then; worked in Accord as any other; removed with all it counted since."""
    from accord.partnership.calendar import calendar_for

    before = snapshot(world.partnership)
    areas = list(AreaOfDisagreement.objects.filter(partnership=world.partnership)[:2])
    began = dt.date.today() - dt.timedelta(days=3)
    content = open_log(
        f"O-1,NHS,CSC,PRO,03/02/2025,,Stage 2,{began:%d/%m/%Y},,case,A child protection conference,urgent,"
        f'"{areas[0].label};{areas[1].code}",,,',
        "O-2,CSC,NHS,,03/02/2025,20/02/2025,1,,decision_upheld,case,,,,,,",
    )
    plan = plan_log_import(world.partnership, content, "open.csv", open_mapping(world))
    assert plan.ok, [(r.line, r.errors) for r in plan.rows] + plan.problems
    (row,) = plan.still_open
    stage_2 = ladder_of(world.partnership).stage(2)
    assert (row.stage, row.stage_key, row.stage_started_on) == (2, stage_2.key, began)
    assert row.due_date == calendar_for(world.partnership).add_working_days(
        began, stage_2.urgent_working_days
    )
    assert "still open at stage 2" in row.described

    with pytest.raises(ValidationError, match="confirm where each escalation still open"):
        apply_log_import(actor=world.admin, plan=plan)
    assert not Escalation.objects.exists() and not EscalationImport.objects.exists()

    batch = apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    e = Escalation.objects.get(imported_reference="O-1")
    assert (e.status, e.stage, e.highest_stage, e.due_date, e.stage_started_on) == (
        Status.OPEN,
        2,
        2,
        row.due_date,
        began,
    )
    assert (e.origin, e.urgency, e.runs_under_id is not None) == ("conference", "urgent", True)
    assert e.receiving_agency_ids() == [world.social.pk, world.other.pk]
    assert set(e.areas_of_disagreement.all()) == set(areas) and e.area_of_disagreement == areas[0]
    period = e.stage_periods.get()
    assert (period.stage_key, period.started_on, period.due_date) == (stage_2.key, began, row.due_date)
    # Audited: the import as a whole, and the open one's own trail begins with it.
    entries = AuditEvent.objects.filter(verb=Verb.ESCALATIONS_IMPORTED)
    assert entries.count() == 2 and entries.filter(target_id=str(e.pk)).exists()
    # Counted as if raised then: exactly what a recount from the records gives; the
    # conference case is in the IRU's counts.
    kept = snapshot(world.partnership)
    tallies.rebuild(world.partnership.pk)
    assert snapshot(world.partnership) == kept
    assert kept[(dt.date(2025, 2, 3), "iru_status", "open")] == 1
    assert visibility.differences() == (0, 0, 0)
    # Worked in Accord from now on: the parties' managers resolve it at the stage it stands at.
    assert Escalation.objects.visible_to(world.manager_other).filter(pk=e.pk).exists()
    services.escalation_resolve(
        actor=world.manager_social,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="A plan",
        child_centred_outcome_achieved="yes",
    )
    e.refresh_from_db()
    assert e.status == Status.RESOLVED and not e.is_past_record
    assert world.manager_social.has_perm("escalations.reopen", e)  # worked here: reopened as any

    # Removing the import takes back everything, what happened to it since included.
    assert remove_log_import(actor=world.admin, batch=batch) == 2
    assert snapshot(world.partnership) == before
    assert visibility.differences() == (0, 0, 0)


def test_an_open_row_at_a_formal_stage_needs_what_rule_3_asks_or_is_listed_for_the_business_unit(world):
    ladder = ladder_of(world.partnership)
    formal = ladder.formal_from
    row = f"F-1,NHS,CSC,,03/02/2025,,{formal},,,case,,,,{{reasons}},{{evidence}},{{efforts}}"
    missing = open_log(row.format(reasons="", evidence="Emails", efforts=""))
    plan = plan_log_import(world.partnership, missing, "f.csv", open_mapping(world, **RULE_3))
    said = " ".join(plan.rows[0].errors)
    assert not plan.ok and f"still open at stage {formal}" in said and "rule 3" in said
    assert "reasons for escalating formally" in said and "efforts to resolve" in said
    assert "the evidence," not in said  # given, so not asked for
    with pytest.raises(ValidationError):
        apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    assert not Escalation.objects.exists()

    given = open_log(row.format(reasons="Stuck at seniors", evidence="Emails", efforts="Two meetings"))
    plan = plan_log_import(world.partnership, given, "g.csv", open_mapping(world, **RULE_3))
    assert plan.ok, [r.errors for r in plan.rows]
    apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    e = Escalation.objects.get(imported_reference="F-1")
    assert e.formal_at is not None and e.status == Status.OPEN
    assert (e.formal_reason, e.evidence, e.efforts_to_resolve) == (
        "Stuck at seniors",
        "Emails",
        "Two meetings",
    )
    assert Escalation.objects.visible_to(world.pdg_member).filter(pk=e.pk).exists()


def test_a_row_naming_an_agency_not_in_the_partnership_is_refused_with_a_clear_reason(world, neighbour):
    """An agency of another partnership (even one in the same deployment) is not one of this
    one's: refused, naming the agency and the partnership, open row or closed."""
    content = open_log(f"X-1,NHS,{neighbour.social.name},,03/02/2025,,1,,,case,,,,,,")
    plan = plan_log_import(world.partnership, content, "x.csv", open_mapping(world))
    said = " ".join(plan.rows[0].errors)
    assert f"“{neighbour.social.name}” is not an agency of {world.partnership}" in said
    with pytest.raises(ValidationError):
        apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    assert not Escalation.objects.exists()


def test_an_open_row_is_only_with_agencies_that_take_part_in_casework(world):
    """As a difference raised in Accord: one still open is not with the business unit's own
    agency (or another that takes no part in casework), neither as the agency it is with nor
    as another party; one closed long ago is the log's history and comes in as it was."""
    from accord.partnership.models import PartnershipAgency

    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.unit).update(
        takes_part_in_raising=False
    )
    unit = world.unit.name
    content = open_log(
        f"U-1,NHS,{unit},,03/02/2025,,1,,,case,,,,,,",
        f"U-2,NHS,CSC,{unit},03/02/2025,,1,,,case,,,,,,",
        f"U-3,NHS,{unit},,03/02/2025,20/02/2025,1,,decision_upheld,case,,,,,,",
    )
    plan = plan_log_import(world.partnership, content, "u.csv", open_mapping(world))
    first, second, closed = plan.rows
    for row in (first, second):
        assert f"{unit} takes no part in casework" in " ".join(row.errors), row.errors
    assert not closed.errors
    with pytest.raises(ValidationError):
        apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    assert not Escalation.objects.exists()


@pytest.mark.parametrize("name", ["devon", "croydon"])
def test_the_figures_add_up_after_an_import_with_open_rows(name, client):
    """A log of closed and open rows, a conference case among them, several agencies each:
    every report's figures add up and none is negative, on two presets."""
    from accord.reports.tests.test_figures_add_up import PERIOD, check_every_form, check_units

    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    informal = [n for n in ladder.numbers if not ladder.is_formal(n)]
    content = open_log(
        f"A-1,NHS,CSC,PRO,02/05/2026,,{informal[-1]},,,case,conference,,,,,",
        f"A-2,CSC,NHS,,03/06/2026,20/06/2026,{ladder.top},,Decision changed,theme,,,,,,",
        "A-3,PRO,NHS,CSC,04/07/2026,,1,,,case,,urgent,,,,",
        "A-4,NHS,PRO,,05/08/2026,06/08/2026,1,,withdrawn,case,care_review,,,,,",
    )
    plan = plan_log_import(world.partnership, content, "a.csv", open_mapping(world))
    assert plan.ok, [(r.line, r.errors) for r in plan.rows]
    apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    check_units(world)
    check_every_form(client, world)
    from accord.reports.selectors import pdg_figures

    figures = pdg_figures(world.partnership, PERIOD)
    assert figures.total == 4 and figures.iru["total"] == 2


def test_an_open_row_names_its_raiser_and_climbs_on_from_where_it_stands(world):
    """Where the log names who raised it (someone of the raising agency working in the
    partnership) they are its raiser; one brought in past stage 1 escalates on, its
    consultation before stage 1 being the log's."""
    header = "Ref,Raised by,Raised with,Raiser,Date raised,Date closed,Stage,Outcome,Type"
    m = Mapping(
        columns={
            "reference": "Ref",
            "raising_agency": "Raised by",
            "with_agency": "Raised with",
            "raised_by_email": "Raiser",
            "raised_on": "Date raised",
            "closed_on": "Date closed",
            "stage_reached": "Stage",
            "outcome": "Outcome",
            "kind": "Type",
        },
        values={"agency": {"NHS": world.health.name, "CSC": world.social.name}},
    )
    wrong = f"{header}\nP-0,NHS,CSC,{world.practitioner_social.email},03/02/2025,,1,,case\n".encode()
    plan = plan_log_import(world.partnership, wrong, "p.csv", m)
    assert "is not someone of the agency that raised it" in " ".join(plan.rows[0].errors)
    content = (
        f"{header}\nP-1,NHS,CSC,{world.practitioner_health.email.upper()},03/02/2025,,1,,case\n"
        "P-2,NHS,CSC,,03/02/2025,,2,,case\n"
    ).encode()
    plan = plan_log_import(world.partnership, content, "p.csv", m)
    assert plan.ok, [r.errors for r in plan.rows]
    apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    first = Escalation.objects.get(imported_reference="P-1")
    assert first.raised_by == world.practitioner_health
    assert Escalation.objects.visible_to(world.practitioner_health).filter(pk=first.pk).exists()
    second = Escalation.objects.get(imported_reference="P-2")
    services.escalation_escalate(
        actor=world.manager_health,
        escalation=second,
        reason="Still stuck",
        answers={"decision_challenged": "d", "tried_so_far": "t", "desired_outcome": "o"},
    )
    second.refresh_from_db()
    assert second.stage == 3 and second.stage_periods.count() == 2
    assert visibility.differences() == (0, 0, 0)


def test_an_open_row_already_overdue_is_chased_as_overdue_by_the_reminder_sweep(world):
    """Its due date passed before it came in: the sweep tells those who hold its stage, once,
    and "the earlier log" (who cannot sign in) is told nothing."""
    from accord.escalations.notices import send_due_reminders
    from accord.notifications.models import Notification

    content = open_log("D-1,NHS,CSC,,03/02/2025,,2,10/02/2025,,case,,,,,,")
    plan = plan_log_import(world.partnership, content, "d.csv", open_mapping(world))
    assert plan.rows[0].overdue
    apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    e = Escalation.objects.get(imported_reference="D-1")
    # The sweep sends within working hours on working days: at ten on the next working day
    # (the test must not depend on the hour it runs at).
    from accord.core import clock
    from accord.partnership.calendar import calendar_for

    day = calendar_for(world.partnership).next_working_day(clock.today())
    with clock.set_to(dt.datetime(day.year, day.month, day.day, 10)):
        send_due_reminders()
    told = set(
        Notification.objects.filter(path__contains=f"/escalations/{e.pk}/").values_list(
            "recipient", flat=True
        )
    )
    assert told and e.raised_by_id not in told
    assert told <= {
        world.manager_health.pk,
        world.manager_social.pk,
        world.senior_health.pk,
        world.senior_social.pk,
    }
    again = Notification.objects.count()
    send_due_reminders()
    assert Notification.objects.count() == again  # once, never twice


def test_the_command_chooses_columns_by_name_lists_open_rows_and_brings_them_in_only_confirmed(
    world, tmp_path
):
    path = tmp_path / "log.csv"
    path.write_text(
        "reference,raising_agency,with_agency,raised_on,closed_on,stage_reached,outcome,kind\n"
        f"C-1,{world.health.name},{world.social.name},03/02/2025,,2,,case\n"
    )
    out = io.StringIO()
    call_command(
        "import_escalations", "--partnership", world.partnership.slug, str(path), "--dry-run", stdout=out
    )
    assert "Row 2 (C-1): still open, at stage 2" in out.getvalue() and not Escalation.objects.exists()
    with pytest.raises(CommandError, match="confirm where each escalation still open"):
        call_command("import_escalations", "--partnership", world.partnership.slug, str(path), stdout=out)
    assert not Escalation.objects.exists()
    call_command(
        "import_escalations", "--partnership", world.partnership.slug, str(path), "--confirm-open", stdout=out
    )
    assert Escalation.objects.get(imported_reference="C-1").status == Status.OPEN


def test_the_columns_a_log_keeps_by_its_own_names_are_chosen_for_it():
    # A log kept by hand names its columns its own way: the page's first choices find them.
    columns = [
        "Ref",
        "Date raised",
        "Raised by agency",
        "With agency",
        "Level",
        "Status",
        "Outcome",
        "Date closed",
    ]
    chosen = guess_mapping(columns).columns
    assert chosen == {
        "reference": "Ref",
        "raised_on": "Date raised",
        "raising_agency": "Raised by agency",
        "with_agency": "With agency",
        "stage_reached": "Level",
        "outcome": "Outcome",
        "closed_on": "Date closed",
    }


def test_an_outcome_written_as_a_log_keeps_it_is_offered_but_not_taken_unconfirmed(world):
    # "Resolved - agreed" and "Ongoing" name no outcome exactly: the closest is offered for
    # the business unit to confirm, and nothing is taken as named until it does.
    content = log(
        "CL-1,NHS,CSC,03/02/2025,20/02/2025,1,Resolved - agreed,Case,,,",
        "CL-2,NHS,CSC,03/02/2025,20/02/2025,1,Resolved- agreed,Case,,,",
        "CL-3,NHS,CSC,03/02/2025,,2,Ongoing,Case,,,",
    )
    words = {
        w.raw: w
        for w in file_words(content, "log.csv", world.partnership, mapping_for(world))
        if w.kind == "outcome"
    }
    assert {raw: (w.exact, w.suggested) for raw, w in words.items()} == {
        "Resolved - agreed": (None, "agreed_way_forward"),
        "Resolved- agreed": (None, "agreed_way_forward"),
        "Ongoing": (None, "open"),
    }
    plan = plan_log_import(world.partnership, content, "log.csv", mapping_for(world))
    assert not plan.ok


def test_an_adults_boards_earlier_log_is_about_adults(world):
    # A log has no column for whom each difference was about: each row takes the
    # partnership's first subject, as a raise without one does (an adult on an adults
    # board), so that no adults board counts escalations about children in its reports.
    install_ladder(world.partnership, preset("staffordshire-adults"))
    world.partnership.refresh_from_db()
    plan = plan_log_import(world.partnership, log(*good_rows(world)), "challenge-log.csv", mapping_for(world))
    assert plan.ok, [(r.line, r.errors) for r in plan.rows] + plan.problems
    batch = apply_log_import(actor=world.admin, plan=plan)
    assert set(Escalation.objects.filter(imported_in=batch).values_list("subject", flat=True)) == {"adult"}
    subjects = {
        t.key for t in DailyTally.objects.filter(partnership=world.partnership, dimension="subject") if t.n
    }
    assert subjects == {"adult"}
