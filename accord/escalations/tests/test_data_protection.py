"""Retention and subject access on seeded data."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core import clock
from accord.escalations import services
from accord.escalations.data_protection import REMOVED, apply_retention, subject_access
from accord.escalations.models import Child, Document, Escalation, Outcome
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def closed_long_ago(world, days_ago):
    raised = timezone.now() - dt.timedelta(days=days_ago)
    e = world.consulted(world.raised(at=raised))
    with clock.set_to(raised + dt.timedelta(days=1)):
        services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="x")
        services.escalation_add_document(
            actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("n.txt", b"notes")
        )
    with clock.set_to(raised + dt.timedelta(days=2)):
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=e,
            outcome=Outcome.DECISION_CHANGED,
            agreed_way_forward="Plan",
            child_centred_outcome_achieved="yes",
        )
    return Escalation.objects.get(pk=e.pk)


def test_retention_removes_personal_data_and_keeps_the_facts(world, capsys):
    world.partnership.retention_days_after_closure = 365
    world.partnership.save()
    old = closed_long_ago(world, 500)
    recent = closed_long_ago(world, 100)
    open_one = world.raised()

    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert old.reference in out and recent.reference not in out and "Would remove" in out
    assert Child.objects.filter(escalation=old).exists()

    result = apply_retention()
    assert result.escalations == [old.reference] and result.children == 1 and result.documents == 1
    old.refresh_from_db()
    assert old.redacted_at is not None and old.summary == REMOVED[:200]
    assert old.concern == "" and old.evidence == "" and old.reflection == ""
    assert (
        not Child.objects.filter(escalation=old).exists()
        and not Document.objects.filter(escalation=old).exists()
    )
    assert old.discussions.filter(note__gt="").count() == 0
    # The facts reports need are kept.
    assert (old.kind, old.status, old.highest_stage, old.raising_agency, old.with_agency) == (
        "case",
        "resolved",
        2,
        world.health,
        world.social,
    )
    assert old.resolutions.get().outcome == Outcome.DECISION_CHANGED
    assert list(old.themes.values_list("code", flat=True)) == ["neglect"]
    # Nothing else is touched.
    assert (
        Child.objects.filter(escalation=recent).exists()
        and Child.objects.filter(escalation=open_one).exists()
    )
    assert AuditEvent.objects.filter(verb=Verb.RETENTION_APPLIED).exists()
    assert apply_retention().escalations == []  # a second run finds nothing more


def test_subject_access_gathers_everything_about_one_child(world, client):
    mine = world.raised(
        children=[services.ChildDetails(name="Ottoline Brackenbury", agency_reference="SA-42")]
    )
    services.escalation_add_document(
        actor=world.practitioner_health,
        escalation=mine,
        upload=SimpleUploadedFile("chronology.txt", b"Chronology text"),
    )
    world.raised(children=[services.ChildDetails(name="Someone Else", agency_reference="SA-43")])
    data, count = subject_access(
        actor=world.auditor, partnership=world.partnership, agency_reference=" sa-42 "
    )
    assert count == 1
    archive = zipfile.ZipFile(io.BytesIO(data))
    record = json.loads(archive.read("subject-access.json"))
    assert record["escalations"][0]["reference"] == mine.reference
    assert record["escalations"][0]["children"][0]["name"] == "Ottoline Brackenbury"
    assert "Someone Else" not in json.dumps(record)
    assert any(name.endswith("chronology.txt") for name in archive.namelist())
    assert (
        archive.read(next(n for n in archive.namelist() if n.endswith("chronology.txt")))
        == b"Chronology text"
    )
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.SUBJECT_ACCESS).exists()

    sign_in(client, world.auditor)
    response = client.post("/audit/subject-access/", {"agency_reference": "SA-42"})
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    client.logout()
    sign_in(client, world.pdg_chair)
    assert client.post("/audit/subject-access/", {"agency_reference": "SA-42"}).status_code == 403


def test_a_subject_access_search_that_finds_nothing_says_so_and_is_still_recorded(world, client):
    world.raised(children=[services.ChildDetails(name="A", agency_reference="SA-42")])
    sign_in(client, world.auditor)
    chain_pending_reads()  # the reads recorded so far, into the trail
    before = AuditEvent.objects.filter(verb=Verb.SUBJECT_ACCESS).count()
    response = client.post("/audit/subject-access/", {"agency_reference": "NO-SUCH-REF"})
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "No escalation names a child with the case reference <strong>NO-SUCH-REF</strong>" in html
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.SUBJECT_ACCESS).count() == before + 1


def test_the_subject_access_command_writes_a_file(world, tmp_path):
    world.raised(children=[services.ChildDetails(name="A", agency_reference="CMD-1")])
    target = tmp_path / "out.zip"
    call_command("subject_access", "--agency-reference", "CMD-1", "--output", str(target))
    assert zipfile.ZipFile(target).read("subject-access.json")


def raised_in_other_partnership_through_a_shared_agency(world, other_world, reference):
    """The other partnership shares world's health trust, and a health practitioner who
    works in both raises there about a child with this case reference."""
    from accord.partnership.models import PartnershipAgency, Role
    from accord.testing.factories import UserFactory, raise_details

    PartnershipAgency.objects.get_or_create(partnership=other_world.partnership, agency=world.health)
    both = UserFactory(
        username="both.practitioner",
        agency=world.health,
        roles=[(world.partnership, Role.PRACTITIONER), (other_world.partnership, Role.PRACTITIONER)],
    )
    details = raise_details(
        with_agency=other_world.social,
        with_practitioner_username=other_world.practitioner_social.username,
        children=[services.ChildDetails(name="Perpetua Honeysett", agency_reference=reference)],
    )
    return services.escalation_raise(
        actor=both, partnership=other_world.partnership, details=details, immediate_danger=False
    )


def test_subject_access_never_crosses_partnerships(world, other_world, client, tmp_path):
    from accord.partnership.models import Role, RoleAssignment

    theirs = raised_in_other_partnership_through_a_shared_agency(world, other_world, "SHARED-9")
    # Searched from world, the reference is found nowhere: world holds nothing about the child.
    data, count = subject_access(
        actor=world.auditor, partnership=world.partnership, agency_reference="SHARED-9"
    )
    assert (
        count == 0
        and "Perpetua" not in zipfile.ZipFile(io.BytesIO(data)).read("subject-access.json").decode()
    )
    sign_in(client, world.auditor)
    response = client.post("/audit/subject-access/", {"agency_reference": "SHARED-9"})
    assert response["Content-Type"].startswith("text/html") and b"Perpetua" not in response.content
    client.logout()
    # Each search is recorded against the partnership searched, for its own auditors.
    chain_pending_reads()  # the reads recorded so far, into the trail
    searches = AuditEvent.objects.filter(verb=Verb.SUBJECT_ACCESS)
    assert set(searches.values_list("partnership_id", flat=True)) == {world.partnership.pk}

    # An officer of both partnerships finds it only while working in the other one.
    RoleAssignment.objects.create(user=world.auditor, partnership=other_world.partnership, role=Role.AUDITOR)
    sign_in(client, world.auditor)
    response = client.post("/audit/subject-access/", {"agency_reference": "SHARED-9"})
    assert response["Content-Type"].startswith("text/html")  # still working in world
    session = client.session
    session["accord_partnership_id"] = other_world.partnership.pk
    session.save()
    response = client.post("/audit/subject-access/", {"agency_reference": "SHARED-9"})
    assert response["Content-Type"] == "application/zip"
    record = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("subject-access.json"))
    assert [r["reference"] for r in record["escalations"]] == [theirs.reference]
    chain_pending_reads()
    assert searches.filter(partnership_id=other_world.partnership.pk).count() == 1

    # The other partnership's own officer sees the search in their trail; world's does not.
    client.logout()
    sign_in(client, other_world.auditor)
    html = client.get("/audit/").content.decode()
    assert "Gathered a subject access request" in html

    # The command needs to be told which partnership once there are several.
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--partnership"):
        call_command("subject_access", "--agency-reference", "SHARED-9", "--output", str(tmp_path / "a.zip"))
    call_command(
        "subject_access",
        "--agency-reference",
        "SHARED-9",
        "--partnership",
        world.partnership.slug,
        "--output",
        str(tmp_path / "b.zip"),
    )
    assert "Perpetua" not in zipfile.ZipFile(tmp_path / "b.zip").read("subject-access.json").decode()


def test_an_auditor_of_two_partnerships_searches_and_exports_only_the_one_they_work_in(
    world, other_world, client
):
    from accord.partnership.models import Role, RoleAssignment

    mine = world.raised()
    theirs = other_world.raised()
    RoleAssignment.objects.create(user=world.auditor, partnership=other_world.partnership, role=Role.AUDITOR)
    sign_in(client, world.auditor)
    assert mine.reference in client.get("/audit/", {"escalation": mine.reference}).content.decode()
    found = client.get("/audit/", {"escalation": theirs.reference}).context["page"]
    assert list(found) == []
    body = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    assert mine.reference in body and theirs.reference not in body
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert set(
        AuditEvent.objects.filter(verb__in=[Verb.AUDIT_SEARCHED, Verb.AUDIT_EXPORTED]).values_list(
            "partnership_id", flat=True
        )
    ) == {world.partnership.pk}


def test_retention_is_recorded_in_each_partnerships_own_trail(world, other_world):
    for w in (world, other_world):
        w.partnership.retention_days_after_closure = 365
        w.partnership.save()
    mine = closed_long_ago(world, 500)
    theirs = closed_long_ago(other_world, 500)
    apply_retention()
    entries = {
        e.partnership_id: e.payload["references"]
        for e in AuditEvent.objects.filter(verb=Verb.RETENTION_APPLIED)
    }
    assert entries == {world.partnership.pk: [mine.reference], other_world.partnership.pk: [theirs.reference]}


def test_auditors_search_and_export_their_partnerships_trail(world, other_world, client):
    e = world.raised()
    other_world.raised()
    sign_in(client, world.auditor)
    page = client.get("/audit/", {"escalation": e.reference})
    html = page.content.decode()
    assert page.status_code == 200 and e.reference in html
    assert "OTH-" not in client.get("/audit/").content.decode()
    export = client.get("/audit/export.csv", {"person": world.practitioner_health.username})
    body = b"".join(export.streaming_content).decode()
    assert export["Content-Type"] == "text/csv" and e.reference in body and "OTH-" not in body
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.AUDIT_EXPORTED, actor=world.auditor).exists()
    client.logout()
    sign_in(client, world.practitioner_health)
    assert client.get("/audit/").status_code == 403


def test_an_auditors_home_shows_their_partnerships_newest_entries_and_their_peoples_log_ins(
    world, other_world, client
):
    from accord.audit.services import audit_record

    e = world.raised()
    other = other_world.raised()
    audit_record(actor=world.practitioner_social, verb=Verb.LOGIN)  # log-ins belong to no partnership
    audit_record(actor=other_world.practitioner_health, verb=Verb.LOGIN)
    sign_in(client, world.auditor)
    html = client.get("/").content.decode()
    assert "Recent audit trail entries" in html
    assert e.reference in html  # named by reference, as the search names it
    social = world.practitioner_social  # named as a person, with their sign-in name
    assert f"{social.get_full_name()} ({social.username})" in html and "Logged in" in html
    assert other.reference not in html and other_world.practitioner_health.username not in html
