"""The audit trail is append-only and tamper-evident (DOMAIN.md rule 8)."""

import itertools

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from accord.audit.models import AuditEvent, PendingRead, Verb
from accord.audit.services import GENESIS_HASH, audit_record, audit_verify, chain_pending_reads, entry_hash

pytestmark = pytest.mark.django_db


def test_entries_are_chained(world):
    world.raised()
    entries = list(AuditEvent.objects.order_by("id"))
    assert entries[0].previous_hash == GENESIS_HASH
    for before, after in itertools.pairwise(entries):
        assert after.previous_hash == before.entry_hash
    assert audit_verify() == (True, None)
    call_command("audit_checkpoint")
    call_command("verify_audit")


def test_an_entry_edited_behind_the_applications_back_is_detected(world):
    world.raised()
    audit_record(actor=world.practitioner_health, verb=Verb.ESCALATION_VIEWED, payload={"reference": "X"})
    chain_pending_reads()
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
    read = audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED)
    assert isinstance(read, PendingRead)
    with pytest.raises(PermissionError):
        read.save()  # a read waiting to be chained is never changed either
    event = audit_record(actor=world.auditor, verb=Verb.LOGIN)
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
    event = audit_record(actor=world.auditor, verb=Verb.LOGIN)
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
    health = world.practitioner_health  # the account's person, by name
    assert f"{health.get_full_name()} ({health.username})" in ours and "nobody.at.all" not in ours
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
    chain_pending_reads()
    pages = set(
        AuditEvent.objects.filter(verb=Verb.ESCALATION_VIEWED, actor=world.practitioner_health).values_list(
            "payload__page", flat=True
        )
    )
    assert {"escalate", "record_discussion", "withdraw", "add_document", "raised"} <= pages
    client.get("/")
    chain_pending_reads()
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


# The chain is keyed, and checkpoints outside the database find entries cut from its end.


def _behind_accords_back(sql: str, params: list | None = None) -> None:
    """Run SQL as a database superuser would, with the trail's triggers off for the session."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def _entries(world, count: int) -> list[AuditEvent]:
    """``count`` reads, chained: the newest entries of the trail, oldest first."""
    for n in range(count):
        audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED, payload={"n": n})
    assert chain_pending_reads() == count
    return list(AuditEvent.objects.order_by("-id")[:count])[::-1]


def test_the_chain_is_keyed_so_a_rewrite_rehashed_without_the_key_is_found(world, settings):
    from accord.audit.services import KEYED, entry_hash

    entries = _entries(world, 5)
    assert {e.scheme for e in entries} == {KEYED}
    # The key is not in the database: the same entry under another key has another hash.
    deployments = settings.ACCORD_AUDIT_KEY
    settings.ACCORD_AUDIT_KEY = "another-key-" + "x" * 32
    assert entry_hash(entries[0]) != entries[0].entry_hash
    assert audit_verify()[0] is False  # any key but the deployment's fails
    settings.ACCORD_AUDIT_KEY = deployments
    assert audit_verify() == (True, None)

    # Delete the middle entry and re-chain the rest with the plain SHA-256 an attacker can
    # compute (or with a key they guessed): both are found.
    for attempt in ("plain", "guessed"):
        _behind_accords_back("DELETE FROM audit_auditevent WHERE id = %s", [entries[2].pk])
        previous = entries[1].entry_hash
        for victim in entries[3:]:
            victim.previous_hash = previous
            victim.scheme = 1 if attempt == "plain" else KEYED
            settings.ACCORD_AUDIT_KEY = "guessed-" + "g" * 32
            victim.entry_hash = entry_hash(victim)
            settings.ACCORD_AUDIT_KEY = deployments
            _behind_accords_back(
                "UPDATE audit_auditevent SET previous_hash = %s, entry_hash = %s, scheme = %s WHERE id = %s",
                [victim.previous_hash, victim.entry_hash, victim.scheme, victim.pk],
            )
            previous = victim.entry_hash
        ok, broken = audit_verify()
        assert not ok and broken.pk == entries[3].pk, attempt


def test_entries_cut_from_the_end_after_a_checkpoint_are_found(world, tmp_path, settings):
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    entries = _entries(world, 12)
    call_command("audit_checkpoint")
    call_command("verify_audit")  # intact, against the checkpoint
    assert (tmp_path / "audit-checkpoints.jsonl").read_text().count("\n") == 1

    _behind_accords_back("DELETE FROM audit_auditevent WHERE id >= %s", [entries[2].pk])
    assert audit_verify() == (True, None)  # the chain alone cannot tell
    with pytest.raises(
        CommandError, match=f"Entries are missing from the end of the trail.*entry {entries[-1].pk}"
    ):
        call_command("verify_audit")
    # The next checkpoint refuses to seal the cut trail.
    with pytest.raises(CommandError, match=f"Entry {entries[-1].pk}.*is no longer in the audit trail"):
        call_command("audit_checkpoint")


def test_an_emptied_trail_does_not_verify(world, tmp_path, settings):
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    _entries(world, 3)
    call_command("audit_checkpoint")
    _behind_accords_back("DELETE FROM audit_auditevent")
    with pytest.raises(CommandError, match="Entries are missing from the end of the trail"):
        call_command("verify_audit")
    with pytest.raises(CommandError, match="The audit trail is empty"):
        call_command("audit_checkpoint")


def test_without_a_checkpoint_verify_says_it_cannot_see_the_end(world, tmp_path, settings):
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path / "none-yet")
    _entries(world, 2)
    with pytest.raises(CommandError, match="No checkpoint is recorded"):
        call_command("verify_audit")
    call_command("verify_audit", "--chain-only")


def test_a_checkpoint_not_sealed_with_the_key_is_refused(world, tmp_path, settings):
    import json

    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    entries = _entries(world, 3)
    call_command("audit_checkpoint")
    # Someone with the folder but not the key writes a checkpoint of their own.
    forged = {"recorded_at": "2026-12-01T00:00:00+00:00", "entry": entries[0].pk, "entry_hash": "f" * 64}
    with (tmp_path / "audit-checkpoints.jsonl").open("a") as lines:
        lines.write(json.dumps({**forged, "seal": "0" * 64}) + "\n")
    with pytest.raises(CommandError, match="not sealed with Accord's audit key"):
        call_command("verify_audit")


def test_a_rewritten_checkpointed_entry_is_found(world, tmp_path, settings):
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    entries = _entries(world, 3)
    call_command("audit_checkpoint")
    _behind_accords_back(
        "UPDATE audit_auditevent SET entry_hash = %s WHERE id = %s", ["e" * 64, entries[-1].pk]
    )
    with pytest.raises(CommandError, match=f"Entry {entries[-1].pk} does not match the checkpoint"):
        call_command("verify_audit")


@pytest.mark.django_db(transaction=True)  # the worker's pass manages its own connection
def test_the_worker_records_a_checkpoint_on_its_sweep(world, tmp_path, settings):
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    newest = _entries(world, 1)[0]
    call_command("run_worker", "--once")
    line = (tmp_path / "audit-checkpoints.jsonl").read_text()
    assert f'"entry": {newest.pk}' in line and newest.entry_hash in line


@pytest.mark.postgres_only
def test_postgresql_refuses_truncate(world):
    audit_record(actor=world.auditor, verb=Verb.LOGIN)
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as outside a test's transaction
        cursor.execute("TRUNCATE audit_auditevent")


@pytest.mark.postgres_only
def test_a_role_that_does_not_own_the_trail_cannot_rewrite_it(world):
    """The grants the README gives: Accord works as that role, and it can neither change,
    delete nor empty the trail, nor switch off its triggers."""
    from pathlib import Path

    from accord.core.checks import audit_table_owner

    assert [w.id for w in audit_table_owner(databases=["default"])] == [
        "accord.W001"
    ]  # the suite runs as the owner
    grants = (Path(__file__).resolve().parents[3] / "deploy" / "postgresql-app-role.sql").read_text()
    event = audit_record(actor=world.auditor, verb=Verb.LOGIN)
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE accord_app_check NOLOGIN")
        cursor.execute(grants.replace("accord_app", "accord_app_check"))
        cursor.execute("SET ROLE accord_app_check")
    try:
        assert audit_table_owner(databases=["default"]) == []
        written = audit_record(
            actor=world.auditor, verb=Verb.ESCALATION_VIEWED, payload={"reference": "TST-2026-00001"}
        )  # recording a read works, and chaining it (which deletes it from the reads waiting)
        assert chain_pending_reads() == 1 and not PendingRead.objects.filter(pk=written.pk).exists()
        assert AuditEvent.objects.order_by("-id").first().previous_hash == event.entry_hash
        world.raised()  # and so does Accord's ordinary work
        audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED)
        for sql in (
            "UPDATE audit_pendingread SET verb = 'auth.login'",
            "TRUNCATE audit_pendingread",
            "UPDATE audit_auditevent SET verb = 'auth.login'",
            "DELETE FROM audit_auditevent",
            "TRUNCATE audit_auditevent",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_append_only",
            "SET session_replication_role = replica",
        ):
            with (
                pytest.raises(Exception, match=r"permission denied|must be owner|append-only"),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def test_each_action_on_an_escalation_has_its_own_verb_and_the_search_filters_by_it(client, world):
    from accord.escalations import services
    from accord.escalations.models import PdgActionKind
    from accord.testing.auth import sign_in

    e = world.formal()  # raised, discussed, escalated (ordinary and formal) by the world's helpers
    e = services.escalation_pause(actor=world.senior_social, escalation=e, reason="Conference")
    e = services.escalation_resume(actor=world.senior_social, escalation=e)
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
    )
    e = services.escalation_end_facilitation(actor=world.pdg_chair, escalation=e)
    services.escalation_withdraw(actor=world.practitioner_health, escalation=e, reason="Settled")
    e = services.escalation_reopen(actor=world.senior_social, escalation=e, reason="Not settled after all")
    services.escalation_resolve(
        actor=world.senior_social,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="Joint plan",
        child_centred_outcome_achieved="yes",
    )
    verbs = set(AuditEvent.objects.filter(target_id=str(e.pk)).values_list("verb", flat=True))
    assert Verb.ESCALATION_VIEWED not in verbs
    assert {
        Verb.ESCALATION_RAISED,
        Verb.DISCUSSION_RECORDED,
        Verb.ESCALATED,
        Verb.PAUSED,
        Verb.RESUMED,
        Verb.PDG_ACTION,
        Verb.FACILITATION_ENDED,
        Verb.WITHDRAWN,
        Verb.REOPENED,
        Verb.RESOLVED,
    } <= verbs
    assert Verb.ESCALATION_CHANGED not in verbs  # the old catch-all is only for older entries

    sign_in(client, world.auditor)
    page = client.get("/audit/", {"verb": Verb.PAUSED.value}).content.decode()
    assert "Paused an escalation" in page and "1 entry" in page
    assert "Resumed an escalation" not in page.split("<table", 1)[1]
    refused = client.get("/audit/", {"verb": "escalation.deleted"})
    assert refused.status_code == 200 and "Select what was done from the list" in refused.content.decode()


def test_many_checkpoints_are_checked_a_chunk_at_a_time(world, tmp_path, settings, monkeypatch):
    """A year of checkpoints (one every five minutes) names more entries than a database takes
    in one query: they are read a chunk at a time, and a rewritten one is still found."""
    from django.test.utils import CaptureQueriesContext

    from accord.audit import checkpoints

    monkeypatch.setattr(checkpoints, "CHECK_CHUNK", 2)
    settings.ACCORD_AUDIT_CHECKPOINT_DIR = str(tmp_path)
    entries = _entries(world, 5)
    for _ in range(5):
        audit_record(actor=world.auditor, verb=Verb.ESCALATION_LISTED)
        call_command("audit_checkpoint")
    with CaptureQueriesContext(connection) as ctx:
        report = checkpoints.verify_trail()
    assert report.intact and report.checkpoints == 5
    assert sum("IN (" in q["sql"] for q in ctx.captured_queries) == 3  # 5 entries, 2 at a time
    _behind_accords_back(
        "UPDATE audit_auditevent SET entry_hash = %s WHERE id = %s", ["d" * 64, entries[-1].pk + 3]
    )
    assert any("does not match the checkpoint" in p for p in checkpoints.verify_trail().problems)


def test_a_trail_rewritten_whole_without_the_key_is_found_even_before_any_checkpoint(world):
    """No deployment holds an unkeyed entry: a trail rewritten from its first entry with the
    plain SHA-256 anyone can compute is broken at that first entry."""
    entries = _entries(world, 3)
    previous = GENESIS_HASH
    for victim in AuditEvent.objects.order_by("id"):
        victim.previous_hash = previous
        victim.scheme = 1
        victim.entry_hash = entry_hash(victim)
        _behind_accords_back(
            "UPDATE audit_auditevent SET previous_hash = %s, entry_hash = %s, scheme = %s WHERE id = %s",
            [victim.previous_hash, victim.entry_hash, victim.scheme, victim.pk],
        )
        previous = victim.entry_hash
    ok, broken = audit_verify()
    assert not ok and broken.pk == AuditEvent.objects.order_by("id").first().pk
    assert entries
