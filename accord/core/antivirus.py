"""An optional virus scan of uploads by ClamAV's daemon (clamd), over its INSTREAM command.

Switched on by ``CLAMAV_SOCKET`` (a Unix socket path) or ``CLAMAV_HOST`` and
``CLAMAV_PORT``. When it is on and the daemon cannot be reached, uploads are refused
(fail closed) rather than stored unchecked.
"""

from __future__ import annotations

import socket
import struct

from django.conf import settings

CHUNK = 64 * 1024


class ScanUnavailable(Exception):
    pass


def enabled() -> bool:
    return bool(getattr(settings, "CLAMAV_SOCKET", "") or getattr(settings, "CLAMAV_HOST", ""))


def _connect() -> socket.socket:
    timeout = getattr(settings, "CLAMAV_TIMEOUT", 30)
    try:
        if settings.CLAMAV_SOCKET:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(settings.CLAMAV_SOCKET)
            return sock
        return socket.create_connection((settings.CLAMAV_HOST, int(settings.CLAMAV_PORT)), timeout=timeout)
    except OSError as exc:
        raise ScanUnavailable(str(exc)) from exc


def scan(data: bytes) -> str | None:
    """The name of the virus found in ``data``, or None if it is clean."""
    with _connect() as sock:
        try:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK):
                chunk = data[start : start + CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                part = sock.recv(4096)
                if not part:
                    break
                reply += part
        except OSError as exc:
            raise ScanUnavailable(str(exc)) from exc
    text = reply.rstrip(b"\0").decode("utf-8", "replace")
    if text.endswith("FOUND"):
        return text.split(":", 1)[-1].removesuffix("FOUND").strip()
    if text.endswith("OK"):
        return None
    raise ScanUnavailable(text or "no answer from the scanner")
