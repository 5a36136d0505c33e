"""Setting up a partnership is one service for the page and ``manage.py create_partnership``:
the partnership, its business unit and the unit's first officer (added through the people
services), audited as ``partnership.created``, with the same refusals in words wherever it is
asked from."""

from __future__ import annotations

import html
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import (
    Agency,
    AgencyKind,
    Partnership,
    PartnershipAgency,
    Role,
    RoleAssignment,
    User,
)
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_partnership", *args, stdout=out)
    return out.getvalue()


def test_the_command_names_the_business_unit_and_invites_its_first_officer(db):
    said = create(
        "wessex",
        "--name",
        "Wessex Partnership",
        "--preset",
        "croydon",
        "--business-unit",
        "  Wessex   Safeguarding Office ",
        "--officer-name",
        "Jo  Bloggs",
        "--officer-email",
        "Jo.Bloggs@Wessex.example",
    )
    p = Partnership.objects.get(slug="wessex")
    unit = Agency.objects.get(name="Wessex Safeguarding Office")
    assert unit.kind == AgencyKind.PARTNERSHIP_BUSINESS_UNIT
    assert PartnershipAgency.objects.get(partnership=p, agency=unit).takes_part_in_raising is False
    officer = User.objects.get(email="jo.bloggs@wessex.example")
    assert (officer.first_name, officer.last_name, officer.agency) == ("Jo", "Bloggs", unit)
    assert RoleAssignment.objects.filter(user=officer, partnership=p, role=Role.BUSINESS_UNIT).exists()
    assert not officer.has_usable_password() and officer.invited_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["jo.bloggs@wessex.example"]
    assert "Wessex Safeguarding Office" in said and "sent an invitation" in said
    created = AuditEvent.objects.get(verb=Verb.PARTNERSHIP_CREATED, partnership_id=p.pk)
    assert created.payload == {
        "slug": "wessex",
        "preset": "croydon",
        "business_unit": "Wessex Safeguarding Office",
        "officer": "jo.bloggs@wessex.example",
    }
    assert created.actor_label == "manage.py create_partnership"
    # The officer came through the one path that writes a person.
    assert AuditEvent.objects.filter(
        verb=Verb.PERSON_ADDED, partnership_id=p.pk, target_id=str(officer.pk)
    ).exists()
    assert AuditEvent.objects.filter(verb=Verb.INVITATION_SENT, partnership_id=p.pk).exists()


def test_the_command_without_an_officer_still_gives_the_partnership_its_business_unit(db):
    create("wessex", "--name", "Wessex Partnership")
    p = Partnership.objects.get(slug="wessex")
    link = PartnershipAgency.objects.get(partnership=p)
    assert link.agency.name == "Wessex Partnership Business Unit"
    assert link.agency.kind == AgencyKind.PARTNERSHIP_BUSINESS_UNIT
    assert not RoleAssignment.objects.filter(partnership=p).exists() and not mail.outbox


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--business-unit", "{taken}"], "An agency in Accord has that name already"),
        (["--officer-email", "someone@wessex.example"], "Name the business unit's first officer"),
        (["--officer-name", "Jo Bloggs"], "Name the business unit's first officer"),
        (["--officer-name", "Jo Bloggs", "--officer-email", "not an email"], "in the correct format"),
        (["--officer-name", "Jo Bloggs", "--officer-email", "{taken_email}"], "already in use in Accord"),
        (["--business-unit", "x" * 201], "Enter the business unit's name"),
    ],
)
def test_the_command_refuses_bad_input_in_words_and_makes_nothing(world, options, words):
    options = [
        o.format(taken=world.social.name.upper(), taken_email=world.admin.email.upper()) for o in options
    ]
    agencies, people = Agency.objects.count(), User.objects.count()
    with pytest.raises(CommandError, match=words):
        create("wessex", "--name", "Wessex Partnership", *options)
    assert not Partnership.objects.filter(slug="wessex").exists()
    assert (Agency.objects.count(), User.objects.count()) == (agencies, people)
    assert not AuditEvent.objects.filter(verb=Verb.PARTNERSHIP_CREATED).exists() and not mail.outbox


def test_the_page_and_the_command_refuse_another_partnerships_agency_as_the_business_unit(client, world):
    """The page reaches the same service: an agency already in Accord (here another
    partnership's) is never taken over as the new one's business unit."""
    deployer = UserFactory(username="deployer", is_superuser=True, is_staff=True, roles=[])
    sign_in(client, deployer)
    refused = client.post(
        "/deployment/partnerships/new/",
        {
            "name": "Wessex Partnership",
            "slug": "wessex",
            "preset": "croydon",
            "front_door_phone": "0300 123 4567",
            "business_unit_name": world.social.name,
            "officer_name": "Jo Bloggs",
            "officer_email": "jo.bloggs@wessex.example",
        },
    )
    assert refused.status_code == 200
    assert "An agency in Accord has that name already" in html.unescape(refused.content.decode())
    assert not Partnership.objects.filter(slug="wessex").exists()
    assert not User.objects.filter(email="jo.bloggs@wessex.example").exists() and not mail.outbox
    with pytest.raises(CommandError, match="An agency in Accord has that name already"):
        create("wessex", "--name", "Wessex Partnership", "--business-unit", world.social.name)
