"""The load balancer's checks: /healthz (alive, with its database) and /readyz (ready: the
database answers and every migration this code needs is applied), open without signing in."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_node_is_ready_once_its_database_is_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": 0,
    }


def test_a_node_with_migrations_to_apply_is_not_ready(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("a migration", False)])
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["migrations"] == 1


def test_a_node_without_its_database_is_not_ready(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    def down(self, *args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(MigrationExecutor, "__init__", down)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"
