"""The test suite's PostgreSQL backend: Django's, except that emptying the database
between transactional tests passes the audit trail's TRUNCATE trigger.

PostgreSQL refuses TRUNCATE of the audit trail (audit migration 0009). The suite's
database role is a superuser, which may run the flush as a replica would, with ordinary
triggers off for that one transaction. Only config/settings/test.py uses this backend.
"""

from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        return ["SET LOCAL session_replication_role = replica", *statements] if statements else statements


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
