"""The test suite's PostgreSQL backend: Django's, except that emptying the database
between transactional tests passes the audit trail's TRUNCATE trigger, and deletes.

PostgreSQL refuses TRUNCATE of the audit trail (audit migration 0009). The suite's
database role is a superuser, which may run the flush as a replica would, with ordinary
triggers off for that one transaction. Only config/settings/test.py uses this backend.

A transactional test leaves a few rows in a few of a hundred tables: a DELETE of each
table takes a fraction of the time of one TRUNCATE of them all, which makes a new file for
every table and index. (With the foreign keys' triggers off, the order does not matter.)
A flush that restarts the sequences is Django's own TRUNCATE.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables:
            return []
        if reset_sequences:
            statements = super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        else:
            statements = [
                f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
                for table in tables
            ]
        return ["SET LOCAL session_replication_role = replica", *statements]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
