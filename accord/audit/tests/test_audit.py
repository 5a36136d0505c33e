"""The audit trail is append-only and tamper-evident (DOMAIN.md rule 8)."""

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import GENESIS_HASH, audit_record, audit_verify

pytestmark = pytest.mark.django_db


def test_entries_are_chained(world):
    world.raised()
    entries = list(AuditEvent.objects.order_by("id"))
    assert entries[0].previous_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.previous_hash == before.entry_hash
    assert audit_verify() == (True, None)
    call_command("verify_audit")


def test_an_entry_edited_behind_the_applications_back_is_detected(world):
    world.raised()
    audit_record(actor=world.practitioner_health, verb=Verb.ESCALATION_VIEWED, payload={"reference": "X"})
    victim = AuditEvent.objects.order_by("id").first()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As a database superuser would: with triggers off for this session.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE audit_auditevent SET actor_label = 'someone-else' WHERE id = %s", [victim.pk])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")
    ok, broken = audit_verify()
    assert not ok and broken.pk == victim.pk
    with pytest.raises(CommandError, match=f"broken at entry {victim.pk}"):
        call_command("verify_audit")


def test_the_application_cannot_update_or_delete_an_entry(world):
    event = audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(verb=Verb.LOGIN)
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.postgres_only
def test_postgresql_refuses_update_and_delete(world):
    event = audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED)
    for sql in (
        "UPDATE audit_auditevent SET verb = 'auth.login' WHERE id = %s",
        "DELETE FROM audit_auditevent WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])


def test_entries_record_who_with_their_agency_and_roles(world):
    event = audit_record(actor=world.manager_health, verb=Verb.ESCALATION_LISTED)
    assert event.actor_agency == world.health.name
    assert event.actor_roles == "manager"
    system = audit_record(actor=None, verb=Verb.DEMO_LOADED)
    assert system.actor is None and system.actor_label == "system"


def test_failed_sign_ins_and_lock_outs_reach_the_auditors_of_the_accounts_partnerships(
    client, world, other_world
):
    """A failed sign-in or a lock-out belongs to no partnership: it is shown to the
    auditor of every partnership the account works in, and to no one else's."""
    from django.test import override_settings
    from django.urls import reverse

    from accord.testing.auth import sign_in

    with override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=2):
        for _ in range(3):
            client.post(
                reverse("login"), {"username": world.practitioner_health.username, "password": "wrong"}
            )
        client.post(reverse("login"), {"username": "nobody.at.all", "password": "wrong"})
    failed = AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED, target_id=str(world.practitioner_health.pk))
    assert failed.exists() and AuditEvent.objects.filter(verb=Verb.LOCKED_OUT).exists()
    client.logout()
    sign_in(client, world.auditor)
    ours = client.get("/audit/").content.decode()
    assert f"account {world.practitioner_health.username}" in ours and "nobody.at.all" not in ours
    assert "Locked out after failed log-ins" in ours
    client.logout()
    sign_in(client, other_world.auditor)
    theirs = client.get("/audit/").content.decode()
    assert world.practitioner_health.username not in theirs


def test_pages_that_show_an_escalation_are_audited_reads_and_refusals_are_audited(client, world):
    from accord.api.tests.test_api import Api
    from accord.testing.auth import sign_in

    e = world.consulted(world.raised())
    sign_in(client, world.practitioner_health)
    for page in ("escalate", "discussions", "withdraw", "documents", "raised"):
        assert client.get(f"/escalations/{e.pk}/{page}/").status_code == 200
    pages = set(
        AuditEvent.objects.filter(verb=Verb.ESCALATION_VIEWED, actor=world.practitioner_health).values_list(
            "payload__page", flat=True
        )
    )
    assert {"escalate", "record_discussion", "withdraw", "add_document", "raised"} <= pages
    client.get("/")
    mine = AuditEvent.objects.filter(verb=Verb.ESCALATION_LISTED, actor=world.practitioner_health).last()
    assert mine.payload["page"] == "my work" and e.reference in mine.payload["references"]
    assert mine.ip_address == "127.0.0.1"
    client.logout()

    sign_in(client, world.practitioner_other)  # not a party: the escalation is not found
    assert client.get(f"/escalations/{e.pk}/").status_code == 404
    assert client.get("/reports/pdg/").status_code == 403
    assert client.get("/audit/").status_code == 403
    assert Api(client, world.practitioner_other).get(f"/escalations/{e.pk}").status_code == 404
    refused = list(
        AuditEvent.objects.filter(verb=Verb.ACCESS_REFUSED, actor=world.practitioner_other).values_list(
            "payload__path", "payload__status"
        )
    )
    assert (f"/escalations/{e.pk}/", 404) in refused
    assert ("/reports/pdg/", 403) in refused and ("/audit/", 403) in refused
    assert (f"/api/v1/escalations/{e.pk}", 404) in refused
    assert all(
        entry.partnership_id == world.partnership.pk
        for entry in AuditEvent.objects.filter(verb=Verb.ACCESS_REFUSED)
    )
