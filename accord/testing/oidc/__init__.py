"""A local OpenID Connect provider for the tests (``provider.mjs``, panva's oidc-provider
under Node.js, installed with the front-end's packages): started on a free port with the
clients a test gives, stopped after it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def local_provider(clients: list[dict]) -> Iterator[str]:
    """Runs the provider with these clients (``client_id``, ``client_secret``,
    ``redirect_uris``); yields its issuer URL."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(
            "The local OpenID Connect provider needs Node.js and `npm ci` (bin/setup does both)."
        )
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "CLIENTS": json.dumps(clients)}
    process = subprocess.Popen(  # noqa: S603 - our own script
        [node, str(HERE / "provider.mjs")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if line.startswith("listening "):
                break
            if process.poll() is not None:
                raise RuntimeError("The local OpenID Connect provider stopped as it started.")
        else:
            raise RuntimeError("The local OpenID Connect provider did not start in time.")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def sign_in_at_provider(authorize_url: str, login: str, *, back_to: str = "http://testserver") -> str:
    """Through the provider's development screens as a person would (sign in as ``login``,
    consent), without a browser: the address it sends them back to at ``back_to``."""
    session = requests.Session()
    url, method, data = authorize_url, "get", None
    for _step in range(12):
        response = session.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.status_code in (302, 303):
            url, method, data = urljoin(url, response.headers["location"]), "get", None
            if url.startswith(back_to):
                return url
            continue
        form = re.search(r'<form[^>]*action="([^"]+)"[^>]*method="post"', response.text)
        if form is None:
            raise AssertionError(f"the provider showed no form: {response.status_code} {response.text[:300]}")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text))
        if 'name="login"' in response.text:
            fields |= {"login": login, "password": "any"}
        url, method, data = urljoin(url, form.group(1)), "post", fields
    raise AssertionError("the provider did not send the person back")
