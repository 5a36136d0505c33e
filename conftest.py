"""Shared fixtures for Accord's tests."""

from __future__ import annotations

import os

import pytest

from accord.testing.factories import World


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def other_world(db) -> World:
    return World(name="Otherton", prefix="OTH")


def pytest_collection_modifyitems(config, items):
    on_postgres = (os.environ.get("DATABASE_URL") or "").startswith(("postgres", "postgresql"))
    for item in items:
        if "postgres_only" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="runs on PostgreSQL only (CI runs the suite on both)"))
