"""The demo partnerships for the tests, built once a session and copied into each test
(accord/testing/snapshots.py); built in the test where a copy cannot be made."""

from __future__ import annotations

from accord.partnership.models import Partnership, User
from accord.testing.snapshots import Snapshot
from accord.web.demo import DEMO_USERS, load_caseload, load_demo, load_partnership, load_users


def devon_people() -> tuple[Partnership, dict[str, User]]:
    """Devon's demo partnership and its people, built: what ``load_partnership`` and
    ``load_users`` answer."""
    partnership = load_partnership()
    return partnership, load_users(partnership)


def devon_as_copied() -> tuple[Partnership, dict[str, User]]:
    """The same, read from the database after a copy."""
    people = User.objects.in_bulk([u[0] for u in DEMO_USERS], field_name="username")
    return Partnership.objects.get(slug="devon"), {u[0]: people[u[0]] for u in DEMO_USERS}


def capture_devon() -> tuple[Snapshot | None, Snapshot | None]:
    """Devon's people, and its caseload on a copy of them (so that the caseload's rows
    point at the people's ids)."""
    people = Snapshot.capture(devon_people)
    if people is None:
        return None, None
    return people, Snapshot.capture(lambda: load_caseload(*devon_as_copied()), on=people.copy)


def devon(snapshots) -> tuple[Partnership, dict[str, User]]:
    people, _ = snapshots
    if people is not None and people.copy():
        return devon_as_copied()
    return devon_people()


def devon_caseload(snapshots, demo_users) -> None:
    """Devon's demo caseload on ``demo_users`` (what ``devon`` answered)."""
    _, caseload = snapshots
    if caseload is None or not caseload.copy():
        load_caseload(*demo_users)


def capture_demo() -> Snapshot | None:
    """Both demo partnerships, as ``load_demo`` builds them."""
    return Snapshot.capture(load_demo)


def demo(snapshot: Snapshot | None) -> None:
    if snapshot is None or not snapshot.copy():
        load_demo()
