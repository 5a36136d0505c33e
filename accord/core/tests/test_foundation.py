"""The shell: settings, log-in, home pages by role, health check, error pages, the demo."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import Partnership, User
from accord.web.demo import DEMO_PASSWORD, DEMO_USERS, demo_totp_code

ROOT = Path(__file__).resolve().parents[3]


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "ACCORD_DERIVE_DEV_KEYS",
            "ACCORD_ENCRYPTION_KEYS",
            "ACCORD_LOOKUP_KEY",
            "ACCORD_AUDIT_KEY",
            "DATABASE_URL",  # the checks here are of settings: the embedded database will do
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_without_debug_a_secret_key_is_required():
    result = _run({}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_without_debug_allowed_hosts_are_required():
    result = _run({"SECRET_KEY": "k" * 60}, "check")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_settings_pass_the_deployment_check():
    from cryptography.fernet import Fernet

    result = _run(
        {
            "SECRET_KEY": "a-long-random-production-secret-" + "z9y8x7w6v5" * 5,
            "ALLOWED_HOSTS": "accord.example.org",
            "ACCORD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ACCORD_LOOKUP_KEY": "lookup-" + "q" * 40,
            "ACCORD_AUDIT_KEY": "audit-" + "w" * 40,
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("keys", "error"),
    [
        ({"ACCORD_DERIVE_DEV_KEYS": "1"}, "accord.E001"),
        (
            {"ACCORD_LOOKUP_KEY": "abc", "ACCORD_AUDIT_KEY": "a" * 32, "ACCORD_ENCRYPTION_KEYS": "derive-me"},
            "accord.E002",
        ),
        (
            {"ACCORD_LOOKUP_KEY": "l" * 32, "ACCORD_AUDIT_KEY": "abc", "ACCORD_ENCRYPTION_KEYS": "derive-me"},
            "accord.E003",
        ),
    ],
    ids=["derived", "short-lookup-key", "short-audit-key"],
)
def test_production_with_development_keys_fails_the_deployment_check(keys, error):
    from cryptography.fernet import Fernet

    env = {"SECRET_KEY": "a-long-random-production-secret-" + "z9y8x7w6v5" * 5, "ALLOWED_HOSTS": "a.example"}
    env.update(keys)
    if env.get("ACCORD_ENCRYPTION_KEYS") == "derive-me":
        env["ACCORD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    result = _run(env, "check", "--deploy")
    assert result.returncode != 0
    assert error in result.stderr


def _start_server(env: dict) -> subprocess.CompletedProcess:
    """Load the WSGI application as gunicorn does at start-up, with ``env``'s settings."""
    clean = _run_environment() | env
    return subprocess.run(
        [sys.executable, "-c", "import config.wsgi"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_environment() -> dict:
    kept_out = {
        "DEBUG",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        "ACCORD_DERIVE_DEV_KEYS",
        "ACCORD_ENCRYPTION_KEYS",
        "ACCORD_LOOKUP_KEY",
        "ACCORD_AUDIT_KEY",
        "DATABASE_URL",
    }
    return {k: v for k, v in os.environ.items() if k not in kept_out}


@pytest.mark.parametrize(
    ("keys", "said"),
    [
        ({"ACCORD_DERIVE_DEV_KEYS": "1"}, "accord.E001"),
        ({"ACCORD_LOOKUP_KEY": "abc", "ACCORD_AUDIT_KEY": "a" * 32}, "accord.E002"),
        ({"ACCORD_LOOKUP_KEY": "l" * 32, "ACCORD_AUDIT_KEY": "abc"}, "accord.E003"),
        ({"ACCORD_LOOKUP_KEY": "l" * 32, "ACCORD_AUDIT_KEY": "a" * 32}, None),
        ({"ACCORD_DERIVE_DEV_KEYS": "1", "DEBUG": "1"}, None),
    ],
    ids=["derived", "short-lookup-key", "short-audit-key", "production-keys", "development"],
)
def test_the_server_will_not_start_with_debug_off_and_derived_or_short_keys(keys, said):
    """``check --deploy`` refused these keys, but nothing made a deployment run it: the server
    started with them. Now loading the application refuses, with the check's words."""
    from cryptography.fernet import Fernet

    env = {
        "SECRET_KEY": "a-long-random-production-secret-" + "z9y8x7w6v5" * 5,
        "ALLOWED_HOSTS": "a.example",
        "ACCORD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    if keys.get("ACCORD_DERIVE_DEV_KEYS"):
        del env["ACCORD_ENCRYPTION_KEYS"]
    env.update(keys)
    result = _start_server(env)
    if said is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode != 0
        assert (
            "Accord will not serve with DEBUG off and these keys" in result.stderr and said in result.stderr
        )


@pytest.mark.parametrize("command", ["run_worker", "send_due_reminders"])
def test_the_worker_will_not_start_with_debug_off_and_derived_keys(command):
    env = {
        "SECRET_KEY": "a-long-random-production-secret-" + "z9y8x7w6v5" * 5,
        "ALLOWED_HOSTS": "a.example",
        "ACCORD_DERIVE_DEV_KEYS": "1",
    }
    result = _run(env, command, *(["--once"] if command == "run_worker" else []))
    assert result.returncode != 0
    assert (
        "Accord will not serve with DEBUG off and these keys" in result.stderr
        and "accord.E001" in result.stderr
    )


def test_without_debug_encryption_keys_are_required():
    result = _run({"SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "accord.example.org"}, "check")
    assert result.returncode != 0
    assert "ACCORD_ENCRYPTION_KEYS, ACCORD_LOOKUP_KEY and ACCORD_AUDIT_KEY must be set" in result.stderr


def test_argon2_is_the_password_hasher_outside_tests():
    from django.utils.module_loading import import_string

    from config.settings import base

    first = import_string(base.PASSWORD_HASHERS[0])
    assert first.algorithm == "argon2" and first.memory_cost >= 19456 and first.time_cost >= 2


@pytest.mark.django_db
def test_healthz_answers_200_with_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db
def test_healthz_answers_503_without_the_database(client, monkeypatch):
    from django.db import connection

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/escalations/",
        "/escalations/raise/",
        "/escalations/1/",
        "/business-unit/admin/",
        "/business-unit/settings/",
    ],
)
def test_every_page_needs_a_log_in(client, url):
    response = client.get(url, follow=True)
    assert response.redirect_chain, "expected a redirect to the log-in page"
    assert response.request["PATH_INFO"] == "/login/"
    assert response.status_code == 200


@pytest.fixture
def demo(db, _devon_rows):
    from accord.testing.demo import devon

    return devon(_devon_rows)


def demo_sign_in(client, username):
    """Sign in as a demo user the way a person does, with the demo authenticator code if asked."""
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, response.content[:500]
    landing = client.get("/")
    if landing.status_code == 302 and landing["Location"].startswith("/login/verify/"):
        verified = client.post("/login/verify/", {"code": demo_totp_code(), "next": "/"})
        assert verified.status_code == 302 and verified["Location"] == "/"
    return client


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_each_demo_user_can_log_in_and_sees_their_home_page(client, demo, username):
    demo_sign_in(client, username)
    home = client.get("/")
    assert home.status_code == 200
    html = home.content.decode()
    assert "Devon Safeguarding Children Partnership" in html
    assert "999" in html and "0345 155 1071" in html  # the emergency notice, on every page
    assert AuditEvent.objects.filter(verb=Verb.LOGIN, actor__username=username).exists()


def test_navigation_follows_the_role(client, demo):
    client.login(username="practitioner.health", password=DEMO_PASSWORD)
    html = client.get("/").content.decode()
    assert "Raise an escalation" in html and "Partnership settings" not in html
    client.logout()
    demo_sign_in(client, "admin")
    html = client.get("/").content.decode()
    assert "Partnership settings" in html and "Raise an escalation" not in html
    client.logout()
    demo_sign_in(client, "executive")
    html = client.get("/").content.decode()
    assert "Open escalations by stage" in html and "Raise an escalation" not in html


def test_a_failed_log_in_says_what_to_do_and_is_audited(client, demo):
    response = client.post(reverse("login"), {"username": "practitioner.health", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "Enter a correct username and password" in html
    assert AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED, payload__username="practitioner.health").exists()
    empty = client.post(reverse("login"), {"username": "", "password": ""}).content.decode()
    assert "Enter your username" in empty and "Enter your password" in empty


def test_log_out_is_a_post_and_is_audited(client, demo):
    client.login(username="practitioner.health", password=DEMO_PASSWORD)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb=Verb.LOGOUT, actor__username="practitioner.health").exists()
    assert client.get("/").status_code == 302


def test_the_settings_pages_are_for_the_business_unit_only(client, demo):
    client.login(username="practitioner.health", password=DEMO_PASSWORD)
    assert client.get("/business-unit/settings/").status_code == 403
    assert client.get("/business-unit/admin/", follow=True).status_code == 403
    client.logout()
    demo_sign_in(client, "admin")
    for url in ("/business-unit/settings/", "/business-unit/settings/protocol/", "/business-unit/people/"):
        assert client.get(url).status_code == 200, url
    # Django's admin is the deployment's administrators' alone.
    assert client.get("/business-unit/admin/", follow=True).status_code == 403


def test_a_business_unit_change_is_audited(client, demo):
    partnership, _ = demo
    demo_sign_in(client, "admin")
    from accord.partnership.models import PracticeTheme

    theme = PracticeTheme.objects.filter(partnership=partnership).first()
    response = client.post(
        f"/business-unit/taxonomies/themes/{theme.pk}/",
        {"label": "Neglect (renamed)", "is_active": "on", "position": 0},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(verb=Verb.TERM_CHANGED, target_type="practicetheme").exists()


def test_the_404_page_is_accessible_and_helpful(client, demo):
    client.login(username="practitioner.health", password=DEMO_PASSWORD)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'lang="en-GB"' in html and "Skip to main content" in html


@override_settings(DEBUG=False)
def test_the_500_page_renders_without_context(rf):
    from accord.web.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Sorry, there is a problem with Accord" in response.content.decode()


def test_security_headers_and_a_strict_content_security_policy(client, demo):
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


def test_load_demo_refuses_when_debug_is_off(db):
    with pytest.raises(CommandError):
        call_command("load_demo")


@pytest.mark.django_db
def test_load_demo_is_idempotent_and_loads_a_living_caseload(settings):
    settings.DEBUG = True
    call_command("load_demo")
    counts = (Partnership.objects.count(), User.objects.count())
    from accord.escalations.models import Escalation

    first = Escalation.objects.count()
    assert first >= 30
    stages = set(Escalation.objects.values_list("stage", flat=True))
    assert stages == {1, 2, 3, 4}
    assert Escalation.objects.filter(status="resolved").count() >= 15
    assert Escalation.objects.filter(urgency="urgent").exists()
    assert Escalation.objects.filter(kind="theme").exists()
    assert Escalation.objects.filter(origin="conference").exists()
    assert Escalation.objects.filter(status="paused").exists()
    call_command("load_demo")
    assert (Partnership.objects.count(), User.objects.count()) == counts
    assert Escalation.objects.count() == first
    manager = User.objects.get(username="manager.health")
    assert User.objects.get(username="practitioner.health").line_manager == manager
    assert manager.line_manager.username == "senior.health"
    assert (
        User.objects.get(username="practitioner.social").line_manager.line_manager.username == "senior.social"
    )


@pytest.mark.django_db
def test_an_idle_session_ends_and_activity_renews_it_at_most_once_a_minute(client, world):
    """Sessions end after SESSION_COOKIE_AGE of inactivity; a request renews the session,
    but writes it no more than once a SESSION_RENEW_SECONDS."""
    import datetime as dt

    import time_machine
    from django.conf import settings
    from django.contrib.sessions.models import Session

    from accord.testing.auth import sign_in

    idle = dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        sign_in(client, world.practitioner_health)
        assert client.get("/").status_code == 200
        key = client.session.session_key

        def expiry():
            return Session.objects.get(session_key=key).expire_date

        renewed = expiry()
        clock.shift(dt.timedelta(seconds=20))
        assert client.get("/").status_code == 200
        assert expiry() == renewed  # within the minute: not written again

        clock.shift(dt.timedelta(seconds=settings.SESSION_RENEW_SECONDS))
        assert client.get("/").status_code == 200
        assert expiry() > renewed  # renewed from now
        renewed = expiry()

        clock.shift(idle - dt.timedelta(seconds=1))
        assert client.get("/").status_code == 200  # still within the idle limit
        assert expiry() > renewed

        clock.shift(idle + dt.timedelta(seconds=1))
        response = client.get("/")
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_staying_signed_in_restarts_the_idle_limit(client, demo):
    """WCAG 2.2.1: the page's warning before the idle limit offers to stay signed in; the
    request restarts the limit and says how long the page now has."""
    import time

    from accord.core.middleware import RENEWED_KEY

    client.login(username="practitioner.health", password=DEMO_PASSWORD)
    session = client.session
    session[RENEWED_KEY] = int(time.time()) - 30  # renewed half a minute ago: not renewed again yet
    session.save()
    html = client.get("/").content.decode()
    left = int(re.search(r'data-seconds-left="(\d+)"', html).group(1))
    assert settings.SESSION_COOKIE_AGE - 35 <= left <= settings.SESSION_COOKIE_AGE - 30
    assert 'id="accord-timeout"' in html and "Stay signed in" in html

    answer = client.post(reverse("stay_signed_in"), {"next": "/escalations/"}, HTTP_X_REQUESTED_WITH="fetch")
    assert answer.json() == {"seconds_left": settings.SESSION_COOKIE_AGE}
    assert int(time.time()) - client.session[RENEWED_KEY] <= 2
    # Without JavaScript the form returns to the page, and only to one of Accord's.
    assert client.post(reverse("stay_signed_in"), {"next": "/escalations/"})["Location"] == "/escalations/"
    assert client.post(reverse("stay_signed_in"), {"next": "https://evil.example/"})["Location"] == "/"


def test_no_signed_out_warning_before_signing_in_or_before_the_second_step(client, demo):
    assert 'id="accord-timeout"' not in client.get("/login/").content.decode()
    client.login(username="pdg.chair", password=DEMO_PASSWORD)
    assert 'id="accord-timeout"' not in client.get("/login/verify/").content.decode()
    assert client.post(reverse("stay_signed_in")).status_code == 302  # sent to verify first


def test_check_deploy_refuses_derived_keys_and_a_short_lookup_key(settings):
    from accord.core.checks import encryption_keys

    settings.ACCORD_KEYS_DERIVED = True
    settings.ACCORD_LOOKUP_KEY = "abc"
    settings.ACCORD_AUDIT_KEY = "short"
    assert {e.id for e in encryption_keys()} == {"accord.E001", "accord.E002", "accord.E003"}
    settings.ACCORD_KEYS_DERIVED = False
    settings.ACCORD_LOOKUP_KEY = "k" * 32
    settings.ACCORD_AUDIT_KEY = "a" * 32
    assert encryption_keys() == []


def test_check_deploy_runs_accords_checks():
    from django.core.checks import run_checks

    ids = {e.id for e in run_checks(include_deployment_checks=True)}
    assert "accord.E001" in ids  # the test settings derive their keys
