"""The business unit's pages of the protocol's versions: the list (who, when, what changed)
and one version as applied."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from accord.escalations.protocol import protocol_apply
from accord.partnership.protocol import document_of
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def renamed(world, name: str) -> None:
    document = copy.deepcopy(document_of(world.partnership))
    document["stages"][1]["name"] = name
    protocol_apply(actor=world.admin, partnership=world.partnership, document=document)


def test_the_versions_are_listed_with_who_when_and_what_changed(client, world):
    world.raised()
    renamed(world, "Managers")
    sign_in(client, world.admin)
    page = client.get(reverse("settings_protocol_versions")).content.decode()
    assert "Version 2" in page and "Version 1" in page
    assert escape(world.admin.get_full_name()) in page  # (a name may hold an apostrophe)
    assert "Stage 2 is now called Managers (was Line management)." in page
    assert reverse("settings_protocol_versions") in client.get(reverse("settings_protocol")).content.decode()

    one = client.get(reverse("settings_protocol_version", args=[1])).content.decode()
    assert "Stage 2: Line management" in one and "Stage 2: Managers" not in one
    assert "a later version replaced it" in one
    two = client.get(reverse("settings_protocol_version", args=[2])).content.decode()
    assert "Stage 2: Managers" in two
    assert "open escalations run under it" in two
    assert client.get(reverse("settings_protocol_version", args=[3])).status_code == 404
    assert client.get(f"{reverse('settings_protocol_versions')}{2**40}/").status_code == 404


def test_the_list_reads_as_many_queries_however_many_versions(client, world):
    sign_in(client, world.admin)
    renamed(world, "Managers")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("settings_protocol_versions")).status_code == 200
    for name in ("Leads", "Line managers", "Managers again"):
        renamed(world, name)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("settings_protocol_versions"))
    assert page.status_code == 200 and "Version 5" in page.content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_versions_are_the_business_units_alone(client, world):
    for person in (world.manager_health, world.pdg_chair, world.executive, world.auditor):
        sign_in(client, person)
        assert client.get(reverse("settings_protocol_versions")).status_code == 403
        assert client.get(reverse("settings_protocol_version", args=[1])).status_code == 403
