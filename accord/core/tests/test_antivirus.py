"""The optional ClamAV scan, against a stand-in clamd speaking the INSTREAM protocol."""

import socket
import struct
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.escalations import services

pytestmark = pytest.mark.django_db
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def fake_clamd(path, stop):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(5)
    server.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        with conn:
            assert conn.recv(10) == b"zINSTREAM\0"
            data = b""
            while True:
                size = struct.unpack("!L", conn.recv(4))[0]
                if size == 0:
                    break
                while size:
                    chunk = conn.recv(size)
                    data += chunk
                    size -= len(chunk)
            conn.sendall(b"stream: Eicar-Test-Signature FOUND\0" if b"EICAR" in data else b"stream: OK\0")
    server.close()


@pytest.fixture
def clamd(tmp_path, settings):
    path = tmp_path / "clamd.sock"
    stop = threading.Event()
    thread = threading.Thread(target=fake_clamd, args=(path, stop), daemon=True)
    thread.start()
    settings.CLAMAV_SOCKET = str(path)
    yield path
    stop.set()
    thread.join(timeout=2)


def test_a_clean_file_is_stored_and_an_infected_one_refused(world, clamd):
    e = world.raised()
    services.escalation_add_document(
        actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("a.txt", b"clean words")
    )
    with pytest.raises(ValidationError) as refused:
        services.escalation_add_document(
            actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("b.txt", EICAR)
        )
    assert "contains a virus" in str(refused.value)
    assert e.documents.count() == 1


def test_an_unreachable_scanner_refuses_uploads(world, settings, tmp_path):
    settings.CLAMAV_SOCKET = str(tmp_path / "nothing-here.sock")
    e = world.raised()
    with pytest.raises(ValidationError) as refused:
        services.escalation_add_document(
            actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("a.txt", b"words")
        )
    assert "could not be checked" in str(refused.value)
    assert e.documents.count() == 0
