"""Who keeps a partnership's settings is checked once (``partnership.services.common``): every
service that only the business unit may ask, the settings pages and the business unit's API
token page refuse anyone else with the same words. A service or page that checked roles of
its own, or said it otherwise, would part from it here."""

from __future__ import annotations

import html

import pytest

from accord.core.errors import NotAllowed
from accord.escalations.services.agencies import agency_merge
from accord.escalations.services.importing import LogPlan, apply_log_import
from accord.partnership.services.common import business_unit_refusal, require_business_unit
from accord.partnership.services.people import PersonDetails, person_add
from accord.reports.services import annual_narrative_save
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def services(world):
    p = world.partnership
    return {
        "person_add": lambda actor: person_add(
            actor=actor,
            partnership=p,
            details=PersonDetails(
                first_name="New", last_name="Person", email="new@x.example", agency=world.health
            ),
        ),
        "agency_merge": lambda actor: agency_merge(
            actor=actor, partnership=p, source=world.other, into=world.health
        ),
        "apply_log_import": lambda actor: apply_log_import(
            actor=actor, plan=LogPlan(partnership=p, filename="log.csv", rows=[], file_hash="0")
        ),
        "annual_narrative_save": lambda actor: annual_narrative_save(
            actor=actor, partnership=p, year=2025, text={"culture": "Changed"}
        ),
    }


@pytest.mark.parametrize("who", ["manager_health", "pdg_chair", "executive", "chair"])
def test_every_business_unit_service_refuses_anyone_else_in_the_same_words(world, who):
    actor = getattr(world, who)
    with pytest.raises(NotAllowed) as once:
        require_business_unit(actor, world.partnership)
    assert str(once.value) == business_unit_refusal()
    for name, call in services(world).items():
        with pytest.raises(NotAllowed) as refused:
            call(actor)
        assert str(refused.value) == business_unit_refusal(), name


@pytest.mark.parametrize(
    "url", ["/business-unit/settings/", "/business-unit/people/import/", "/business-unit/api-tokens/"]
)
def test_the_settings_pages_and_the_token_page_refuse_anyone_else_in_the_same_words(client, world, url):
    sign_in(client, world.manager_health)
    refused = client.get(url)
    assert refused.status_code == 403
    assert business_unit_refusal() in html.unescape(refused.content.decode())
    sign_in(client, world.admin)
    assert client.get(url).status_code == 200
