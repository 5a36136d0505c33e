"""Shared fixtures for Accord's tests."""

from __future__ import annotations

import os

import pytest

from accord.testing.factories import World


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with empty caches: row ids are reused after a test's rollback, so
    what is kept under one (the API's rate limit, per token; the ladders each process
    keeps, per partnership) must not carry over."""
    from django.core.cache import cache

    from accord.partnership import protocol

    cache.clear()
    protocol._LADDERS.clear()  # kept by partnership id and version, both reused after a rollback
    yield


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def other_world(db) -> World:
    return World(name="Otherton", prefix="OTH")


@pytest.fixture
def neighbour(world) -> World:
    """A second partnership sharing ``world``'s health agency: its health people work for
    the same trust but hold roles only in the neighbouring partnership."""
    return World(name="Neighbourton", prefix="NBR", shares_health_with=world)


def pytest_collection_modifyitems(config, items):
    on_postgres = (os.environ.get("DATABASE_URL") or "").startswith(("postgres", "postgresql"))
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="runs on PostgreSQL only (CI runs the suite on both)"))
