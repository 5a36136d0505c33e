"""Shared fixtures for Accord's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from accord.testing.factories import World, WorldRows


def pytest_configure(config):
    """The Welsh catalogue compiled before any test reads it (as bin/setup compiles it), in
    the controlling process only, so that two workers never write it at once."""
    if hasattr(config, "workerinput"):
        return
    import polib

    for po in (Path(__file__).parent / "accord" / "locale").glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            polib.pofile(str(po)).save_as_mofile(str(mo))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty caches: row ids are reused after a test's rollback, so
    what is kept under one (the API's rate limit, per token; the ladders each process
    keeps, per partnership) must not carry over. Nor does the language a request left
    active (a page in Welsh): each test starts in Accord's default. Nor do the audit
    checkpoints an earlier test's worker wrote (outside the database, so not undone with
    it): they seal a chain this test's database never held."""
    _empty_caches()
    _no_checkpoints()
    from django.utils import translation

    translation.deactivate()
    yield


def _no_checkpoints() -> None:
    from django.conf import settings

    for path in Path(settings.ACCORD_AUDIT_CHECKPOINT_DIR).glob("*"):
        if path.is_file():
            path.unlink()


def _empty_caches() -> None:
    from accord.testing.snapshots import empty_caches

    empty_caches()


@pytest.fixture(scope="session")
def _world_rows(django_db_setup, django_db_blocker) -> dict[str, WorldRows]:
    """The rows of ``world``, ``other_world`` and ``neighbour``, built once for the session
    (in one transaction, undone, so their ids never meet) and copied into each test that
    asks for one: the same World for a few statements instead of some 300."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        world, world_rows = WorldRows.capture(World)
        _, other_rows = WorldRows.capture(lambda: World(name="Otherton", prefix="OTH"))
        _, neighbour_rows = WorldRows.capture(
            lambda: World(name="Neighbourton", prefix="NBR", shares_health_with=world)
        )
        transaction.set_rollback(True)
    _empty_caches()
    return {"world": world_rows, "other_world": other_rows, "neighbour": neighbour_rows}


@pytest.fixture(scope="session")
def _demo_rows(django_db_setup, django_db_blocker):
    """The two demo partnerships (``load_demo``: Devon and Torbay, their people and
    caseloads), built once a session in a transaction that is undone, for ``demo_loaded``."""
    from accord.testing.demo import capture_demo

    with django_db_blocker.unblock():
        snapshot = capture_demo()
    _empty_caches()
    return snapshot


@pytest.fixture
def demo_loaded(db, _demo_rows) -> None:
    """The demo partnerships in the test's database: copied (one statement a table) where
    they can be, built by ``load_demo`` where not."""
    from accord.testing.demo import demo

    demo(_demo_rows)


@pytest.fixture(scope="session")
def _devon_rows(django_db_setup, django_db_blocker):
    """Devon's demo partnership and people (``load_partnership``, ``load_users``), and its
    caseload on them (``load_caseload``), each built once a session, for the tests that
    load Devon's demo (the browser's ``demo_users`` and ``demo_caseload`` among them)."""
    from accord.testing.demo import capture_devon

    with django_db_blocker.unblock():
        snapshots = capture_devon()
    _empty_caches()
    return snapshots


@pytest.fixture
def world(db, _world_rows) -> World:
    return _world_rows["world"].copy() or World()


@pytest.fixture
def other_world(db, _world_rows) -> World:
    return _world_rows["other_world"].copy() or World(name="Otherton", prefix="OTH")


@pytest.fixture
def neighbour(world, _world_rows) -> World:
    """A second partnership sharing ``world``'s health agency: its health people work for
    the same trust but hold roles only in the neighbouring partnership."""
    return _world_rows["neighbour"].copy(shares_health_with=world) or World(
        name="Neighbourton", prefix="NBR", shares_health_with=world
    )


# Which half of CI runs a test that needs only one (``.ci/run`` runs the suite on SQLite, then
# on PostgreSQL; decision 16). Marked ``once_on_sqlite``: the browser journeys and the walks
# of every page for a preset's words, which check what a page shows and says, not the
# database under it (every rule they touch is also tested below the page, on both).
# Marked ``once_on_postgresql``: the API fuzzed, where PostgreSQL is the stricter of the two
# about what a value may be. ``ACCORD_EVERY_TEST=1`` runs every test on either database.
ONCE = {"once_on_sqlite": False, "once_on_postgresql": True}


def pytest_collection_modifyitems(config, items):
    on_postgres = (os.environ.get("DATABASE_URL") or "").startswith(("postgres", "postgresql"))
    every = os.environ.get("ACCORD_EVERY_TEST") == "1"
    kept, elsewhere = [], []
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.once_on_sqlite)
        sqlite_only = "once_on_sqlite" in item.keywords
        if sqlite_only and ("postgres_only" in item.keywords or "once_on_postgresql" in item.keywords):
            raise pytest.UsageError(
                f"{item.nodeid} would run on neither database: it is marked for both halves"
            )
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="runs on PostgreSQL only (CI runs the suite on both)"))
        runs_here = every or all(
            on_postgres == wants for mark, wants in ONCE.items() if mark in item.keywords
        )
        (kept if runs_here else elsewhere).append(item)
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = kept
