"""The protocol as a document: create_partnership from a preset, export, import (with a
dry run listing the due dates it would move), and refusals that change nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import Partnership, Stage
from accord.partnership.protocol import document_of, preset, preset_names

pytestmark = pytest.mark.django_db


def export(slug: str) -> dict:
    out = io.StringIO()
    call_command("protocol", "export", "--partnership", slug, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize("name", preset_names())
def test_a_partnership_is_created_from_each_preset_and_its_protocol_round_trips(name, tmp_path):
    out = io.StringIO()
    call_command(
        "create_partnership", f"p-{name}", "--name", f"{name} partnership", "--preset", name, stdout=out
    )
    assert "Created" in out.getvalue()
    p = Partnership.objects.get(slug=f"p-{name}")
    assert p.stages.count() == len(preset(name)["stages"]) and p.areas_of_disagreement.exists()
    first = export(p.slug)
    assert first["formal_body"] == preset(name)["formal_body"]
    assert [s["worked_by"] for s in first["stages"]] == [s["worked_by"] for s in preset(name)["stages"]]
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(first))
    call_command("protocol", "import", "--partnership", p.slug, str(path), stdout=io.StringIO())
    assert export(p.slug) == first  # export, import, export: the same document
    assert AuditEvent.objects.filter(verb=Verb.PARTNERSHIP_CREATED, partnership_id=p.pk).count() == 1
    assert AuditEvent.objects.filter(verb=Verb.PROTOCOL_LOADED, partnership_id=p.pk).count() == 1


def test_import_lists_moved_due_dates_in_a_dry_run_and_moves_them_when_applied(world, tmp_path):
    e = world.raised()
    document = document_of(world.partnership)
    document["stages"][0]["routine_working_days"] = 8
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    out = io.StringIO()
    call_command(
        "protocol", "import", "--partnership", world.partnership.slug, str(path), "--dry-run", stdout=out
    )
    assert e.reference in out.getvalue() and "would move: 1" in out.getvalue()
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
    call_command(
        "protocol", "import", "--partnership", world.partnership.slug, str(path), stdout=io.StringIO()
    )
    e.refresh_from_db()
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 8
    assert e.stage_periods.get().working_days == 8


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: (d["stages"].pop(), d["stages"][2].update(formal=True, worked_by="formal_body")),
            "which this removes",
        ),
        (lambda d: d["stages"][3].update(formal=False), "at least the top stage"),
        (lambda d: d["formal_body"].update(authority="decides"), "facilitates"),
        (lambda d: d["stages"][1].update(worked_by="pdg"), "worked_by is one of"),
        (lambda d: d["stages"][1].update(routine_working_days=0), "whole numbers from 1"),
        (lambda d: d["stages"][1].update(colour="red"), "unknown keys colour"),
    ],
)
def test_an_import_that_cannot_run_is_refused_naming_the_problem_and_changes_nothing(
    world, tmp_path, edit, message
):
    world.formal()
    document = document_of(world.partnership)
    edit(document)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    before = export(world.partnership.slug)
    with pytest.raises(CommandError, match=message):
        call_command("protocol", "import", "--partnership", world.partnership.slug, str(path))
    assert export(world.partnership.slug) == before


def test_create_partnership_refuses_a_taken_name_and_a_bad_file(world, tmp_path):
    with pytest.raises(CommandError, match="has that short name already"):
        call_command("create_partnership", world.partnership.slug, "--name", "New")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="is not JSON"):
        call_command("create_partnership", "newone", "--name", "New", "--protocol", str(bad))
    assert not Partnership.objects.filter(slug="newone").exists()


def test_a_ladder_change_recounts_who_sees_escalations_already_past_it(world, tmp_path):
    from accord.escalations import visibility
    from accord.escalations.models import Escalation

    e = world.at_stage_3()  # senior leaders see it from stage 3 on Devon's ladder
    assert Escalation.objects.visible_to(world.senior_social).filter(pk=e.pk).exists()
    document = document_of(world.partnership)
    document["stages"][2]["worked_by"] = "managers"  # now nobody's stage is the senior leaders'
    path = tmp_path / "p.json"
    path.write_text(json.dumps(document))
    call_command(
        "protocol", "import", "--partnership", world.partnership.slug, str(path), stdout=io.StringIO()
    )
    assert not Escalation.objects.visible_to(world.senior_social).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)
