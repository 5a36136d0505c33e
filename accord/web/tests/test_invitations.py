"""Invitations: nobody types another person's password. The emailed link sets it once, stops
working when used, sent again or revoked, and every step is audited."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import User
from accord.partnership.services.invitations import invite, revoke_invitation
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-and-new-password-2026"


def link_in(message) -> str:
    return urlparse(re.search(r"https?://\S+/account/set-password/\S+/", message.body).group(0)).path


@pytest.fixture
def newcomer(world):
    person = UserFactory(username="new.person", email="new.person@health.example", agency=world.health)
    person.set_unusable_password()
    person.save()
    return person


def set_password(client, link: str):
    first = client.get(link)  # Django moves the token into the session and redirects
    assert first.status_code == 302
    return client.post(first["Location"], {"new_password1": PASSWORD, "new_password2": PASSWORD})


def test_the_link_sets_the_password_once(client, world, newcomer):
    invite(actor=world.admin, person=newcomer, partnership=world.partnership)
    assert len(mail.outbox) == 1 and "new.person" in mail.outbox[0].body
    link = link_in(mail.outbox[0])
    done = set_password(client, link)
    assert done.status_code == 302
    assert client.login(username="new.person", password=PASSWORD)
    client.logout()
    again = client.get(link, follow=True)
    assert "This link no longer works" in again.content.decode()
    assert AuditEvent.objects.filter(verb=Verb.INVITATION_SENT, actor=world.admin).exists()
    assert AuditEvent.objects.filter(verb=Verb.PASSWORD_SET, actor=newcomer).exists()
    assert not any(link.split("/")[-2] in str(e.payload) for e in AuditEvent.objects.all())  # never stored


def test_sent_again_the_earlier_link_dies_and_revoked_both_do(client, world, newcomer):
    invite(actor=world.admin, person=newcomer, partnership=world.partnership)
    invite(actor=world.admin, person=newcomer, partnership=world.partnership)
    first, second = (link_in(m) for m in mail.outbox)
    assert "This link no longer works" in client.get(first, follow=True).content.decode()
    revoke_invitation(actor=world.admin, person=newcomer, partnership=world.partnership)
    assert "This link no longer works" in client.get(second, follow=True).content.decode()
    newcomer.refresh_from_db()
    assert newcomer.invited_at is None and not newcomer.has_usable_password()


def test_someone_who_already_signs_in_is_not_invited(world):
    with pytest.raises(ValidationError, match="already signs in"):
        world.practitioner_health.last_login = world.practitioner_health.date_joined
        invite(actor=world.admin, person=world.practitioner_health, partnership=world.partnership)
    assert mail.outbox == []


def test_a_person_added_on_the_settings_pages_is_invited_not_given_a_password(client, world):
    sign_in(client, world.admin)
    page = client.get("/business-unit/people/new/").content.decode()
    assert 'type="password"' not in page  # nobody types another person's password
    response = client.post(
        "/business-unit/people/new/",
        {
            "first_name": "Rae",
            "last_name": "New",
            "email": "rae.new@health.example",
            "agency": world.health.pk,
            "roles": ["practitioner"],
            "invite": "on",
        },
    )
    assert response.status_code == 302
    person = User.objects.get(email="rae.new@health.example")
    assert not person.has_usable_password() and person.invited_at is not None
    assert mail.outbox[0].to == ["rae.new@health.example"]
    # Sent again from their page (the earlier link stops working), then revoked.
    assert client.post(f"/business-unit/people/{person.pk}/invitation/").status_code == 302
    assert len(mail.outbox) == 2
    assert client.post(f"/business-unit/people/{person.pk}/invitation/", {"revoke": "1"}).status_code == 302
    person.refresh_from_db()
    assert person.invited_at is None
    assert AuditEvent.objects.filter(verb=Verb.INVITATION_REVOKED, actor=world.admin).exists()


def test_people_imported_are_invited_when_asked(client, world):
    sign_in(client, world.admin)
    sheet = f"name,email,agency,roles,line_manager_email\nRae New,rae.new@health.example,{world.health.name},practitioner,\n"
    checked = client.post(
        "/business-unit/people/import/", {"file": SimpleUploadedFile("p.csv", sheet.encode())}
    )
    client.post(
        "/business-unit/people/import/", {"apply": checked.context["plan"].file_hash, "invite": "yes"}
    )
    assert [m.to for m in mail.outbox] == [["rae.new@health.example"]]


def test_a_mail_server_that_refuses_is_said_plainly_and_nothing_is_kept(world, newcomer, monkeypatch):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr("accord.partnership.services.invitations.send_mail", refuse)
    with pytest.raises(ValidationError, match="could not be sent now"):
        invite(actor=world.admin, person=newcomer, partnership=world.partnership)
    newcomer.refresh_from_db()
    assert newcomer.invited_at is None
    assert not AuditEvent.objects.filter(verb=Verb.INVITATION_SENT).exists()
