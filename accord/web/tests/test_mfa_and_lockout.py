"""Two-step verification by role, recovery codes, and lock-out after repeated failures."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads

pytestmark = pytest.mark.django_db
PASSWORD = "test-password-123"


def password_login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


def unthrottle(user):
    """A failed code throttles a user's devices for a moment; a person would simply wait."""
    from django_otp.plugins.otp_static.models import StaticDevice

    for model in (TOTPDevice, StaticDevice):
        model.objects.filter(user=user).update(throttling_failure_count=0, throttling_failure_timestamp=None)


def current_code(device):
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


@pytest.mark.parametrize("role", ["pdg_member", "pdg_chair", "admin", "auditor", "executive"])
def test_roles_that_need_mfa_must_set_it_up_before_anything_else(client, world, role):
    user = getattr(world, role)
    password_login(client, user)
    for url in (
        "/",
        "/escalations/",
        "/business-unit/settings/",
        "/business-unit/admin/",
        "/account/api-tokens/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == reverse("mfa_setup"), url


@pytest.mark.parametrize(
    "role", ["practitioner_health", "manager_social", "senior_health", "chair", "facilitator"]
)
def test_other_roles_may_use_accord_without_it(client, world, role):
    password_login(client, getattr(world, role))
    assert client.get("/").status_code == 200


def test_setting_up_then_signing_in_with_a_code_and_a_recovery_code(client, world):
    user = world.pdg_member
    password_login(client, user)
    page = client.get(reverse("mfa_setup"))
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(
        reverse("mfa_setup"), {"code": "000000" if current_code(device) != "000000" else "111111"}
    )
    assert "The security code is not right" in wrong.content.decode()
    # A wrong code throttles the device for a moment; a person would simply try again later.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )
    done = client.post(reverse("mfa_setup"), {"code": current_code(device)})
    html = done.content.decode()
    assert "Your recovery codes" in html
    codes = re.findall(r"<li><code>([0-9a-f]+)</code></li>", html)
    assert len(codes) == 10
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(verb=Verb.MFA_ENROLLED, actor=user).exists()

    client.logout()
    password_login(client, user)
    assert client.get("/")["Location"].startswith(reverse("mfa_verify"))
    bad = client.post(reverse("mfa_verify"), {"code": "12"})
    assert "There is a problem" in bad.content.decode()
    assert AuditEvent.objects.filter(verb=Verb.MFA_FAILED, actor=user).exists()
    unthrottle(user)
    ok = client.post(reverse("mfa_verify"), {"code": codes[0], "next": "/escalations/"})
    assert ok.status_code == 302 and ok["Location"] == "/escalations/"
    client.logout()
    password_login(client, user)
    again = client.post(reverse("mfa_verify"), {"code": codes[0]})
    assert again.status_code == 200  # a recovery code works once
    unthrottle(user)
    outside = client.post(reverse("mfa_verify"), {"code": codes[1], "next": "https://evil.example/"})
    assert outside["Location"] == "/"


def test_a_practitioner_can_choose_two_step_verification(client, world):
    user = world.practitioner_health
    password_login(client, user)
    client.get(reverse("mfa_setup"))
    device = TOTPDevice.objects.get(user=user)
    client.post(reverse("mfa_setup"), {"code": current_code(device)})
    client.logout()
    password_login(client, user)
    assert client.get("/")["Location"].startswith(reverse("mfa_verify"))


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_the_account_out(client, world):
    user = world.practitioner_health
    for _ in range(2):
        response = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
        assert response.status_code == 200
    locked = client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    assert locked.status_code in (403, 429)
    assert "Sign-in locked" in locked.content.decode()
    # Even the right password is refused while locked out.
    still = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert still.status_code in (403, 429)
    assert AuditEvent.objects.filter(verb=Verb.LOCKED_OUT).exists()
    # Another account from the same address is not locked.
    other = client.post(
        reverse("login"), {"username": world.practitioner_social.username, "password": PASSWORD}
    )
    assert other.status_code == 302


def test_who_is_signed_in_is_read_once_a_request_with_their_agency_and_roles(client, world):
    """The person, their agency and their roles are read once, however many parts of the
    page (the caption, the audit entry, the navigation) use them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = world.practitioner_health
    password_login(client, user)
    for url in ("/", "/escalations/"):
        client.get(url)  # (the first page a process serves reads the partnership's ladder once)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        sqls = [q["sql"] for q in ctx.captured_queries]
        assert not [sql for sql in sqls if 'WHERE "partnership_agency"."id" =' in sql], url
        # Once for their roles (the unread count's subquery, in the person's own statement,
        # reads only the partnerships they still work in).
        reads = [sql for sql in sqls if 'FROM "partnership_roleassignment"' in sql and "COUNT(*)" not in sql]
        assert len(reads) == 1, url
        # The partnership they work in comes with their roles; whether they have a two-step
        # device and how many notifications they have unread come with the person.
        assert not [sql for sql in sqls if sql.startswith('SELECT "partnership_partnership"')], url
        assert not [sql for sql in sqls if sql.lstrip("(").startswith('SELECT 1 AS "a" FROM "otp_')], url
        assert not [
            sql for sql in sqls if sql.startswith('SELECT COUNT(*) AS "__count" FROM "notifications_')
        ], url
    chain_pending_reads()  # the reads recorded so far, into the trail
    audit = AuditEvent.objects.filter(verb=Verb.ESCALATION_LISTED).latest("id")
    assert audit.actor_agency == str(user.agency)
    assert audit.actor_roles == "practitioner"


def test_a_device_confirmed_elsewhere_is_asked_for_on_the_next_page(client, world):
    """Whether someone has a device is read afresh with them on every request: one set up
    from another browser after this one signed in sends this one to verify too."""
    user = world.practitioner_health
    password_login(client, user)
    assert client.get("/").status_code == 200
    TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    assert client.get("/").status_code == 200  # not yet confirmed
    TOTPDevice.objects.filter(user=user).update(confirmed=True)
    response = client.get("/escalations/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_verify"))


def test_whether_someone_has_a_device_is_asked_in_one_statement_for_every_kind(world):
    """``has_device`` answers as django-otp's ``user_has_device`` does, for each kind of
    device, confirmed or not, in one statement."""
    import django_otp
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_otp.plugins.otp_static.models import StaticDevice

    from accord.web.backends import AccordModelBackend
    from accord.web.mfa import has_device

    user = world.practitioner_health

    def check(expected):
        with CaptureQueriesContext(connection) as ctx:
            answer = has_device(user)
        assert answer is expected == django_otp.user_has_device(user, confirmed=True)
        assert len(ctx.captured_queries) == 1
        # The signed-in person, read with the answer for the pages' check, agrees.
        assert AccordModelBackend().get_user(user.pk)._accord_has_device is expected

    check(False)
    totp = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    check(False)  # not yet confirmed
    totp.confirmed = True
    totp.save()
    check(True)
    totp.delete()
    StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    check(True)
    StaticDevice.objects.filter(user=user).delete()
    TOTPDevice.objects.create(user=world.practitioner_social, name="someone else's", confirmed=True)
    check(False)


def test_the_signed_in_person_comes_with_their_unread_notifications_counted(world):
    from accord.notifications.models import Notification
    from accord.web.backends import AccordModelBackend

    def unread(person):
        return AccordModelBackend().get_user(person.pk)._accord_unread

    user = world.practitioner_social
    assert unread(user) == 0
    world.raised()  # raised with the social worker: they are told
    world.raised()
    mine = Notification.objects.filter(recipient=user)
    assert unread(user) == mine.count() == 2
    mine.filter(pk=mine.first().pk).update(read_at=timezone.now())
    assert unread(user) == mine.filter(read_at__isnull=True).count() == 1
    assert (
        unread(world.practitioner_health)
        == Notification.objects.filter(recipient=world.practitioner_health, read_at__isnull=True).count()
    )


def test_no_one_signed_out_has_a_device():
    from django.contrib.auth.models import AnonymousUser

    from accord.web.mfa import has_device

    assert has_device(AnonymousUser()) is False


def _navigation(html: str) -> list[str]:
    nav = re.search(r'<nav aria-label="Main".*?</nav>', html, re.S)
    return (
        re.findall(r'class="govuk-service-navigation__link[^"]*"[^>]*>\s*([^<]+?)\s*<', nav.group(0))
        if nav
        else []
    )


def test_before_the_second_step_the_page_shows_nothing_their_roles_open(client, world):
    """Someone who has given only their password sees the two-step page and "Sign out":
    not the navigation their roles will open, not how many notifications wait for them,
    not the account pages."""
    user = world.practitioner_social
    world.raised()
    world.raised()  # raised with the social worker: two unread notifications
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    password_login(client, user)
    html = client.get(reverse("mfa_verify")).content.decode()
    assert _navigation(html) == ["Sign out"]
    assert "Notifications" not in html and "Email preferences" not in html and "API tokens" not in html

    ok = client.post(reverse("mfa_verify"), {"code": current_code(device)})
    assert ok.status_code == 302
    html = client.get("/").content.decode()
    assert "Notifications (2)" in _navigation(html) and "Escalations" in _navigation(html)
    assert _navigation(html)[-1] == "Sign out"
    assert "Email preferences" in html

    # A role that needs a device, before setting one up: the set-up page, and "Sign out".
    client.logout()
    password_login(client, world.pdg_member)
    html = client.get(reverse("mfa_setup")).content.decode()
    assert _navigation(html) == ["Sign out"]
    assert "Practice Development Group report" not in html and "Email preferences" not in html


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=3, ACCORD_TRUSTED_PROXIES=1)
def test_behind_the_trusted_proxy_the_lock_out_and_the_audit_see_the_real_client(client, world):
    """Behind one proxy that appends the address it was sent from, failures from one
    client lock that client out of the account and nobody else (every request reaching
    Accord comes from the proxy's address), and the audit trail records the client; an
    address the client wrote itself further left is ignored."""
    user = world.practitioner_health
    attacker = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.9", "REMOTE_ADDR": "10.0.0.2"}
    for _ in range(3):
        client.post(reverse("login"), {"username": user.username, "password": "wrong"}, **attacker)
    locked = client.post(reverse("login"), {"username": user.username, "password": PASSWORD}, **attacker)
    assert locked.status_code in (403, 429)
    failed = AuditEvent.objects.filter(verb=Verb.LOGIN_FAILED).order_by("-id").first()
    assert failed is not None and failed.ip_address == "203.0.113.9"
    # The real user, at another address behind the same proxy, is not locked out.
    real = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.44",
        REMOTE_ADDR="10.0.0.2",
    )
    assert real.status_code == 302
    # An escalation read (a service's own audit entry, handed no request) records them too.
    e = world.raised()
    client.get(f"/escalations/{e.pk}/", HTTP_X_FORWARDED_FOR="192.0.2.44", REMOTE_ADDR="10.0.0.2")
    chain_pending_reads()  # the reads recorded so far, into the trail
    viewed = AuditEvent.objects.filter(verb=Verb.ESCALATION_VIEWED).order_by("-id").first()
    assert viewed.ip_address == "192.0.2.44"


def test_the_client_address_reads_only_what_the_trusted_proxies_appended(settings, rf):
    from accord.core.clientip import client_ip

    def ip(forwarded, proxies, remote="10.0.0.2"):
        settings.ACCORD_TRUSTED_PROXIES = proxies
        return client_ip(rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote))

    assert ip("203.0.113.9", 0) == "10.0.0.2"  # no proxy trusted: the header is the client's claim
    assert ip("1.2.3.4, 203.0.113.9", 1) == "203.0.113.9"
    assert ip("1.2.3.4, 203.0.113.9, 10.0.0.1", 2) == "203.0.113.9"
    assert ip("203.0.113.9", 2) == "10.0.0.2"  # shorter than the proxies: not through them
    assert ip("not-an-address", 1) == "10.0.0.2"
    assert ip("2001:db8::1", 1) == "2001:db8::1"
