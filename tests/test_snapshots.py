"""The suite's copied partnerships (accord/testing/snapshots.py): a copy is the rows the
building wrote, ids, audit chain and all; where it cannot be that, it writes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from accord.audit.services import audit_verify
from accord.escalations.models import Escalation
from accord.partnership.models import Partnership
from accord.testing.snapshots import Snapshot, _all_rows

pytestmark = pytest.mark.django_db


def test_a_copy_is_the_rows_the_demo_was_built_with(_demo_rows):
    assert _demo_rows is not None
    before = _all_rows()
    assert _demo_rows.copy()
    after = _all_rows()
    added = {table: list((rows - before.get(table, Counter())).elements()) for table, rows in after.items()}
    assert {t: Counter(r) for t, r in added.items() if r} == {
        t: Counter(r) for t, r in _demo_rows.added.items()
    }
    assert audit_verify()[0]
    assert set(Partnership.objects.values_list("slug", flat=True)) == {"devon", "torbay"}
    assert Escalation.objects.count() >= 30


def test_a_second_copy_writes_nothing(_demo_rows):
    assert _demo_rows.copy()
    rows = _all_rows()
    assert not _demo_rows.copy()
    assert _all_rows() == rows


def test_a_copy_on_another_day_than_the_building_writes_nothing(_demo_rows, monkeypatch):
    monkeypatch.setattr(_demo_rows, "built_on", _demo_rows.built_on - dt.timedelta(days=1))
    rows = _all_rows()
    assert not _demo_rows.copy()
    assert _all_rows() == rows


def test_building_that_changes_a_row_already_there_is_not_kept(world):
    def rename():
        world.partnership.name = "Renamed"
        world.partnership.save(update_fields=["name"])

    assert Snapshot.capture(rename) is None
