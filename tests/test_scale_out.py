"""Accord on more than one machine, on PostgreSQL (CI runs it there): two gunicorn instances on
two ports and two workers against one database and one S3-compatible store (moto's server,
started here). A document uploaded through one node is downloaded through the other; the same
raise with the same Idempotency-Key through both makes one escalation; two workers running at
once send each email once; and the audit chain verifies after."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
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


@pytest.fixture
def deployment(tmp_path):
    db = settings.DATABASES["default"]
    server = f"postgresql://{db['USER']}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
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
    for node in nodes:
        node.terminate()
        node.wait(timeout=30)
    s3.stop()
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_two_nodes_and_two_workers_share_everything_and_lose_and_duplicate_nothing(deployment):
    a, b = deployment["urls"]
    token = deployment["token"]
    body = json.dumps(
        {
            "kind": "case",
            "immediate_danger": False,
            "with_agency": deployment["social"],
            "with_practitioner": "practitioner.social",
            "summary": "Raised through two nodes",
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
