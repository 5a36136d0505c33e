"""Two people acting on the same escalation at the same moment: exactly one wins."""

import threading
import time

import pytest
from django.db import close_old_connections, connection

from accord.core.errors import NotAllowed, StaleVersion
from accord.escalations import services
from accord.escalations.models import Escalation

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(*actions):
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", action())
        except Exception as exc:  # noqa: BLE001 - the loser's refusal is the result
            results[i] = ("refused", exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def _someone_waits_for_the_recount_lock(timeout: float = 10) -> bool:
    """Whether another session is (or within ``timeout`` seconds comes to be) waiting for the
    visibility recounts' advisory lock: the moment to let the open transaction finish."""
    from accord.escalations import visibility

    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objid::bigint = %s AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()))",
                [visibility.LOCK_KEY],
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)  # polled: PostgreSQL sends no notice that a lock is awaited
    return False


def test_two_simultaneous_escalations_exactly_one_wins(world):
    e = world.consulted(world.raised())
    version = e.version
    results = _race(
        lambda: services.escalation_escalate(
            actor=world.practitioner_health, escalation=e.pk, reason="mine", expected_version=version
        ),
        lambda: services.escalation_escalate(
            actor=world.manager_health, escalation=e.pk, reason="theirs", expected_version=version
        ),
    )
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["ok", "refused"]
    refused = next(r[1] for r in results if r[0] == "refused")
    assert isinstance(refused, StaleVersion)
    e.refresh_from_db()
    assert e.stage == 2 and e.version == version + 1
    assert e.stage_periods.filter(stage=2).count() == 1


def test_resolve_and_escalate_at_once_leave_one_consistent_history(world):
    """Without versions the two are applied one after the other, never interleaved."""
    e = world.at_stage_2()
    before = e.version
    results = _race(
        lambda: services.escalation_resolve(
            actor=world.manager_social,
            escalation=e.pk,
            outcome="agreed_way_forward",
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        ),
        lambda: services.escalation_escalate(actor=world.manager_health, escalation=e.pk, reason="go"),
    )
    wins = [r for r in results if r[0] == "ok"]
    for outcome, value in results:
        if outcome == "refused":
            # Escalating a resolved escalation; or, escalated first, resolving a stage the
            # manager no longer holds (rule 2: senior leaders hold stage 3).
            assert isinstance(value, NotAllowed)
    e = Escalation.objects.get(pk=e.pk)
    assert e.version == before + len(wins)
    if e.status == "resolved":  # resolved first: the escalation was refused
        assert e.stage_periods.filter(ended_on__isnull=True).count() == 0
        assert e.resolutions.count() == 1 and e.stage == 2
    else:  # escalated first: one history at stage 3, nothing resolved
        assert e.stage == 3 and e.stage_periods.filter(ended_on__isnull=True).count() == 1
        assert e.resolutions.count() == 0


def test_a_role_taken_away_while_an_escalation_is_recounted_leaves_the_visibility_table_exact(world):
    """An escalation's recount (in a transaction not yet committed) and a person's recount
    at the same moment: the person's waits, so it cannot miss a row the other wrote."""
    from django.db import transaction

    from accord.escalations import visibility
    from accord.partnership.models import RoleAssignment

    e = world.at_stage_2()  # the social manager sees it as a manager of a party's agency
    role = RoleAssignment.objects.get(user=world.manager_social, role="manager")
    recounted = threading.Event()

    def escalation_side():
        with transaction.atomic():
            visibility.for_escalations([e.pk])
            recounted.set()
            # The transaction stays open until the person's recount is seen waiting for it.
            assert _someone_waits_for_the_recount_lock(), "the person's recount did not wait"

    def person_side():
        assert recounted.wait(timeout=10)
        RoleAssignment.objects.filter(pk=role.pk).delete()

    results = _race(escalation_side, person_side)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert not visibility.Visibility.objects.filter(user=world.manager_social, escalation=e).exists()
    assert visibility.differences() == (0, 0, 0)


def test_escalations_raised_at_the_same_moment_get_consecutive_references(world):
    """The year's counter row is locked while a reference is issued: people raising at
    once each get the next number, none twice and none skipped."""
    first = world.raised()
    results = _race(*[world.raised for _ in range(4)])
    assert [outcome for outcome, _ in results] == ["ok"] * 4
    prefix, year, number = first.reference.rsplit("-", 2)
    expected = {f"{prefix}-{year}-{int(number) + i:05d}" for i in range(1, 5)}
    assert {e.reference for _, e in results} == expected
