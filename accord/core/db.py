"""Reading reports from a replica: where ``DATABASE_REPLICA_URL`` names one, the report
figures (the PDG standing item, its downloads, the annual report and the API's figures) are
read there inside ``reports_from_replica()``; every write, and every read outside that block
(each visibility decision for a single escalation among them), stays on the primary. Without
a replica nothing changes."""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

REPLICA = "replica"
_reading_reports = contextvars.ContextVar("accord_reading_reports", default=False)


def has_replica() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def reports_from_replica() -> Iterator[None]:
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def on_replica(function):
    """A report selector whose reads all go to the replica, when there is one."""

    @functools.wraps(function)
    def reading(*args, **kwargs):
        with reports_from_replica():
            return function(*args, **kwargs)

    return reading


def reports_alias() -> str:
    """The database a report's reads go to now (for raw SQL, which no router sees)."""
    return REPLICA if _reading_reports.get() and has_replica() else DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Reads inside ``reports_from_replica()`` go to the replica; everything else to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading_reports.get() and has_replica() else None

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the primary: the same rows

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary by replication
