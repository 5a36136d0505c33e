"""The deployment's administrators set up a partnership from a preset with its business
unit's first officer invited; the business unit adds its agencies (new, or one another
partnership already has)."""

from __future__ import annotations

import html

import pytest
from django.core import mail

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import Agency, Partnership, PartnershipAgency, Role, RoleAssignment, User
from accord.partnership.protocol import ladder_of, preset, preset_names
from accord.partnership.services.agencies import agency_add
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deployer(db):
    return UserFactory(username="deployer", is_superuser=True, is_staff=True)


def new_partnership(client, **overrides):
    body = {
        "name": "Wessex Safeguarding Children Partnership",
        "slug": "wessex",
        "prefix": "",
        "preset": "croydon",
        "front_door_phone": "0300 123 4567",
        "officer_name": "Jo Bloggs",
        "officer_email": "jo.bloggs@wessex.example",
    } | overrides
    return client.post("/deployment/partnerships/new/", body)


@pytest.mark.parametrize("name", preset_names())
def test_a_partnership_is_set_up_from_each_preset_with_its_first_officer_invited(client, deployer, name):
    sign_in(client, deployer)  # with two-step verification done
    assert client.get("/deployment/").status_code == 200
    form = html.unescape(client.get("/deployment/partnerships/new/").content.decode())
    assert preset(name)["name"] in form
    done = new_partnership(client, preset=name)
    assert done.status_code == 302, done.content.decode()[:3000]
    p = Partnership.objects.get(slug="wessex")
    assert len(ladder_of(p).stages) == len(preset(name)["stages"]) and p.reference_prefix == "WES"
    officer = User.objects.get(email="jo.bloggs@wessex.example")
    assert RoleAssignment.objects.filter(user=officer, partnership=p, role=Role.BUSINESS_UNIT).exists()
    assert officer.agency.name == "Wessex Safeguarding Children Partnership Business Unit"
    assert not officer.has_usable_password() and len(mail.outbox) == 1
    assert "/account/set-password/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(verb=Verb.PARTNERSHIP_CREATED, partnership_id=p.pk).exists()


def test_a_taken_name_or_email_is_said_on_its_field_and_nothing_is_made(client, deployer, world):
    sign_in(client, deployer)
    refused = new_partnership(client, slug=world.partnership.slug)
    assert "A partnership has that short name already" in html.unescape(refused.content.decode())
    world.admin.email = "unit@testshire.example"
    world.admin.save()
    taken = new_partnership(client, officer_email="Unit@Testshire.example")
    assert "That email is already in use in Accord" in html.unescape(taken.content.decode())
    assert Partnership.objects.count() == 1 and not mail.outbox


def test_only_the_deployments_administrators_and_only_after_two_step(client, deployer, world):
    sign_in(client, world.admin)
    assert client.get("/deployment/partnerships/new/").status_code == 403
    client.logout()
    client.force_login(deployer)  # an administrator with no device is sent to set one up
    assert client.get("/deployment/")["Location"].endswith("/account/two-step/")


def test_the_business_unit_adds_a_new_agency_and_one_another_partnership_has(client, world, other_world):
    sign_in(client, world.admin)
    assert client.get("/business-unit/agencies/").status_code == 200
    added = client.post(
        "/business-unit/agencies/",
        {"name": "Wessex Housing", "kind": "housing", "takes_part_in_raising": "on", "staff": "120"},
    )
    assert added.status_code == 302
    link = PartnershipAgency.objects.get(partnership=world.partnership, agency__name="Wessex Housing")
    assert link.staff == 120 and link.takes_part_in_raising
    # One another partnership keeps is shared only by the deployment's administrators: its
    # people and sign-in would become this partnership's business too. The attempt is in the
    # other partnership's trail.
    refused = client.post(
        "/business-unit/agencies/", {"name": other_world.social.name.upper(), "kind": "police"}
    )
    assert refused.status_code == 200 and "ask the deployment" in html.unescape(refused.content.decode())
    assert not PartnershipAgency.objects.filter(
        partnership=world.partnership, agency=other_world.social
    ).exists()
    assert AuditEvent.objects.filter(
        verb=Verb.SHARED_CHANGE_REFUSED,
        partnership_id=other_world.partnership.pk,
        target_id=str(other_world.social.pk),
    ).exists()
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    agency_add(actor=root, partnership=world.partnership, name=other_world.social.name, kind="police")
    assert PartnershipAgency.objects.filter(partnership=world.partnership, agency=other_world.social).exists()
    assert {
        e.partnership_id
        for e in AuditEvent.objects.filter(verb=Verb.AGENCY_ADDED, payload__agency=other_world.social.name)
    } == {world.partnership.pk, other_world.partnership.pk}
    sign_in(client, world.admin)
    assert (
        Agency.objects.get(pk=other_world.social.pk).kind == other_world.social.kind
    )  # not changed by joining
    again = client.post("/business-unit/agencies/", {"name": "Wessex Housing", "kind": "housing"})
    assert "already one of the partnership's agencies" in html.unescape(again.content.decode())
    assert AuditEvent.objects.filter(verb=Verb.AGENCY_ADDED, payload__agency="Wessex Housing").exists()
    sign_in(client, world.manager_health)
    assert client.get("/business-unit/agencies/").status_code == 403


def test_the_service_itself_refuses_anyone_but_the_deployments_administrators(world):
    from accord.core.errors import NotAllowed
    from accord.escalations.protocol import partnership_create

    with pytest.raises(NotAllowed):
        partnership_create(actor=world.admin, name="Elsewhere", slug="elsewhere", document=preset("devon"))
    assert not Partnership.objects.filter(slug="elsewhere").exists()
