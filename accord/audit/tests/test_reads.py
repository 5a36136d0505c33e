"""Reads are audited without a queue: each is recorded, sealed, in its own table by one
insert that waits for no lock, and chained by the worker (or before the trail is shown),
in its place by time among the changes (docs/decisions/0002-audit-trail.md)."""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.test import Client

from accord.api.services import api_token_create
from accord.audit.models import AuditEvent, PendingRead, Verb
from accord.audit.services import audit_record, audit_verify, chain_pending_reads
from accord.core import clock
from accord.escalations import services
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def _behind_accords_back(sql: str, params: list) -> None:
    """As a database superuser would, with the tables' triggers off for the session."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_a_read_is_kept_sealed_until_the_worker_chains_it(client, world, tmp_path, settings):
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    e = world.raised()
    sign_in(client, world.manager_health)
    assert client.get(f"/escalations/{e.pk}/").status_code == 200
    # Recorded before the page was answered, in its own table: the worker has not run.
    read = PendingRead.objects.get(verb=Verb.ESCALATION_VIEWED, actor=world.manager_health)
    assert read.payload == {"reference": e.reference} and read.partnership_id == world.partnership.pk
    assert not AuditEvent.objects.filter(verb=Verb.ESCALATION_VIEWED).exists()
    call_command("verify_audit", "--chain-only")  # a read waiting, whole, is no break
    # The worker's pass (and a checkpoint from cron) chains it, and the checkpoint covers it.
    call_command("audit_checkpoint")
    chained = AuditEvent.objects.get(verb=Verb.ESCALATION_VIEWED, actor=world.manager_health)
    assert (chained.at, chained.payload, chained.target_id) == (read.at, read.payload, str(e.pk))
    assert chained.actor_roles == "manager" and chained.actor_agency == world.health.name
    assert not PendingRead.objects.exists()
    assert audit_verify() == (True, None)
    call_command("verify_audit")


def test_verify_audit_finds_a_read_changed_while_it_waited(world):
    e = world.raised()
    changed = audit_record(
        actor=world.practitioner_health,
        verb=Verb.ESCALATION_VIEWED,
        target=e,
        partnership_id=e.partnership_id,
        payload={"reference": e.reference},
    )
    whole = audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED, partnership_id=e.partnership_id)
    _behind_accords_back(
        "UPDATE audit_pendingread SET actor_label = %s WHERE id = %s", ["someone-else", changed.pk]
    )
    with pytest.raises(
        CommandError, match=f"Read {changed.pk} waiting to be chained .* does not match its seal"
    ):
        call_command("verify_audit", "--chain-only")
    # The worker chains the whole one, and never the changed one as if it were whole: it
    # stays where it is, for verify_audit to go on reporting.
    assert chain_pending_reads() == 1
    assert AuditEvent.objects.filter(verb=Verb.ESCALATION_LISTED, actor=world.auditor).exists()
    assert list(PendingRead.objects.values_list("pk", flat=True)) == [changed.pk]
    assert not PendingRead.objects.filter(pk=whole.pk).exists()
    with pytest.raises(CommandError, match=f"Read {changed.pk} waiting to be chained"):
        call_command("verify_audit", "--chain-only")
    # Once chained, a read is an entry of the chain like any other: an edit breaks it.
    entry = AuditEvent.objects.get(verb=Verb.ESCALATION_LISTED, actor=world.auditor)
    _behind_accords_back("UPDATE audit_auditevent SET payload = %s WHERE id = %s", ['{"page": 9}', entry.pk])
    ok, broken = audit_verify()
    assert not ok and broken.pk == entry.pk


def test_the_trail_shows_reads_in_their_place_among_the_changes(client, world):
    e = world.raised()
    sign_in(client, world.practitioner_health)
    assert client.get(f"/escalations/{e.pk}/").status_code == 200  # a read, waiting
    services.escalation_record_discussion(
        actor=world.practitioner_health, escalation=e, held_on=clock.today(), note="Spoke"
    )  # a change after it, chained at once
    client.logout()
    sign_in(client, world.auditor)
    page = client.get("/audit/", {"person": world.practitioner_health.username}).content.decode()
    rows = page.split("<table", 1)[1]
    assert "Viewed an escalation" in rows and "Recorded a discussion" in rows
    assert rows.index("Recorded a discussion") < rows.index("Viewed an escalation")  # newest first
    exported = client.get("/audit/export.csv", {"person": world.practitioner_health.username})
    verbs = [
        row["verb"] for row in csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode()))
    ]
    assert verbs.index(Verb.ESCALATION_VIEWED) < verbs.index(Verb.DISCUSSION_RECORDED)  # oldest first
    assert audit_verify() == (True, None)


def test_the_directory_search_limit_counts_the_searches_not_yet_chained(client, world, settings):
    from accord.escalations.services import directory

    sign_in(client, world.practitioner_health)
    for _ in range(directory.DIRECTORY_PER_MINUTE):
        audit_record(
            actor=world.practitioner_health,
            verb=Verb.DIRECTORY_SEARCHED,
            partnership_id=world.partnership.pk,
            payload={"text": "abc", "agency": None, "found": 0},
        )
    assert not AuditEvent.objects.filter(verb=Verb.DIRECTORY_SEARCHED).exists()
    assert client.get("/escalations/raise/people/", {"q": "manager"}).status_code == 429


def _in_another_connection(work):
    """``work()`` in a thread of its own, so on a database connection of its own: what it
    answered, or the error it raised."""
    outcome: dict[str, object] = {}

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")  # waiting at all is the failure
            outcome["answer"] = work()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return outcome


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)  # two connections see each other's committed rows
def test_two_readers_in_two_connections_do_not_wait_for_each_other(world):
    e = world.raised()
    _, token = api_token_create(actor=None, user=world.manager_health)

    def second_reader():
        response = Client().get(f"/api/v1/escalations/{e.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
        return response.status_code

    def second_change():
        return audit_record(actor=world.manager_health, verb=Verb.LOGIN).pk

    with transaction.atomic():
        # The first reader's entry is written and its transaction still open.
        audit_record(
            actor=world.practitioner_health,
            verb=Verb.ESCALATION_VIEWED,
            target=e,
            partnership_id=e.partnership_id,
            payload={"reference": e.reference},
        )
        assert _in_another_connection(second_reader) == {"answer": 200}
        # Whereas a change waits for the chain while another change holds it: the check
        # above would have seen a wait.
        audit_record(actor=world.practitioner_health, verb=Verb.LOGOUT)
        waited = _in_another_connection(second_change)
        assert "lock timeout" in str(waited.get("error", "")), waited
    assert PendingRead.objects.filter(verb=Verb.ESCALATION_VIEWED).count() == 2
    chain_pending_reads()
    assert audit_verify() == (True, None)
