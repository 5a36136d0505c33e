"""Rows built once and copied into each test that asks for them: the demo partnerships
(some 4,000 statements through the services) in one statement a table.

``Snapshot.capture(build)`` runs ``build()`` in a transaction that is undone, and keeps
every row it added to any table, exactly as written (ids, audit chain and all). Its
``copy()`` inserts those rows into the test's database, or answers False (having written
nothing) where they cannot be copied as they are: a row of theirs is there already (the
test made its own first), the building changed or removed a row that was there before
(a copy could not repeat that), or the day has changed since they were built (the demo's
dates are counted back from the day it was built). The caller then builds instead, so a
test sees the same rows either way.

PostgreSQL's sequences are not undone with the transaction, so rows the test adds after a
copy take ids above the copied ones; SQLite's move past the ids a copy inserts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection, transaction

from accord.core import clock

_SKIPPED = {"django_migrations", "sqlite_sequence"}


def empty_caches() -> None:
    """What is kept by row id (the API's rate limit, per token; the ladders each process
    keeps, per partnership), forgotten: ids are reused after a rollback."""
    from django.core.cache import cache

    from accord.partnership import protocol

    cache.clear()
    protocol._LADDERS.clear()  # kept by partnership id and version, both reused after a rollback


def _tables() -> list[str]:
    return [t for t in connection.introspection.table_names(include_views=False) if t not in _SKIPPED]


def _rows(cursor, table: str) -> Counter:
    quoted = connection.ops.quote_name(table)
    if connection.vendor == "postgresql":
        # Every column as PostgreSQL writes it in JSON, read back by json_populate_recordset.
        cursor.execute(f"SELECT row_to_json(t)::text FROM {quoted} AS t")  # noqa: S608 - a table's own name
        return Counter(row[0] for row in cursor.fetchall())
    cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 - a table's own name
    return Counter(tuple(row) for row in cursor.fetchall())


def _all_rows() -> dict[str, Counter]:
    with connection.cursor() as cursor:
        return {table: _rows(cursor, table) for table in _tables()}


class Snapshot:
    def __init__(self, added: dict[str, list], built_on, result: Any) -> None:
        self.added = added
        self.built_on = built_on
        self.result = result

    @classmethod
    def capture(cls, build: Callable[[], Any], *, on: Callable[[], Any] | None = None) -> Snapshot | None:
        """The rows ``build()`` adds, and what it answered; None where building changed or
        removed a row that was there before. ``on()``, run first, makes what the rows are
        built on (another snapshot's copy): its own rows are not kept."""
        with transaction.atomic():
            if on is not None:
                on()
            before = _all_rows()
            result = build()
            after = _all_rows()
            transaction.set_rollback(True)
        added, changed = {}, False
        for table, rows in after.items():
            kept = before.get(table, Counter())
            if kept - rows:
                changed = True
            new = list((rows - kept).elements())
            if new:
                added[table] = new
        return None if changed else cls(added, clock.today(), result)

    def copy(self) -> bool:
        """The rows inserted into the database (True), or nothing written (False)."""
        if clock.today() != self.built_on:
            return False
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for table, rows in self.added.items():
                    quoted = connection.ops.quote_name(table)
                    if connection.vendor == "postgresql":
                        cursor.execute(
                            f"INSERT INTO {quoted} SELECT * FROM json_populate_recordset(NULL::{quoted}, %s)",  # noqa: S608
                            ["[" + ",".join(rows) + "]"],
                        )
                    else:
                        marks = ", ".join(["%s"] * len(rows[0]))
                        cursor.executemany(f"INSERT INTO {quoted} VALUES ({marks})", rows)  # noqa: S608
        except DatabaseError:
            return False
        return True
