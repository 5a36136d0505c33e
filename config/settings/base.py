"""Accord's settings, read from the environment.

Development needs nothing set except ``DEBUG=1`` (the README's run command sets
it).  With ``DEBUG`` off, ``SECRET_KEY`` and ``ALLOWED_HOSTS`` must be given and
the hardened defaults in ``production.py`` apply.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# An audit payload that does not fit its verb's schema (accord/audit/payloads.py): refused
# while developing, logged in a running deployment (the entry is still written).
ACCORD_AUDIT_STRICT = env_bool("ACCORD_AUDIT_STRICT", DEBUG)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        # Development only: a fixed key is harmless when DEBUG is on and nothing is deployed.
        SECRET_KEY = "accord-development-only-key-not-for-any-deployed-instance-0123456789"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set in the environment when DEBUG is off (set DEBUG=1 for local development)."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    if DEBUG:
        ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
    else:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS must be set in the environment when DEBUG is off, "
            "as a comma-separated list of host names."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Encryption at rest (accord/core/crypto.py): Fernet keys, newest first, and the key of
# the lookup hashes. Required when DEBUG is off; derived from SECRET_KEY in development.
ACCORD_ENCRYPTION_KEYS = env_list("ACCORD_ENCRYPTION_KEYS")
ACCORD_LOOKUP_KEY = os.environ.get("ACCORD_LOOKUP_KEY", "")
# The key of the audit trail's chain (accord/audit/chain.py). It is never stored in the
# database, so an entry cannot be rewritten there and re-chained without it.
ACCORD_AUDIT_KEY = os.environ.get("ACCORD_AUDIT_KEY", "")
# Where `manage.py audit_checkpoint` records the trail's newest entry, outside the database.
ACCORD_AUDIT_CHECKPOINT_DIR = os.environ.get(
    "ACCORD_AUDIT_CHECKPOINT_DIR", str(BASE_DIR / "var" / "audit-checkpoints")
)
# Whether a key was derived from SECRET_KEY (development only: `check --deploy` refuses it).
ACCORD_KEYS_DERIVED = False
if not ACCORD_ENCRYPTION_KEYS or not ACCORD_LOOKUP_KEY or not ACCORD_AUDIT_KEY:
    if DEBUG or os.environ.get("ACCORD_DERIVE_DEV_KEYS") == "1":
        ACCORD_KEYS_DERIVED = True
        import base64
        import hashlib

        ACCORD_ENCRYPTION_KEYS = ACCORD_ENCRYPTION_KEYS or [
            base64.urlsafe_b64encode(hashlib.sha256(b"encryption:" + SECRET_KEY.encode()).digest()).decode()
        ]
        ACCORD_LOOKUP_KEY = ACCORD_LOOKUP_KEY or hashlib.sha256(b"lookup:" + SECRET_KEY.encode()).hexdigest()
        ACCORD_AUDIT_KEY = ACCORD_AUDIT_KEY or hashlib.sha256(b"audit:" + SECRET_KEY.encode()).hexdigest()
    else:
        raise ImproperlyConfigured(
            "ACCORD_ENCRYPTION_KEYS, ACCORD_LOOKUP_KEY and ACCORD_AUDIT_KEY must be set when DEBUG is off: "
            "see the README's Configuration section."
        )


INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rules.apps.AutodiscoverRulesConfig",
    "govuk_frontend_django",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "accord.core",
    "accord.audit",
    "accord.partnership",
    "accord.escalations",
    "accord.api",
    "accord.notifications",
    "accord.reports",
    "accord.web",
    "accord.performance",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "accord.core.clientip.CurrentClientMiddleware",
    "accord.api.middleware.ApiProblemMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accord.core.request_memo.RequestMemoMiddleware",
    # (Before any middleware reads the body: the CSRF check does, in its process_view.)
    "accord.core.middleware.DeclaredLengthMiddleware",
    "accord.core.middleware.SessionRenewalMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accord.core.middleware.LoginRequiredMiddleware",
    "accord.web.middleware.CurrentPartnershipMiddleware",
    # A guest's session (not a log-in): every page but the guest's own is "not found" to it.
    "accord.web.guest_session.GuestOnlyMiddleware",
    # A signed-in person's (or a guest's) own language over the cookie's and the browser's.
    "accord.web.language.PersonLanguageMiddleware",
    "accord.web.mfa.TwoStepRequiredMiddleware",
    "accord.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "accord" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accord.web.context_processors.accord",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a competing writer rather than failing at once; take the write
    # lock at the start of each transaction so that the escalation row checks
    # in the services behave as they do with SELECT ... FOR UPDATE.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

# A read replica for the reports, if there is one (``accord.core.db``).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["accord.core.db.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "partnership.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "accord.web.backends.AccordModelBackend",
    # Each agency's own OpenID Connect provider, kept in the database (accord/web/sign_in.py).
    "accord.web.sign_in.AgencyOIDCBackend",
]

# Optional single sign-on through OpenID Connect (accord/web/oidc.py).
OIDC_ENABLED = bool(os.environ.get("OIDC_RP_CLIENT_ID"))
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("accord.web.oidc.AccordOIDCBackend")
    OIDC_RP_CLIENT_ID = os.environ["OIDC_RP_CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
    OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
    OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
    OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
    OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
    OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = "openid email"
    OIDC_CREATE_USER = False
    OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your organisation")
    LOGIN_REDIRECT_URL_FAILURE = "/login/?sso=failed"

PASSWORD_HASHERS = [
    # Argon2id at OWASP's recommended cost; it also checks (and upgrades) hashes made with
    # Django's own Argon2 settings, since the parameters are stored in each hash.
    "accord.core.hashers.AccordArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Two-step verification (TOTP, with recovery codes): required for these roles, open to all.
MFA_REQUIRED_ROLES = env_list("MFA_REQUIRED_ROLES", "pdg_member,pdg_chair,business_unit,auditor,executive")
OTP_TOTP_ISSUER = "Accord"

# Lock-out after repeated failed log-ins, per username and address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# How many proxies in front of Accord append to X-Forwarded-For (0: none, the connection's
# address is the client's). The lock-out and the audit trail read the client the same way.
ACCORD_TRUSTED_PROXIES = int(os.environ.get("ACCORD_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "accord.core.clientip.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after a period of inactivity (seconds). A signed-in request renews the
# session at most once a minute (accord.core.middleware.SessionRenewalMiddleware), not on
# every request: the idle limit is met to within that minute, never exceeded.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", str(30 * 60)))
SESSION_RENEW_SECONDS = 60
# WCAG 2.2.1: the page warns this long before the idle limit signs someone out, and offers
# to keep them signed in.
SESSION_WARN_SECONDS = int(os.environ.get("SESSION_WARN_SECONDS", "120"))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

LANGUAGE_CODE = "en-gb"
# Welsh (cy) for Wales's boards: every page, email and document (README "Welsh"). The
# catalogue is accord/locale/cy/LC_MESSAGES/django.po, compiled by bin/setup (bin/translations).
LANGUAGES = [("en-gb", _("English")), ("cy", _("Welsh"))]
LOCALE_PATHS = [BASE_DIR / "accord" / "locale"]
LANGUAGE_COOKIE_NAME = "accord_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "frontend" / "build"]
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Uploaded evidence lives outside the static root and is only ever
        # served through a view that checks permission.
        "OPTIONS": {"location": os.environ.get("MEDIA_ROOT", str(BASE_DIR / "var" / "uploads"))},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}


def object_storage(bucket: str) -> dict:
    """Evidence in an S3-compatible object store (AWS, MinIO, Ceph, Azure through an S3
    gateway), for several machines: private (no public address, no signed link handed out:
    files are read back only through the view that checks permission), encrypted by Accord
    before they leave it, never overwritten."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": os.environ.get("ACCORD_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("ACCORD_S3_REGION") or None,
            "access_key": os.environ.get("ACCORD_S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("ACCORD_S3_SECRET_ACCESS_KEY") or None,
            "location": os.environ.get("ACCORD_S3_PREFIX", "accord"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }


if os.environ.get("ACCORD_S3_BUCKET"):
    STORAGES["default"] = object_storage(os.environ["ACCORD_S3_BUCKET"])

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
# Links in notifications point here.
ACCORD_BASE_URL = os.environ.get("ACCORD_BASE_URL", "http://127.0.0.1:8000")
# An invitation's link to set a password works once, for this many days.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("ACCORD_INVITATION_DAYS", "7")) * 86400
# Reminders go only between these hours (local time) on the partnership's working days.
NOTIFY_WORKING_HOURS = tuple(int(h) for h in os.environ.get("NOTIFY_WORKING_HOURS", "8,18").split(","))
NOTIFY_OVERDUE_REPEAT_WORKING_DAYS = int(os.environ.get("NOTIFY_OVERDUE_REPEAT_WORKING_DAYS", "5"))
NOTIFY_DIGEST_HOUR = int(os.environ.get("NOTIFY_DIGEST_HOUR", "8"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "accord@localhost")

# GOV.UK Notify instead of SMTP for the outbox (accord/notifications/channels.py), when a key
# is set: one Notify email template for each kind of notice, and one for the daily digest,
# each named by a variable ACCORD_NOTIFY_TEMPLATE_<KIND> (ACCORD_NOTIFY_TEMPLATE_RAISED_WITH_YOU,
# ACCORD_NOTIFY_TEMPLATE_DIGEST, ...). With a key and a template missing, Accord will not start
# (accord/notifications/checks.py). docs/notify.md says how to set it up.
ACCORD_NOTIFY_API_KEY = os.environ.get("ACCORD_NOTIFY_API_KEY", "")
ACCORD_NOTIFY_BASE_URL = os.environ.get("ACCORD_NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
ACCORD_NOTIFY_TIMEOUT = float(os.environ.get("ACCORD_NOTIFY_TIMEOUT", "20"))
NOTIFY_TEMPLATE_VARIABLE_PREFIX = "ACCORD_NOTIFY_TEMPLATE_"
ACCORD_NOTIFY_TEMPLATES = {
    name.removeprefix(NOTIFY_TEMPLATE_VARIABLE_PREFIX).lower(): value.strip()
    for name, value in os.environ.items()
    if name.startswith(NOTIFY_TEMPLATE_VARIABLE_PREFIX) and value.strip()
}

# Evidence documents: allowed content types (checked from the file's bytes) and size.
EVIDENCE_MAX_BYTES = int(os.environ.get("EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))
EVIDENCE_ALLOWED_TYPES = env_list(
    "EVIDENCE_ALLOWED_TYPES",
    "application/pdf,image/png,image/jpeg,text/plain,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
# Optional virus scan of evidence by ClamAV's daemon (accord/core/antivirus.py).
CLAMAV_SOCKET = os.environ.get("CLAMAV_SOCKET", "")
CLAMAV_HOST = os.environ.get("CLAMAV_HOST", "")
CLAMAV_PORT = int(os.environ.get("CLAMAV_PORT", "3310"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(1024 * 1024)))
API_RATE_LIMIT_PER_MINUTE = int(os.environ.get("API_RATE_LIMIT_PER_MINUTE", "600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
