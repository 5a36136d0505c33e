"""The business unit's settings pages, used as the business unit uses them: its people hold
Accord's role, not Django's model permissions, so every part of a page must work for them."""

from html.parser import HTMLParser

import pytest

from accord.audit.models import AuditEvent, Verb
from accord.partnership.models import Agency, PartnershipAgency, Role, RoleAssignment, Stage, User
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
ADMIN = "/business-unit/admin/partnership"


class _Form(HTMLParser):
    """What a browser would send for the page's form, as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data.setdefault(name, []).append(
                a.get("value") or ("on" if a.get("type") == "checkbox" else "")
            )
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select].append(a.get("value") or "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] = [self.data[self._textarea][0] + data]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _errors(response) -> str:
    import re

    html = response.content.decode()
    return (
        " | ".join(re.findall(r"<ul class=\"errorlist[^\"]*\"[^>]*>(.*?</ul>.{0,300})", html, re.S))
        or html[:500]
    )


def form_of(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    parser = _Form()
    parser.feed(response.content.decode())
    data = parser.data
    data.pop("csrfmiddlewaretoken", None)
    return data


def test_the_business_unit_gives_and_takes_away_a_role_on_a_persons_page(client, world):
    person = world.practitioner_social
    sign_in(client, world.admin)
    page = client.get(f"{ADMIN}/user/{person.pk}/change/")
    html = page.content.decode()
    assert "role_assignments-TOTAL_FORMS" in html  # the roles are on the page
    data = form_of(page)
    total = int(data["role_assignments-TOTAL_FORMS"][0])
    new = total - 1  # the empty row for a new role
    data[f"role_assignments-{new}-partnership"] = [str(world.partnership.pk)]
    data[f"role_assignments-{new}-role"] = [Role.MANAGER]
    response = client.post(f"{ADMIN}/user/{person.pk}/change/", data)
    assert response.status_code == 302, _errors(response)
    assert set(RoleAssignment.objects.filter(user=person).values_list("role", flat=True)) == {
        Role.PRACTITIONER,
        Role.MANAGER,
    }
    assert AuditEvent.objects.filter(
        verb=Verb.CONFIGURATION_CHANGED, payload__action="roles_changed"
    ).exists()

    data = form_of(client.get(f"{ADMIN}/user/{person.pk}/change/"))
    for i in range(int(data["role_assignments-TOTAL_FORMS"][0])):
        if data.get(f"role_assignments-{i}-role") == [Role.MANAGER]:
            data[f"role_assignments-{i}-DELETE"] = ["on"]
    assert client.post(f"{ADMIN}/user/{person.pk}/change/", data).status_code == 302
    assert list(RoleAssignment.objects.filter(user=person).values_list("role", flat=True)) == [
        Role.PRACTITIONER
    ]


def test_a_persons_page_offers_only_the_business_units_own_people_and_agencies(client, world, other_world):
    sign_in(client, world.admin)
    html = client.get(f"{ADMIN}/user/{world.practitioner_health.pk}/change/").content.decode()
    assert str(world.health) in html  # the chosen agency is shown
    assert str(other_world.health) not in html and str(other_world.social) not in html  # no list of all

    def search(field_name: str) -> set[str]:
        found = client.get(
            "/business-unit/admin/autocomplete/",
            {"app_label": "partnership", "model_name": "user", "field_name": field_name, "term": ""},
        )
        assert found.status_code == 200
        return {r["id"] for r in found.json()["results"]}

    people = search("line_manager")
    assert str(world.manager_health.pk) in people and str(world.practitioner_social.pk) in people
    assert str(other_world.manager_health.pk) not in people
    agencies = search("agency")
    assert {str(world.health.pk), str(world.social.pk)} <= agencies
    assert str(other_world.health.pk) not in agencies


def test_the_business_unit_changes_the_ladder_on_the_partnerships_page(client, world):
    sign_in(client, world.admin)
    page = client.get(f"{ADMIN}/partnership/{world.partnership.pk}/change/")
    assert "stages-TOTAL_FORMS" in page.content.decode()
    data = form_of(page)
    first = next(i for i in range(int(data["stages-TOTAL_FORMS"][0])) if data[f"stages-{i}-number"] == ["1"])
    data[f"stages-{first}-routine_working_days"] = ["7"]
    assert "stages-0-DELETE" not in data  # a stage is never removed here
    response = client.post(f"{ADMIN}/partnership/{world.partnership.pk}/change/", data)
    assert response.status_code == 302, _errors(response)
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 7


def test_an_agency_added_by_the_business_unit_joins_its_partnership(client, world, other_world):
    sign_in(client, world.admin)
    data = form_of(client.get(f"{ADMIN}/agency/add/"))
    data["name"] = ["Testshire Youth Justice Service"]
    data["kind"] = [Agency._meta.get_field("kind").choices[0][0]]
    response = client.post(f"{ADMIN}/agency/add/", data)
    assert response.status_code == 302, _errors(response)
    agency = Agency.objects.get(name="Testshire Youth Justice Service")
    assert list(PartnershipAgency.objects.filter(agency=agency).values_list("partnership", flat=True)) == [
        world.partnership.pk
    ]
    assert "Testshire Youth Justice Service" in client.get(f"{ADMIN}/agency/").content.decode()


def test_a_person_added_by_the_business_unit_can_be_found_again(client, world):
    sign_in(client, world.admin)
    data = form_of(client.get(f"{ADMIN}/user/add/"))
    data.update(
        {
            "username": ["new.practitioner"],
            "password1": ["a-long-enough-password-123"],
            "password2": ["a-long-enough-password-123"],
            "agency": [str(world.health.pk)],
        }
    )
    response = client.post(f"{ADMIN}/user/add/", data)
    assert response.status_code == 302, _errors(response)
    person = User.objects.get(username="new.practitioner")
    assert person.agency == world.health
    assert client.get(response["Location"]).status_code == 200  # its page, to carry on


def test_someone_who_works_only_in_another_partnership_is_not_the_business_units(client, world, other_world):
    """An agency can belong to two partnerships (a police force covering both): its people
    who hold roles only in the other one are not on this business unit's pages."""
    from accord.testing.factories import UserFactory

    PartnershipAgency.objects.create(partnership=other_world.partnership, agency=world.health)
    theirs = UserFactory(
        username="shared.agency.other.only",
        agency=world.health,
        roles=[(other_world.partnership, Role.MANAGER)],
    )
    both = UserFactory(
        username="shared.agency.both",
        agency=world.health,
        roles=[(other_world.partnership, Role.MANAGER), (world.partnership, Role.PRACTITIONER)],
    )
    newcomer = UserFactory(username="shared.agency.newcomer", agency=world.health, roles=[])
    sign_in(client, world.admin)
    listing = client.get(f"{ADMIN}/user/?q=shared.agency").content.decode()
    assert both.username in listing and newcomer.username in listing
    assert theirs.username not in listing
    assert client.get(f"{ADMIN}/user/{theirs.pk}/change/").status_code in (302, 404)
    assert client.get(f"{ADMIN}/user/{both.pk}/change/").status_code == 200


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number": {"2": "5"}}, "no gaps"),
        ({"is_formal": {"2": "on"}}, "Formal stages are the top ones"),
        ({"is_formal": {"top": ""}}, "Mark at least the top stage as formal"),
        ({"worked_by": {"top": "managers"}}, "more senior ones"),
    ],
)
def test_the_ladder_stays_one_accord_can_run(client, world, change, message):
    sign_in(client, world.admin)
    url = f"{ADMIN}/partnership/{world.partnership.pk}/change/"
    data = form_of(client.get(url))
    rows = {data[f"stages-{i}-number"][0]: i for i in range(int(data["stages-TOTAL_FORMS"][0]))}
    top = max(rows, key=int)
    for field, values in change.items():
        for number, value in values.items():
            i = rows[top if number == "top" else number]
            if value:
                data[f"stages-{i}-{field}"] = [value]
            else:
                data.pop(f"stages-{i}-{field}", None)
    before = list(
        Stage.objects.filter(partnership=world.partnership).values_list("number", "is_formal", "worked_by")
    )
    response = client.post(url, data)
    assert response.status_code == 200 and message in response.content.decode()
    after = list(
        Stage.objects.filter(partnership=world.partnership).values_list("number", "is_formal", "worked_by")
    )
    assert after == before  # nothing saved


def test_an_agency_shared_with_another_partnership_is_shown_but_not_changed(client, world, other_world):
    PartnershipAgency.objects.create(partnership=other_world.partnership, agency=world.health)
    sign_in(client, world.admin)
    url = f"{ADMIN}/agency/{world.health.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="name"' not in page.content.decode()  # read-only
    response = client.post(
        url, {"name": "Renamed for everyone", "kind": world.health.kind, "is_active": "on"}
    )
    assert response.status_code == 403
    world.health.refresh_from_db()
    assert world.health.name != "Renamed for everyone"
    # Its own agencies it changes as before.
    own = form_of(client.get(f"{ADMIN}/agency/{world.social.pk}/change/"))
    own["name"] = ["Testshire Children's Services (renamed)"]
    assert client.post(f"{ADMIN}/agency/{world.social.pk}/change/", own).status_code == 302
    world.social.refresh_from_db()
    assert world.social.name == "Testshire Children's Services (renamed)"


def test_a_stage_keeps_its_number_and_one_escalations_stand_at_keeps_its_formality(client, world):
    world.formal()  # open at the formal top stage
    sign_in(client, world.admin)
    url = f"{ADMIN}/partnership/{world.partnership.pk}/change/"
    data = form_of(client.get(url))
    rows = {data[f"stages-{i}-number"][0]: i for i in range(int(data["stages-TOTAL_FORMS"][0]))}
    top = max(rows, key=int)
    ladder = list(
        Stage.objects.filter(partnership=world.partnership).values_list("number", "name", "is_formal")
    )

    swapped = dict(data)
    swapped[f"stages-{rows['1']}-number"], swapped[f"stages-{rows['2']}-number"] = ["2"], ["1"]
    response = client.post(url, swapped)  # a swap: refused with a message, never a database error
    assert response.status_code == 200 and "number cannot change" in response.content.decode()

    # A new top stage, formal, with the old top no longer formal: escalations stand at it.
    moved = dict(data)
    n = int(moved["stages-TOTAL_FORMS"][0])
    moved.pop(f"stages-{rows[top]}-is_formal")
    moved[f"stages-{rows[top]}-worked_by"] = ["senior_leaders"]
    moved.update(
        {
            "stages-TOTAL_FORMS": [str(n + 1)],
            f"stages-{n}-number": [str(int(top) + 1)],
            f"stages-{n}-name": ["A new top"],
            f"stages-{n}-worked_by": ["formal_body"],
            f"stages-{n}-routine_working_days": ["10"],
            f"stages-{n}-urgent_working_days": ["1"],
            f"stages-{n}-is_formal": ["on"],
            f"stages-{n}-partnership": [str(world.partnership.pk)],
        }
    )
    response = client.post(url, moved)
    assert (
        response.status_code == 200 and f"Open escalations stand at stage {top}" in response.content.decode()
    )
    after = list(
        Stage.objects.filter(partnership=world.partnership).values_list("number", "name", "is_formal")
    )
    assert after == ladder


def test_the_people_list_filters_by_the_business_units_own_agencies_only(client, world, other_world):
    sign_in(client, world.admin)
    import html as html_lib

    html = html_lib.unescape(client.get(f"{ADMIN}/user/").content.decode())
    assert world.health.name in html and world.social.name in html
    assert other_world.health.name not in html and other_world.social.name not in html
    filtered = client.get(f"{ADMIN}/user/", {"agency__id__exact": world.health.pk})
    assert filtered.status_code == 200
    shown = {u.username for u in filtered.context["cl"].result_list}
    assert world.practitioner_health.username in shown and world.practitioner_social.username not in shown


def test_changing_who_works_a_stage_on_the_settings_page_changes_who_sees_escalations_past_it(client, world):
    from accord.escalations import visibility
    from accord.escalations.models import Escalation

    e = world.at_stage_3()
    assert Escalation.objects.visible_to(world.senior_social).filter(pk=e.pk).exists()
    sign_in(client, world.admin)
    url = f"{ADMIN}/partnership/{world.partnership.pk}/change/"
    data = form_of(client.get(url))
    rows = {data[f"stages-{i}-number"][0]: i for i in range(int(data["stages-TOTAL_FORMS"][0]))}
    data[f"stages-{rows['3']}-worked_by"] = ["managers"]
    response = client.post(url, data)
    assert response.status_code == 302
    assert not Escalation.objects.visible_to(world.senior_social).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)


def test_a_change_that_moves_due_dates_lists_them_before_it_is_saved(client, world):
    """The settings page shows which open escalations' due dates a change of timescale,
    priority or budget moves, and saves only once the business unit says to move them."""
    import datetime as dt

    from django.utils import timezone

    from accord.core import clock
    from accord.partnership.models import TimescaleBudget

    monday = timezone.make_aware(dt.datetime(2026, 11, 2, 10))
    e = world.raised(at=monday)
    assert e.due_date == dt.date(2026, 11, 9)
    sign_in(client, world.admin)
    url = f"{ADMIN}/partnership/{world.partnership.pk}/change/"
    with clock.set_to(monday):
        data = form_of(client.get(url))
        first = next(
            i for i in range(int(data["stages-TOTAL_FORMS"][0])) if data[f"stages-{i}-number"] == ["1"]
        )
        data[f"stages-{first}-routine_working_days"] = ["3"]
        refused = client.post(url, data)
        html = refused.content.decode()
        assert refused.status_code == 200
        assert e.reference in html and "9 November 2026" in html and "5 November 2026" in html
        assert "Nothing has been saved" in html and 'name="confirm_moved_due_dates"' in html
        assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
        e.refresh_from_db()
        assert e.due_date == dt.date(2026, 11, 9)
        data["confirm_moved_due_dates"] = ["on"]
        saved = client.post(url, data)
        assert saved.status_code == 302, _errors(saved)
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 5)
    # A budget over stages 1 and 2, added on the same page, is previewed the same way.
    with clock.set_to(monday):
        data = form_of(client.get(url))
        data.pop("confirm_moved_due_dates", None)
        data.update(
            {
                "budgets-0-first_stage": ["1"],
                "budgets-0-last_stage": ["2"],
                "budgets-0-working_days": ["2"],
                "budgets-0-origin": [""],
                "budgets-TOTAL_FORMS": ["1"],
            }
        )
        refused = client.post(url, data)
        assert refused.status_code == 200 and "4 November 2026" in refused.content.decode(), _errors(refused)
        assert not TimescaleBudget.objects.exists()
        data["confirm_moved_due_dates"] = ["on"]
        assert client.post(url, data).status_code == 302
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 4)
    assert TimescaleBudget.objects.get().working_days == 2


def test_the_business_unit_adds_a_priority_and_cannot_drop_routine_or_urgent(client, world):
    from accord.partnership.models import PriorityTier
    from accord.partnership.protocol import ladder_of

    sign_in(client, world.admin)
    url = f"{ADMIN}/partnership/{world.partnership.pk}/change/"
    data = form_of(client.get(url))
    count = int(data["priorities-TOTAL_FORMS"][0])
    assert count == 2
    data.update(
        {
            f"priorities-{count}-code": ["high"],
            f"priorities-{count}-label": ["High"],
            f"priorities-{count}-description": ["significant harm is likely"],
            f"priorities-{count}-position": ["1"],
            "priorities-TOTAL_FORMS": [str(count + 1)],
        }
    )
    saved = client.post(url, data)
    assert saved.status_code == 302, _errors(saved)
    assert ladder_of(type(world.partnership).objects.get(pk=world.partnership.pk)).priority_codes == [
        "routine",
        "high",
        "urgent",
    ]
    data = form_of(client.get(url))
    urgent = next(i for i in range(3) if data[f"priorities-{i}-code"] == ["urgent"])
    data[f"priorities-{urgent}-DELETE"] = ["on"]
    refused = client.post(url, data)
    assert refused.status_code == 200 and '"routine" and "urgent"' in refused.content.decode().replace(
        "&quot;", '"'
    )
    assert PriorityTier.objects.filter(partnership=world.partnership, code="urgent").exists()


def test_the_formal_bodys_name_and_a_timescale_changed_in_one_save_are_both_kept(client, world):
    sign_in(client, world.admin)
    url = f"{ADMIN}/partnership/{world.partnership.pk}/change/"
    data = form_of(client.get(url))
    first = next(i for i in range(int(data["stages-TOTAL_FORMS"][0])) if data[f"stages-{i}-number"] == ["1"])
    data[f"stages-{first}-routine_working_days"] = ["6"]
    data["formal_body_name"] = ["Safeguarding Practice Panel"]
    saved = client.post(url, data)
    assert saved.status_code == 302, _errors(saved)
    world.partnership.refresh_from_db()
    assert world.partnership.formal_body_name == "Safeguarding Practice Panel"
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 6
