"""Every Python package installed for Accord is pinned, the ones it pulls in included."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parents[3] / "requirements"
# Installed with the virtual environment itself, not by Accord's requirements.
TOOLING = {"pip", "setuptools", "wheel"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            pins[_normalise(name.split("[", 1)[0])] = version.strip()
    return pins


def test_the_constraints_pin_every_installed_package_at_its_installed_version():
    pinned = _pins(REQUIREMENTS / "constraints.txt")
    installed = {
        _normalise(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if _normalise(d.metadata["Name"]) not in TOOLING
    }
    assert {name: v for name, v in installed.items() if pinned.get(name) != v} == {}


def test_the_top_level_pins_agree_with_the_constraints():
    pinned = _pins(REQUIREMENTS / "constraints.txt")
    for file in ("base.txt", "dev.txt"):
        for name, version in _pins(REQUIREMENTS / file).items():
            assert pinned.get(name) == version, (file, name)
