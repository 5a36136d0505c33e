"""Reports from a read replica: with ``DATABASE_REPLICA_URL`` set, the report figures are
read from the replica (here a copy of the primary taken before one more escalation was
raised), while writes and a single escalation's visibility stay on the primary. Run in a
process of its own, with two SQLite databases, so that the two really are apart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import datetime as dt, json
from django.db import connections
from accord.escalations.models import Escalation
from accord.escalations.selectors import escalation_get
from accord.partnership.models import Partnership, User
from accord.reports.selectors import Period, pdg_figures
from accord.testing.factories import raise_details
from accord.escalations import services

p = Partnership.objects.get(slug="devon")
raiser = User.objects.get(username="practitioner.health")
social = p.agencies.get(name__startswith="Devon County Council Children")
e = services.escalation_raise(
    actor=raiser, partnership=p, immediate_danger=False,
    details=raise_details(with_agency=social, with_practitioner_username="practitioner.social"),
)
wide = Period(dt.date(2000, 1, 1), dt.date(2100, 1, 1))
print(json.dumps({
    "report_total": pdg_figures(p, wide).total,
    "primary": Escalation.objects.filter(partnership=p).count(),
    "replica": Escalation.objects.using("replica").filter(partnership=p).count(),
    "single_on_primary": escalation_get(user=raiser, pk=e.pk).pk == e.pk,
}))
"""


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_the_reports_read_the_replica_and_everything_else_the_primary(tmp_path):
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{primary}"}
    env.pop("DATABASE_REPLICA_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the settings manage.py runs with, not the tests'
    for step in (("migrate", "--noinput"), ("load_demo",)):
        done = run(*step, env=env)
        assert done.returncode == 0, done.stderr[-2000:]
    shutil.copy(primary, replica)  # the replica as it was before the next escalation
    env["DATABASE_REPLICA_URL"] = f"sqlite:///{replica}"
    done = run("shell", "-c", SCRIPT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["primary"] == seen["replica"] + 1  # the write went to the primary only
    assert seen["report_total"] == seen["replica"]  # the report read the replica
    assert seen["single_on_primary"] is True  # a single escalation's visibility: the primary
