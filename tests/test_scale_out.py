"""Accord on more than one machine, on PostgreSQL (CI runs it there): two gunicorn instances on
two ports and two workers against one database and one S3-compatible store (moto's server,
started here). A document uploaded through one node is downloaded through the other; the same
raise with the same Idempotency-Key through both makes one escalation; two workers running at
once send each email once; and the audit chain verifies after."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import psycopg
import pytest
from django.conf import settings
from moto.server import ThreadedMotoServer

pytestmark = pytest.mark.postgres_only

ROOT = Path(__file__).resolve().parents[1]
SETUP = """
import json
from accord.api.services import api_token_create
from accord.partnership.models import Partnership, User
p = Partnership.objects.get(slug="devon")
health = User.objects.get(username="practitioner.health")
social = p.agencies.get(name__startswith="Devon County Council Children")
_, token = api_token_create(actor=None, user=health)
_, reader = api_token_create(actor=None, user=User.objects.get(username="practitioner.social"))
print(json.dumps({"token": token, "reader": reader, "social": social.pk}))
"""
COUNTS = """
import json
from accord.escalations.models import Escalation
from accord.notifications.models import Notification
print(json.dumps({
    "with_key": Escalation.objects.filter(summary="Raised through two nodes").count(),
    "notifications": Notification.objects.exclude(email_state="digest").count(),
    "sent": Notification.objects.filter(email_state="sent").count(),
}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(  # our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def call(
    url: str, *, token: str, body: bytes | None = None, headers: dict | None = None, content_type: str = ""
):
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    request.add_header("Authorization", f"Bearer {token}")
    if content_type:
        request.add_header("Content-Type", content_type)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def multipart(field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@contextlib.contextmanager
def deployed(server: str, tmp_path: Path):
    """A fresh database on ``server`` with the demo loaded, moto's S3 server, and two gunicorn
    nodes of two workers each; yields their URLs, the environment and the demo's tokens."""
    name = f"accord_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    moto_port = free_port()
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    s3.start()
    endpoint = f"http://127.0.0.1:{moto_port}"
    boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    ).create_bucket(Bucket="accord-evidence")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DEBUG="1",
        DATABASE_URL=f"{server}/{name}",
        ACCORD_S3_BUCKET="accord-evidence",
        ACCORD_S3_ENDPOINT_URL=endpoint,
        ACCORD_S3_REGION="us-east-1",
        ACCORD_S3_ACCESS_KEY_ID="t",
        ACCORD_S3_SECRET_ACCESS_KEY="t",
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",  # each email on the worker's output
        ACCORD_AUDIT_CHECKPOINT_DIR=str(tmp_path / "checkpoints"),
        NOTIFY_WORKING_HOURS="0,24",
    )
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")
    made = json.loads(manage(env, "shell", "-c", SETUP).strip().splitlines()[-1])
    nodes, ports = [], [free_port(), free_port()]
    for port in ports:
        nodes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            for _ in range(120):
                try:
                    with urllib.request.urlopen(f"{url}/readyz", timeout=10) as ready:
                        if ready.status == 200:
                            break
                except OSError:  # not listening yet, or still starting (URLError is one)
                    time.sleep(0.25)
            else:
                pytest.fail(f"{url} never became ready")
        yield {"urls": urls, "env": env, **made}
    finally:
        for node in nodes:
            node.terminate()
            node.wait(timeout=30)
        s3.stop()
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def deployment(tmp_path):
    db = settings.DATABASES["default"]
    server = f"postgresql://{db['USER']}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    with deployed(server, tmp_path) as running:
        yield running


def raise_body(social: int, summary: str) -> bytes:
    return json.dumps(
        {
            "kind": "case",
            "immediate_danger": False,
            "with_agency": social,
            "with_practitioner": "practitioner.social",
            "summary": summary,
            "decision_challenged": "Closed after assessment",
            "concern": "Needs unmet",
            "evidence": "Missed appointments",
            "child_voice": "Says hungry",
            "tried_so_far": "Calls",
            "desired_outcome": "Assessment",
            "urgency": "routine",
            "area_of_disagreement": "levels-of-risk",
            "themes": ["neglect"],
            "children": [{"name": "R. S.", "date_of_birth": "2018-05-06", "agency_reference": ""}],
        }
    ).encode()


def test_two_nodes_and_two_workers_share_everything_and_lose_and_duplicate_nothing(deployment):
    a, b = deployment["urls"]
    token = deployment["token"]
    body = raise_body(deployment["social"], "Raised through two nodes")
    key = {"Idempotency-Key": f"scale-{uuid.uuid4().hex}"}
    first_status, first = call(
        f"{a}/api/v1/escalations", token=token, body=body, headers=key, content_type="application/json"
    )
    again_status, again = call(
        f"{b}/api/v1/escalations", token=token, body=body, headers=key, content_type="application/json"
    )
    assert first_status == again_status == 201, (first, again)
    escalation = json.loads(first)["id"]
    assert json.loads(again)["id"] == escalation
    # A document uploaded through one node is read through the other (the object store).
    evidence = b"Minutes of the core group, 3 November."
    upload, content_type = multipart("file", "minutes.txt", evidence)
    status, added = call(
        f"{a}/api/v1/escalations/{escalation}/documents", token=token, body=upload, content_type=content_type
    )
    assert status == 201, added
    listed = json.loads(call(f"{b}/api/v1/escalations/{escalation}/documents", token=deployment["reader"])[1])
    status, read = call(
        f"{b}/api/v1/escalations/{escalation}/documents/{listed[0]['id']}", token=deployment["reader"]
    )
    assert status == 200 and read == evidence
    # Two workers at once: every email sent once.
    env = deployment["env"]
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0]
    assert not any("failed" in err for _out, err in outputs), [err for _out, err in outputs]
    counts = json.loads(manage(env, "shell", "-c", COUNTS).strip().splitlines()[-1])
    assert counts["with_key"] == 1
    ids = [line for out, _err in outputs for line in out.splitlines() if line.startswith("Message-ID:")]
    assert counts["sent"] == len(ids) == len(set(ids)) > 0  # (each a Message-ID of its own)
    # The audit chain, written by both nodes and the workers, verifies.
    assert "the audit trail is intact" in manage(env, "verify_audit").lower()


# ------------------------------------------------------------------ PostgreSQL restarted under load

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RESTART_COUNTS = """
import json
from accord.escalations import tallies, visibility
from accord.escalations.models import DailyTally, Escalation
from accord.api.models import IdempotencyRecord
kept = {(t.partnership_id, t.day, t.dimension, t.key): t.n for t in DailyTally.objects.all() if t.n}
raised = list(Escalation.objects.filter(summary__startswith="Under restart ").values_list("summary", flat=True))
for p in {t[0] for t in kept}:
    tallies.rebuild(p)
again = {(t.partnership_id, t.day, t.dimension, t.key): t.n for t in DailyTally.objects.all() if t.n}
print(json.dumps({
    "raised": len(raised),
    "distinct": len(set(raised)),
    "keys": IdempotencyRecord.objects.filter(key__startswith="restart-").count(),
    "visibility": list(visibility.differences()),
    "tallies_exact": kept == again,
}))
"""


@pytest.fixture
def own_postgresql():
    """A PostgreSQL server of the test's own (initdb in a temporary folder, on a free port),
    so that restarting it touches nothing else on the machine, the suite's own database
    included. Run as the ``postgres`` account when the tests run as root (initdb refuses root)."""
    initdb, pg_ctl = PG_BIN / "initdb", PG_BIN / "pg_ctl"
    if not initdb.exists():
        pytest.fail(f"PostgreSQL's server programs are needed at {PG_BIN} (Debian's postgresql package)")
    # In /tmp itself: the postgres account must reach it (pytest's own folders are root's alone).
    data = Path(tempfile.mkdtemp(prefix="accord-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres", str(data)], check=True)
        as_owner = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_owner, *args], check=True, capture_output=True, text=True, timeout=120)

    run(str(initdb), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
    run(str(pg_ctl), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start")

    def restart() -> None:
        # (-l: the server's output to its log, not to this run's pipes, which it would hold open.)
        run(
            str(pg_ctl),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-m",
            "fast",
            "-w",
            "restart",
        )

    try:
        yield f"postgresql://postgres@127.0.0.1:{port}", restart
    finally:
        run(str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(data, ignore_errors=True)


def test_a_bounded_load_across_both_nodes_while_postgresql_restarts_loses_and_duplicates_nothing(
    own_postgresql, tmp_path
):
    server, restart = own_postgresql
    with deployed(server, tmp_path) as running:
        a, b = running["urls"]
        token, social = running["token"], running["social"]
        n = 40
        halfway = threading.Event()
        answers: dict[int, tuple[int, int]] = {}

        def raise_one(i: int) -> None:
            """As a partner system would: retry with the same key until it is answered."""
            body = raise_body(social, f"Under restart {i}")
            key = {"Idempotency-Key": f"restart-{i}"}
            tries, deadline = 0, time.monotonic() + 90
            while time.monotonic() < deadline:
                tries += 1
                try:
                    status, answer = call(
                        f"{(a, b)[(i + tries) % 2]}/api/v1/escalations",
                        token=token,
                        body=body,
                        headers=key,
                        content_type="application/json",
                    )
                except OSError:  # the node could not answer at all
                    status, answer = 0, b""
                if i == n // 2:
                    halfway.set()
                if status == 201:
                    answers[i] = (json.loads(answer)["id"], tries)
                    return
                time.sleep(0.2)

        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            futures = [pool.submit(raise_one, i) for i in range(n)]
            halfway.wait(timeout=60)
            restart()  # in the middle of the load: the connections every node holds are cut
            for future in futures:
                future.result()
        # Every raise was answered (some after retrying), each with an escalation of its own.
        assert sorted(answers) == list(range(n))
        assert len({escalation for escalation, _tries in answers.values()}) == n
        counts = json.loads(manage(running["env"], "shell", "-c", RESTART_COUNTS).strip().splitlines()[-1])
        assert counts["raised"] == counts["distinct"] == counts["keys"] == n  # none lost, none twice
        assert counts["visibility"] == [0, 0, 0] and counts["tallies_exact"]
        # The restart was felt: some raises were answered only on a later try.
        retried = sum(1 for _escalation, tries in answers.values() if tries > 1)
        print(f"raises retried after the restart: {retried} of {n}")
        assert retried > 0
        manage(running["env"], "audit_checkpoint")
        assert "the audit trail is intact" in manage(running["env"], "verify_audit").lower()
