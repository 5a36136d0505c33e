"""Each change of a partnership's protocol makes a new version; each escalation records the
version it runs under; those a review changes something for are told, once each about each
escalation."""

from __future__ import annotations

import copy
import importlib
import io
import json

import pytest
from django.apps import apps
from django.core.management import call_command

from accord.audit.models import AuditEvent, Verb
from accord.escalations import services
from accord.escalations.models import Escalation, EventType
from accord.escalations.notices import NoticeKind
from accord.escalations.protocol import protocol_apply
from accord.escalations.tests.test_protocol_review import open_everywhere, with_stage_inserted_after_first
from accord.notifications.models import Notification
from accord.notifications.services import render_email
from accord.partnership.models import ProtocolVersion, WorkedBy
from accord.partnership.protocol import document_of, install_ladder, preset, preset_names
from accord.partnership.services.versions import protocol_version_now
from accord.testing.factories import World

pytestmark = pytest.mark.django_db

first_versions_migration = importlib.import_module("accord.partnership.migrations.0010_protocol_versions")


def test_a_review_makes_the_next_version_and_the_open_escalations_run_under_it(world):
    opened = open_everywhere(world)
    closed = Escalation.objects.filter(partnership=world.partnership, status="withdrawn")
    first = protocol_version_now(world.partnership)
    assert first.number == 1 and first.document == document_of(world.partnership)
    assert {e.runs_under_id for e in Escalation.objects.filter(partnership=world.partnership)} == {first.pk}
    document = with_stage_inserted_after_first(document_of(world.partnership))

    preview = protocol_apply(
        actor=world.admin, partnership=world.partnership, document=document, dry_run=True
    )
    assert preview.version == 2 and "Stage 2, Team conversation, added" in " ".join(preview.changes)
    assert ProtocolVersion.objects.filter(partnership=world.partnership).count() == 1  # a preview makes none

    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    second = protocol_version_now(world.partnership)
    assert (second.number, second.made_by) == (2, world.admin)
    assert second.document == document_of(world.partnership)
    assert "Senior leaders is now stage 4 (was 3)." in second.changes
    assert any(c.startswith("Stage 2, Team conversation, added") for c in second.changes)
    for e in opened.values():
        e = Escalation.objects.get(pk=e.pk)
        assert e.runs_under == second
        event = e.events.get(type=EventType.PROTOCOL_REVIEWED)
        assert event.actor == world.admin and event.stage == e.stage
        assert event.summary.startswith("Version 2 of the protocol applies from now.")
    senior = Escalation.objects.get(pk=opened["senior-leaders"].pk)
    assert "the same stage, Senior leaders, now stage 4 (was stage 3)" in (
        senior.events.get(type=EventType.PROTOCOL_REVIEWED).summary
    )
    # What was closed ran under the version before, and still says so.
    assert {e.runs_under_id for e in closed} == {first.pk}
    assert not closed.filter(events__type=EventType.PROTOCOL_REVIEWED).exists()
    entry = AuditEvent.objects.filter(verb=Verb.PROTOCOL_LOADED).latest("id")
    assert entry.payload["version"] == 2

    # Raised now, it runs under the version in force.
    assert world.raised().runs_under == second


def test_the_same_document_applied_again_makes_no_version(world):
    e = world.at_stage_2()
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document_of(world.partnership))
    assert list(
        ProtocolVersion.objects.filter(partnership=world.partnership).values_list("number", flat=True)
    ) == [1]
    assert not e.events.filter(type=EventType.PROTOCOL_REVIEWED).exists()
    assert AuditEvent.objects.filter(verb=Verb.PROTOCOL_LOADED).latest("id").payload["version"] == 1


def test_a_stage_removed_names_the_move_on_the_timeline_and_from_the_command_line(world, tmp_path):
    opened = open_everywhere(world)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"] = [s for s in document["stages"] if s["key"] != "senior-leaders"]
    document["stages"][-1]["number"] = 3
    path = tmp_path / "protocol.json"
    path.write_text(json.dumps(document))
    out = io.StringIO()
    call_command(
        "protocol",
        "import",
        "--partnership",
        world.partnership.slug,
        str(path),
        "--move",
        "senior-leaders=line-management",
        stdout=out,
    )
    version = protocol_version_now(world.partnership)
    assert version.number == 2 and version.made_by is None
    assert "It made version 2:" in out.getvalue() and "Stage 3, Senior leaders, removed." in out.getvalue()
    assert "Stage 3, Senior leaders, removed." in version.changes
    moved = Escalation.objects.get(pk=opened["senior-leaders"].pk)
    assert moved.stage == 2 and moved.runs_under == version
    event = moved.events.get(type=EventType.PROTOCOL_REVIEWED)
    assert "removed the stage it stood at, Senior leaders: it now stands at stage 2, Line management" in (
        event.summary
    )
    assert not event.actor.is_active and not event.actor.has_usable_password()  # no one who can sign in
    assert not event.actor.role_assignments.exists()


def notices(escalation) -> dict[str, str]:
    return dict(
        Notification.objects.filter(
            about=f"escalation:{escalation.pk}", key__startswith="protocol:"
        ).values_list("recipient__username", "kind")
    )


def test_those_whose_sight_or_action_a_review_changes_are_told_once_each(world):
    """Stage 3 moved from the senior leaders to the managers: the senior leaders of both agencies
    lose sight of the escalation standing there; nobody else's changes; its parties are not
    told (its stage and due date stay)."""
    opened = open_everywhere(world)
    at_three = opened["senior-leaders"]
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][2]["worked_by"] = WorkedBy.MANAGERS
    preview = protocol_apply(
        actor=world.admin, partnership=world.partnership, document=document, dry_run=True
    )
    row = next(s for s in preview.standing if s.reference == at_three.reference)
    assert {world.senior_health.username, world.senior_social.username} <= set(row.loses_sight)
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)

    told = notices(at_three)
    assert told[world.senior_health.username] == NoticeKind.REVIEW_SIGHT_LOST
    assert told[world.senior_social.username] == NoticeKind.REVIEW_SIGHT_LOST
    expected = set(row.loses_sight) | set(row.gains_sight) | set(row.loses_action) | set(row.gains_action)
    assert set(told) == expected - {world.admin.username}
    lost = Notification.objects.get(
        recipient=world.senior_health, kind=NoticeKind.REVIEW_SIGHT_LOST, about=f"escalation:{at_three.pk}"
    )
    assert lost.path == "" and lost.subject == at_three.reference  # no link to what they cannot open
    subject, body = render_email(lost)
    assert at_three.reference in subject and "see it" not in body
    gained = [n for n, kind in told.items() if kind != NoticeKind.REVIEW_SIGHT_LOST]
    assert all(
        Notification.objects.get(
            recipient__username=n, about=f"escalation:{at_three.pk}", key__startswith="protocol:"
        ).path
        == f"/escalations/{at_three.pk}/"
        for n in gained
    )
    # One notice a person an escalation: applying again changes nothing, tells nobody.
    count = Notification.objects.filter(key__startswith="protocol:").count()
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    assert Notification.objects.filter(key__startswith="protocol:").count() == count


def test_the_parties_of_an_escalation_moved_or_re_dated_are_told(world):
    opened = open_everywhere(world)
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][1]["routine_working_days"] += 5  # line management: a longer clock
    e = opened["line-management"]
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    told = notices(e)
    for party in (e.raised_by, world.practitioner_social):
        assert told.get(party.username) == NoticeKind.REVIEW_MOVED
    n = Notification.objects.get(recipient=e.raised_by, key__startswith="protocol:")
    e.refresh_from_db()
    assert n.due_date == e.due_date and n.stage == e.stage == 2
    assert "Due:" in e.events.get(type=EventType.PROTOCOL_REVIEWED).summary
    # The escalation at practitioners' stage kept its clock: its parties hear nothing.
    assert notices(opened["practitioners"]) == {}
    # No notice says more than a reference, a stage and a due date.
    for n in Notification.objects.filter(key__startswith="protocol:"):
        assert n.subject.startswith(world.partnership.reference_prefix)


@pytest.mark.parametrize("name", preset_names())
def test_version_1_made_by_the_migration_is_the_protocol_as_exported(name):
    """The data migration writes each partnership's ladder as ``protocol export`` gives it, so
    that the first review compares like with like, and points its escalations at it."""
    world = World()
    install_ladder(world.partnership, preset(name))
    e = world.raised()
    Escalation.objects.update(runs_under=None)
    ProtocolVersion.objects.all().delete()
    first_versions_migration.first_versions(apps, None)
    # (A later migration adds what each stage asks for to the versions it finds.)
    importlib.import_module(
        "accord.partnership.migrations.0011_stage_requires_and_front_door_form"
    ).requires_in_versions(apps, None)
    # (And one the Welsh texts the protocol holds, for a board that works in Wales.)
    importlib.import_module("accord.partnership.migrations.0013_welsh_texts_and_languages").welsh_in_versions(
        apps, None
    )
    importlib.import_module(
        "accord.partnership.migrations.0012_partnership_safeguards"
    ).safeguards_in_versions(apps, None)
    importlib.import_module(
        "accord.escalations.migrations.0005_escalations_run_under_a_protocol_version"
    ).run_under_first_versions(apps, None)
    version = ProtocolVersion.objects.get(partnership=world.partnership)
    assert version.number == 1 and version.document == document_of(world.partnership)
    e.refresh_from_db()
    assert e.runs_under == version


def test_a_new_partnership_starts_at_version_1(world):
    from accord.escalations.protocol import partnership_create

    created = partnership_create(
        actor=None, name="Newshire Partnership", slug="newshire", document=preset("somerset")
    ).partnership
    version = protocol_version_now(created)
    assert version.number == 1 and version.document == document_of(created)
    assert ProtocolVersion.objects.filter(partnership=created).count() == 1


def test_a_paused_escalation_moves_to_the_new_version_and_a_closed_one_keeps_its_own(world):
    e = world.at_stage_2()
    services.escalation_pause(actor=world.manager_health, escalation=e, reason="Waiting for the meeting.")
    document = with_stage_inserted_after_first(document_of(world.partnership))
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    e.refresh_from_db()
    assert e.runs_under.number == 2 and e.status == "paused"
    services.escalation_withdraw(actor=e.raised_by, escalation=e, reason="Settled outside Accord.")
    document = document_of(world.partnership)
    document["stages"][0]["routine_working_days"] += 1
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)
    e.refresh_from_db()
    assert protocol_version_now(world.partnership).number == 3 and e.runs_under.number == 2


def test_the_settings_page_says_which_version_a_change_makes_before_it_is_saved(client, world):
    from django.urls import reverse

    from accord.testing.auth import sign_in

    world.raised()
    sign_in(client, world.admin)
    url = reverse("settings_stage", args=[1])
    form = client.get(url).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, dict)}
    data["routine_working_days"] = 9
    page = client.post(url, data)
    text = page.content.decode()
    assert 'data-testid="version-changes"' in text, text[:3000]
    assert "Saving makes version 2 of the protocol" in text
    assert ProtocolVersion.objects.filter(partnership=world.partnership).count() == 1  # nothing saved yet


def test_a_review_in_one_partnership_leaves_a_neighbour_sharing_an_agency_alone(world, neighbour):
    """Two partnerships share the health trust (and, here, a senior leader who holds a role in
    both): a review in one makes no version in the other, moves none of its escalations, and
    tells its people nothing under it."""
    from accord.partnership.models import Role, RoleAssignment

    RoleAssignment.objects.create(
        user=world.senior_health, partnership=neighbour.partnership, role=Role.SENIOR_LEADER
    )
    mine = world.at_stage_3()
    theirs = neighbour.at_stage_3()
    theirs_version = Escalation.objects.get(pk=theirs.pk).runs_under_id
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][2]["worked_by"] = WorkedBy.MANAGERS
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)

    assert Escalation.objects.get(pk=mine.pk).runs_under.number == 2
    assert list(
        ProtocolVersion.objects.filter(partnership=neighbour.partnership).values_list("number", flat=True)
    ) == [1]
    fresh = Escalation.objects.get(pk=theirs.pk)
    assert (
        fresh.runs_under_id == theirs_version
        and not fresh.events.filter(type=EventType.PROTOCOL_REVIEWED).exists()
    )
    told = Notification.objects.filter(key__startswith="protocol:")
    assert told.filter(recipient=world.senior_health, about=f"escalation:{mine.pk}").exists()
    assert not told.filter(partnership=neighbour.partnership).exists()
    assert not told.filter(about=f"escalation:{theirs.pk}").exists()
