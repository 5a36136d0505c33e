"""Who will hold each row of the earlier log still open, once brought in: said in the dry run
(role and agency), exactly the people who then see it and may act at its stage; a row that
nobody would see or work is refused in words naming the agency and the role to add people in,
as it is checked and again as it is brought in; the escalations brought in open are listed
for the business unit only as rule 7 lets it open them. On two presets, and for two
partnerships sharing an agency and a person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from accord.escalations import visibility
from accord.escalations.models import Escalation, EscalationImport
from accord.escalations.policies import can_view, user_may
from accord.escalations.services.importing import (
    Mapping,
    apply_log_import,
    brought_in_open,
    plan_log_import,
)
from accord.partnership.models import Role, RoleAssignment, User, WorkedBy
from accord.partnership.protocol import install_ladder, ladder_of, preset
from accord.testing.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

PRESETS = ["devon", "croydon"]
HEADER = "Ref,Raised by,Raised with,Also with,Raiser,Date raised,Date closed,Stage,Outcome,Type,Reasons,Evidence,Efforts"
COLUMNS = {
    "reference": "Ref",
    "raising_agency": "Raised by",
    "with_agency": "Raised with",
    "other_agencies": "Also with",
    "raised_by_email": "Raiser",
    "raised_on": "Date raised",
    "closed_on": "Date closed",
    "stage_reached": "Stage",
    "outcome": "Outcome",
    "kind": "Type",
    "formal_reason": "Reasons",
    "evidence": "Evidence",
    "efforts_to_resolve": "Efforts",
}
MANAGER = "Manager or safeguarding lead"


def mapping(world, police=None) -> Mapping:
    agencies = {"NHS": world.health.name, "CSC": world.social.name, "PRO": world.other.name}
    if police is not None:
        agencies["POL"] = police.name
    return Mapping(columns=COLUMNS, values={"agency": agencies})


def row(ref, raising, with_, stage, *, also="", raiser="") -> str:
    """A row still open; at a formal stage with what rule 3 asks."""
    return f"{ref},{raising},{with_},{also},{raiser},03/02/2025,,{stage},,case,Stuck,Emails,Two meetings"


def content(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def plan_of(world, *rows, police=None, partnership=None):
    return plan_log_import(
        partnership or world.partnership, content(*rows), "log.csv", mapping(world, police)
    )


def on_ladder(world, name):
    install_ladder(world.partnership, preset(name))
    return ladder_of(world.partnership)


def police_of(world):
    """An agency of the partnership with nobody in Accord yet."""
    return AgencyFactory(name=f"{world.partnership.name} Police", partnerships=[world.partnership])


def holders_after(e: Escalation) -> dict[str, int]:
    """Who sees the escalation brought in and may act at its stage, counted by agency."""
    counted: dict[str, int] = {}
    for person in User.objects.filter(is_active=True, role_assignments__partnership=e.partnership).distinct():
        person = User.objects.get(pk=person.pk)  # roles read afresh
        if can_view.test(person, e) and (user_may("escalate", person, e) or user_may("resolve", person, e)):
            where = person.agency.name if person.agency_id else ""
            counted[where] = counted.get(where, 0) + 1
    return counted


def planned(r) -> dict[str, int]:
    counted: dict[str, int] = {}
    for h in r.holders:
        counted[h.agency] = counted.get(h.agency, 0) + h.people
    return counted


@pytest.mark.parametrize("name", PRESETS)
def test_who_the_dry_run_says_will_work_each_stage_is_who_does_once_brought_in(name, world):
    """At every stage of the ladder, unnamed or with its raiser named, with a third agency:
    the plan's holders are exactly those who then see the escalation and may act at its stage."""
    ladder = on_ladder(world, name)
    rows = [row(f"S-{n}", "NHS", "CSC", n, also="PRO") for n in ladder.numbers]
    rows += [row("R-1", "NHS", "CSC", 1, raiser=world.practitioner_health.email)]
    rows += [row("P-1", "PRO", "NHS", 1)]  # probation has no senior leader
    plan = plan_of(world, *rows)
    assert plan.ok, [(r.line, r.errors) for r in plan.rows]
    apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    for r in plan.still_open:
        e = Escalation.objects.get(imported_reference=r.reference)
        assert planned(r) == holders_after(e), r.reference
        assert r.holders and all(h.role and h.agency for h in r.holders)
    assert visibility.differences() == (0, 0, 0)

    by_ref = {r.reference: r for r in plan.rows}
    # Stage 1, naming nobody: the receiving agencies' managers; not the raising agency's.
    first = {(h.agency, h.role) for h in by_ref["S-1"].holders}
    assert first == {(world.social.name, MANAGER), (world.other.name, MANAGER)}
    # Its raiser named: they, and their line manager, hold it for the raising agency.
    named = {(h.agency, h.role): h.people for h in by_ref["R-1"].holders}
    assert named[(world.health.name, "Practitioner")] == 1 and named[(world.health.name, MANAGER)] == 1
    # At the senior leaders' first stage: theirs, and probation (none there) is said to have nobody.
    seniors = ladder.sees_from(WorkedBy.SENIOR_LEADERS)
    at_seniors = by_ref[f"S-{seniors}"]
    assert {h.role for h in at_seniors.holders} == {"Senior leader"}
    assert [(n.agency, n.role) for n in at_seniors.nobody] == [(world.other.name, "senior leader")]
    assert "nobody there will see or work it" in at_seniors.warnings[0]


@pytest.mark.parametrize("name", PRESETS)
def test_a_row_nobody_would_see_or_work_is_refused_naming_whom_to_add_until_someone_holds_it(name, world):
    ladder = on_ladder(world, name)
    police = police_of(world)
    seniors = ladder.sees_from(WorkedBy.SENIOR_LEADERS)
    rows = [
        row("G-1", "NHS", "POL", 1),  # the police's managers receive it: there are none
        row("G-2", "POL", "PRO", seniors),  # senior leaders: none at the police or probation
        row("G-3", "NHS", "POL", 2),  # the trust's managers hold stage 2: brought in, said beside it
    ]
    plan = plan_of(world, *rows, police=police)
    refused = {r.reference: " ".join(r.errors) for r in plan.refused}
    assert set(refused) == {"G-1", "G-2"} and not plan.ok
    assert (
        f"Nobody at {police.name} holds the manager or safeguarding lead role: add them first, "
        "then bring the log in" in refused["G-1"]
    )
    assert f"Nobody at {police.name} or {world.other.name} holds the senior leader role" in refused["G-2"]
    (g3,) = plan.still_open
    assert g3.reference == "G-3" and planned(g3) == {world.health.name: 1}
    assert g3.warnings == [
        f"Nobody at {police.name} holds the manager or safeguarding lead role yet: nobody there "
        "will see or work it until someone does"
    ]
    with pytest.raises(ValidationError):
        apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    assert not Escalation.objects.exists() and not EscalationImport.objects.exists()

    # Someone at the police takes up each role: the rows come in, worked by them.
    manager = UserFactory(agency=police, roles=[(world.partnership, Role.MANAGER)])
    senior = UserFactory(agency=police, roles=[(world.partnership, Role.SENIOR_LEADER)])
    plan = plan_of(world, *rows, police=police)
    assert plan.ok, [(r.line, r.errors) for r in plan.rows]
    by_ref = {r.reference: r for r in plan.rows}
    assert {(h.agency, h.role, h.people) for h in by_ref["G-1"].holders} == {(police.name, MANAGER, 1)}
    assert (police.name, "Senior leader", 1) in {(h.agency, h.role, h.people) for h in by_ref["G-2"].holders}
    assert not by_ref["G-3"].warnings
    apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    g1 = Escalation.objects.get(imported_reference="G-1")
    g2 = Escalation.objects.get(imported_reference="G-2")
    assert Escalation.objects.visible_to(manager).filter(pk=g1.pk).exists()
    assert Escalation.objects.visible_to(senior).filter(pk=g2.pk).exists()
    assert visibility.differences() == (0, 0, 0)


def test_a_role_gone_between_the_check_and_bringing_in_refuses_it_then(world):
    police = police_of(world)
    manager = UserFactory(agency=police, roles=[(world.partnership, Role.MANAGER)])
    plan = plan_of(world, row("L-1", "NHS", "POL", 1), police=police)
    assert plan.ok
    RoleAssignment.objects.filter(user=manager).delete()
    with pytest.raises(ValidationError, match="nobody would see or work row 2 now"):
        apply_log_import(actor=world.admin, plan=plan, confirm_open=True)
    assert not Escalation.objects.exists()
    # Nor someone whose account is closed.
    RoleAssignment.objects.create(user=manager, partnership=world.partnership, role=Role.MANAGER)
    User.objects.filter(pk=manager.pk).update(is_active=False)
    again = plan_of(world, row("L-1", "NHS", "POL", 1), police=police)
    assert f"Nobody at {police.name} holds the manager" in " ".join(again.rows[0].errors)


def test_a_shared_agencys_people_hold_a_row_only_in_the_partnership_they_work_in(world, neighbour):
    """The neighbour shares world's health trust: the trust's managers who work only in world
    hold nothing of the neighbour's log."""
    m = Mapping(
        columns=COLUMNS,
        values={"agency": {"NHS": neighbour.health.name, "CSC": neighbour.social.name}},
    )
    rows = content(row("N-1", "CSC", "NHS", 1))
    plan = plan_log_import(neighbour.partnership, rows, "n.csv", m)
    assert plan.ok and planned(plan.rows[0]) == {neighbour.health.name: 1}
    RoleAssignment.objects.filter(user=neighbour.manager_health, partnership=neighbour.partnership).delete()
    plan = plan_log_import(neighbour.partnership, rows, "n.csv", m)
    # world.manager_health, of the same trust, holds a manager's role, but only in world.
    assert RoleAssignment.objects.filter(user__agency=neighbour.health, role=Role.MANAGER).exists()
    assert "holds the manager or safeguarding lead role" in " ".join(plan.rows[0].errors)


def test_the_business_unit_is_shown_only_the_escalations_brought_in_open_that_it_may_open(world):
    """Rule 7 gives a business unit nothing for its role: one who also manages at an agency
    is listed those its agency receives, and told how many more there are."""
    police = police_of(world)
    both = UserFactory(
        agency=police, roles=[(world.partnership, Role.BUSINESS_UNIT), (world.partnership, Role.MANAGER)]
    )
    closed = f"C-1,NHS,CSC,,,03/02/2025,{dt.date(2025, 3, 1):%d/%m/%Y},1,withdrawn,case,,,"
    plan = plan_of(world, row("B-1", "NHS", "POL", 1), row("B-2", "NHS", "CSC", 1), closed, police=police)
    assert plan.ok, [(r.line, r.errors) for r in plan.rows]
    batch = apply_log_import(actor=both, plan=plan, confirm_open=True)
    theirs, others = brought_in_open(viewer=both, batch=batch)
    assert [e.imported_reference for e in theirs] == ["B-1"] and others == 1
    theirs, others = brought_in_open(viewer=world.admin, batch=batch)
    assert theirs == [] and others == 2


@pytest.mark.parametrize("name", PRESETS)
def test_the_commands_dry_run_says_who_will_work_each_open_row_and_refuses_one_nobody_would(
    name, world, tmp_path
):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    on_ladder(world, name)
    police = police_of(world)
    path = tmp_path / "log.csv"
    path.write_bytes(content(row("K-1", "NHS", "POL", 1), row("K-2", "NHS", "POL", 2)))
    saved = tmp_path / "mapping.json"
    saved.write_text(mapping(world, police).model_dump_json())
    args = ["import_escalations", "--partnership", world.partnership.slug, str(path), "--mapping", str(saved)]
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 row has a problem"):
        call_command(*args, "--dry-run", stdout=io.StringIO(), stderr=err)
    assert (
        f"Row 2 (K-1): Nobody would see or work it once brought in. Nobody at {police.name} holds the "
        "manager or safeguarding lead role: add them first, then bring the log in." in err.getvalue()
    )
    with pytest.raises(CommandError):
        call_command(*args, "--confirm-open", stdout=io.StringIO(), stderr=io.StringIO())
    assert not Escalation.objects.exists()

    UserFactory(agency=police, roles=[(world.partnership, Role.MANAGER)])
    out = io.StringIO()
    call_command(*args, "--dry-run", stdout=out)
    said = out.getvalue()
    assert f"Worked by: {MANAGER}, {police.name} (1)." in said
    assert f"Worked by: {MANAGER}, {world.health.name} (1); {MANAGER}, {police.name} (1)." in said
    assert not Escalation.objects.exists()
    call_command(*args, "--confirm-open", stdout=out)
    assert Escalation.objects.filter(status="open").count() == 2


def test_who_holds_each_row_is_read_once_for_the_file_whatever_its_length(world):
    """The people and their roles are read once; each row is put to the policies in memory."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ladder = ladder_of(world.partnership)
    shapes = [("NHS", "CSC", ""), ("CSC", "NHS", "PRO"), ("PRO", "NHS", "")]
    few = [row("Q-0", "NHS", "CSC", 1)]
    lots = [
        row(f"Q-{i}", raising, with_, ladder.numbers[i % len(ladder.numbers)], also=also)
        for i, (raising, with_, also) in enumerate(shapes * 10)
    ]
    counted = []
    for rows in (few, lots):
        with CaptureQueriesContext(connection) as queries:
            plan = plan_of(world, *rows)
        assert plan.ok and all(r.holders for r in plan.still_open)
        counted.append(len(queries))
    assert counted[0] == counted[1]
