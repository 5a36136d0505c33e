"""Who reads which report, and how much of it, is decided once (``reports.policies``): the
report pages, their downloads, the API and the navigation all ask it. Each role, alone, is
answered the same by every one of them; a page or endpoint that checked roles of its own
would part from the policy for some role here."""

from __future__ import annotations

import pytest

from accord.api.services import api_token_create
from accord.partnership.models import Role
from accord.reports.policies import Report, report_reading
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGES = {
    Report.STANDING_ITEM: ["/reports/pdg/", "/reports/pdg.csv"],
    Report.ANNUAL: ["/reports/annual/", "/reports/annual.csv"],
    Report.IRU: ["/reports/iru/"],
    Report.LEARNING: ["/reports/learning/"],
}
API = {Report.STANDING_ITEM: "/api/v1/reports/pdg", Report.LEARNING: "/api/v1/reports/learning"}


def test_the_policy_reads_as_the_domain_says():
    """The formal body and the business unit read every figure; the executive the standing item
    and the annual report with small counts suppressed; the conference chairs only the IRU's
    section; only the formal body drills down; casework roles read none."""
    assert report_reading({Role.PDG_MEMBER}, Report.STANDING_ITEM).drill_down
    assert report_reading({Role.BUSINESS_UNIT}, Report.LEARNING).full
    assert not report_reading({Role.BUSINESS_UNIT}, Report.STANDING_ITEM).drill_down
    assert not report_reading({Role.EXECUTIVE}, Report.ANNUAL).full
    assert report_reading({Role.EXECUTIVE}, Report.LEARNING) is None
    assert report_reading({Role.CONFERENCE_CHAIR}, Report.IRU) is not None
    assert report_reading({Role.CONFERENCE_CHAIR}, Report.STANDING_ITEM) is None
    for role in (Role.PRACTITIONER, Role.MANAGER, Role.SENIOR_LEADER, Role.AUDITOR, Role.FACILITATOR):
        assert all(report_reading({role}, report) is None for report in Report)


@pytest.mark.parametrize("role", Role.values)
def test_every_page_endpoint_and_link_answers_each_role_as_the_policy_does(client, world, role):
    person = UserFactory(username=f"reader.{role}", agency=world.unit, roles=[(world.partnership, role)])
    sign_in(client, person)
    for report, urls in PAGES.items():
        reading = report_reading({role}, report)
        for url in urls:
            response = client.get(url)
            assert response.status_code == (403 if reading is None else 200), (role, url)
            if reading is not None and response.context and "full" in response.context:
                assert response.context["full"] == reading.full, (role, url)
            if reading is not None and response.context and "can_drill_down" in response.context:
                assert response.context["can_drill_down"] == reading.drill_down, (role, url)
    home = client.get("/").content.decode()
    assert ('href="/reports/pdg/"' in home) == (report_reading({role}, Report.STANDING_ITEM) is not None)
    assert ('href="/reports/annual/"' in home) == (report_reading({role}, Report.ANNUAL) is not None)
    _, token = api_token_create(actor=None, user=person)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for report, url in API.items():
        reading = report_reading({role}, report)
        response = client.get(url, **auth)
        assert response.status_code == (403 if reading is None else 200), (role, url)
        if report == Report.STANDING_ITEM and reading is not None:
            assert ("disclosure" in response.json()) == (not reading.full), role
