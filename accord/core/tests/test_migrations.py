"""The migrations: each of Accord's apps starts from one initial migration (the history before
the first release was folded into it), and a fresh database, on the engine the suite runs on
(CI runs it on SQLite and on PostgreSQL), migrates from nothing with the trail's triggers
and the search's trigram indexes in place."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parents[3]
APPS = ["api", "audit", "escalations", "notifications", "partnership", "reports"]


def test_each_apps_history_starts_from_one_initial_migration_in_one_line():
    """The history before the first release was folded into each app's ``0001_initial``;
    what follows it is one line of migrations, each after the one before (no branches to merge)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app in APPS:
        names = sorted(name for label, name in loader.disk_migrations if label == app)
        assert names[0] == "0001_initial", app
        for before, after in itertools.pairwise(names):
            assert (app, before) in loader.disk_migrations[(app, after)].dependencies, (app, after)
        assert len(loader.graph.leaf_nodes(app)) == 1, app


def manage(*args: str, database_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def _server(db: dict) -> str:
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{host}:{port}"


def _admin(db: dict, sql: str) -> None:
    """A statement outside any transaction (CREATE and DROP DATABASE need that)."""
    with psycopg.connect(f"{_server(db)}/postgres", autocommit=True) as admin:
        admin.execute(sql)


def test_a_fresh_database_migrates_from_nothing(tmp_path):
    db = settings.DATABASES["default"]
    if "postgresql" in db["ENGINE"]:
        name = f"accord_fresh_{uuid.uuid4().hex[:8]}"
        _admin(db, f'CREATE DATABASE "{name}"')
        url = f"{_server(db)}/{name}"
    else:
        name, url = None, f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    try:
        done = manage("migrate", "--noinput", database_url=url)
        assert done.returncode == 0, done.stderr[-2000:]
        check = manage("makemigrations", "--check", "--dry-run", database_url=url)
        assert check.returncode == 0, check.stdout[-2000:]
        if name:
            with psycopg.connect(url) as fresh:
                triggers = {
                    row[0]
                    for row in fresh.execute(
                        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_auditevent'::regclass"
                    )
                }
                indexes = {
                    row[0]
                    for row in fresh.execute(
                        "SELECT indexname FROM pg_indexes WHERE tablename = 'escalations_escalation'"
                    )
                }
            assert {"audit_append_only", "audit_no_truncate"} <= triggers
            assert {"escalation_reference_trgm", "escalation_summary_trgm"} <= indexes
    finally:
        if name:
            _admin(db, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
