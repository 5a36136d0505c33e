"""The API's detail reads an escalation's areas, themes and protocol version in one
statement (``_codes``): each where it belongs, and nothing of another escalation's."""

import pytest

from accord.api.tests.test_api import Api

pytestmark = pytest.mark.django_db


def test_the_detail_gives_the_areas_first_first_the_themes_and_the_protocol_version(client, world):
    e = world.raised(
        area="provision-of-services",
        area_codes=["communication", "provision-of-services", "levels-of-risk"],
        theme_codes=["neglect", "domestic-abuse"],
    )
    world.raised(area="roles-and-responsibilities", theme_codes=["online-harm"])  # another's codes
    detail = Api(client, world.manager_health).get(f"/escalations/{e.pk}").json()
    assert detail["area_of_disagreement"] == "provision-of-services"
    assert detail["areas_of_disagreement"] == ["provision-of-services", "communication", "levels-of-risk"]
    assert detail["themes"] == ["domestic-abuse", "neglect"]
    assert detail["protocol_version"] == e.runs_under.number
