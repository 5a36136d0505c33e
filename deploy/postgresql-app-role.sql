-- The privileges of the PostgreSQL role Accord runs as (here `accord_app`), which does not
-- own Accord's tables. Run as the owner (the role `manage.py migrate` runs as), after every
-- migrate: the grants cover the tables that exist when they are run.
--
-- The audit trail can be appended to and read, never changed, deleted or emptied; and as
-- the role owns no table, it cannot switch off the triggers that refuse those either.
GRANT USAGE ON SCHEMA public TO accord_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO accord_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO accord_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_auditevent FROM accord_app;
-- A read waiting to be chained is written and, once chained by the worker, deleted; never
-- changed or emptied.
REVOKE UPDATE, TRUNCATE ON audit_pendingread FROM accord_app;
