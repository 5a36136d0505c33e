"""Evidence in object storage: with ``ACCORD_S3_BUCKET`` set, documents go to an
S3-compatible store (here moto's S3 server, started by the test on this machine, never a
network service), encrypted before they leave Accord, private, and read back only through the
view that checks permission."""

from __future__ import annotations

import socket

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from accord.escalations import services
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
BUCKET = "accord-evidence"
EVIDENCE = b"Notes of the strategy discussion: the school was not invited."


@pytest.fixture(scope="module")
def s3_server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def object_store(s3_server, settings, monkeypatch):
    for name, value in {
        "ACCORD_S3_ENDPOINT_URL": s3_server,
        "ACCORD_S3_REGION": "eu-west-2",
        "ACCORD_S3_ACCESS_KEY_ID": "testing",
        "ACCORD_S3_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    from config.settings.base import object_storage

    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="eu-west-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
    settings.STORAGES = {**settings.STORAGES, "default": object_storage(BUCKET)}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_evidence_is_kept_in_the_object_store_encrypted_private_and_read_through_the_view(
    client, world, object_store
):
    e = world.raised()
    document = services.escalation_add_document(
        actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("notes.txt", EVIDENCE)
    )
    keys = [item["Key"] for item in object_store.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [document.file.name] or keys == [f"accord/{document.file.name}"]
    stored = object_store.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read()
    assert EVIDENCE not in stored and b"strategy" not in stored  # encrypted before it left
    grants = object_store.get_object_acl(Bucket=BUCKET, Key=keys[0])["Grants"]
    assert all(g["Grantee"].get("URI", "").endswith("AllUsers") is False for g in grants)  # not public
    _document, content = services.escalation_document_read(
        actor=world.practitioner_social, escalation=e, document_id=document.pk
    )
    assert content == EVIDENCE
    sign_in(client, world.practitioner_social)
    response = client.get(f"/escalations/{e.pk}/documents/{document.pk}/")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200 and body == EVIDENCE
    client.logout()
    sign_in(client, world.practitioner_other)
    assert client.get(f"/escalations/{e.pk}/documents/{document.pk}/").status_code == 404
