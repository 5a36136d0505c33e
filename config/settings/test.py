"""Settings for the test suite: the base settings with fast, isolated choices."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "accord-test-suite-key-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("ACCORD_DERIVE_DEV_KEYS", "1")
# Single sign-on is switched on in the tests, against a provider that is never called.
os.environ.setdefault("OIDC_RP_CLIENT_ID", "accord-test")
os.environ.setdefault("OIDC_OP_AUTHORIZATION_ENDPOINT", "https://idp.example.invalid/authorize")
os.environ.setdefault("OIDC_OP_TOKEN_ENDPOINT", "https://idp.example.invalid/token")
os.environ.setdefault("OIDC_OP_USER_ENDPOINT", "https://idp.example.invalid/userinfo")
os.environ.setdefault("OIDC_OP_JWKS_ENDPOINT", "https://idp.example.invalid/jwks")
os.environ.setdefault("OIDC_PROVIDER_NAME", "Testshire ID")

from .base import *

DEBUG = False
# The suite runs with DEBUG off on keys derived from SECRET_KEY, which a deployment's server
# and worker refuse (accord/core/checks.py): the suite's own commands may use them.
ACCORD_REFUSE_WEAK_KEYS = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a flush between transactional tests that passes the audit
    # trail's TRUNCATE trigger (accord/testing/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "accord.testing.postgresql"
    # The suite's commits (transactional tests, their flushes, migrating the test database)
    # need not wait for the disk: a crash loses only the throwaway test database. This
    # connection's setting alone; PostgreSQL's own configuration is untouched.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
# A test's transaction never commits, so recounts that wait for a commit would never run:
# the suite recounts in the change's own transaction (a test with a real commit checks
# the other way, accord/escalations/tests/test_visibility_table.py).
ACCORD_RECOUNT_AFTER_COMMIT = False
# An audit payload that does not fit its verb's schema fails the test that wrote it.
ACCORD_AUDIT_STRICT = True
# The tests' own OpenID Connect provider listens on plain HTTP on 127.0.0.1.
ACCORD_SIGN_IN_ALLOW_HTTP = True
# Argon2 is the production hasher (tested); tests use a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tempfile.mkdtemp(prefix="accord-test-uploads-")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ACCORD_AUDIT_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="accord-test-audit-checkpoints-")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# SMTP (Django's test outbox), whatever the environment says: the GOV.UK Notify tests set
# these themselves, against their own stand-in (accord/testing/notify.py).
ACCORD_NOTIFY_API_KEY = ""
ACCORD_NOTIFY_TEMPLATES = {}

# Most tests sign in with the test client, which axes cannot see; the lock-out tests switch it on.
AXES_ENABLED = False
ACCORD_BASE_URL = "https://accord.test"

# Every refusal the matrices provoke (thousands of 403s and 404s) would otherwise be logged
# with its traceback and captured by pytest; a server error (5xx) is still logged, and the
# tests assert the answers themselves. The application's own warnings still show.
LOGGING = {
    **LOGGING,
    "loggers": {**LOGGING["loggers"], "django.request": {"level": "ERROR"}},
    "root": {**LOGGING["root"], "level": "WARNING"},
}
