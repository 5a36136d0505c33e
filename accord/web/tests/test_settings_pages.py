"""The business unit's settings pages in Accord's own look: the partnership's settings and its
protocol a part at a time, its agencies, people and taxonomies. The rules are the services'
(``partnership.services``, ``protocol_apply``): a page is one caller of them, and
these tests use the pages as the business unit does."""

import copy
import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import escape

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import NotAllowed
from accord.escalations import visibility
from accord.escalations.models import Escalation
from accord.escalations.protocol import partnership_create, protocol_apply
from accord.partnership.models import (
    AreaOfDisagreement,
    PartnershipAgency,
    PracticeTheme,
    PriorityTier,
    Role,
    RoleAssignment,
    Stage,
    TimescaleBudget,
    User,
)
from accord.partnership.protocol import document_of, ladder_of, preset, preset_names
from accord.partnership.services.agencies import agency_add
from accord.partnership.services.people import PersonDetails, person_save
from accord.partnership.services.settings import partnership_update
from accord.partnership.services.taxonomies import TermDetails, term_save
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db
SETTINGS = "/business-unit/settings"


def stage_data(world, number: int, **changes) -> dict:
    s = Stage.objects.get(partnership=world.partnership, number=number)
    data = {
        "name": s.name,
        "worked_by": s.worked_by,
        "routine_working_days": s.routine_working_days,
        "urgent_working_days": s.urgent_working_days,
    }
    if s.is_formal:
        data["formal"] = "on"
    if s.conference_chair_may_start:
        data["conference_chair_may_start"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def ladder(world) -> list[tuple]:
    return list(
        Stage.objects.filter(partnership=world.partnership).values_list(
            "number", "name", "is_formal", "worked_by", "routine_working_days"
        )
    )


def test_only_the_business_unit_reaches_the_settings_pages(client, world):
    for person in (world.manager_health, world.pdg_chair, world.executive):
        sign_in(client, person)
        assert client.get(f"{SETTINGS}/").status_code == 403
        assert client.post(f"{SETTINGS}/protocol/stages/1/", stage_data(world, 1)).status_code == 403
    sign_in(client, world.admin)
    home = client.get(f"{SETTINGS}/")
    assert home.status_code == 200
    assert world.partnership.front_door_phone in home.content.decode()


def test_the_services_refuse_anyone_but_the_business_unit(world, neighbour):
    """The page is one caller: the rule is the service's, whoever calls it."""
    with pytest.raises(NotAllowed):
        partnership_update(
            actor=world.manager_health, partnership=world.partnership, data={"follow_up_weeks": 2}
        )
    with pytest.raises(NotAllowed):  # another partnership's business unit, sharing an agency
        partnership_update(actor=neighbour.admin, partnership=world.partnership, data={"follow_up_weeks": 2})
    with pytest.raises(NotAllowed):
        protocol_apply(
            actor=neighbour.admin, partnership=world.partnership, document=document_of(world.partnership)
        )
    with pytest.raises(NotAllowed):
        agency_add(
            actor=neighbour.admin, partnership=world.partnership, name="Wessex Housing", kind="housing"
        )
    with pytest.raises(NotAllowed):
        term_save(
            actor=world.pdg_chair,
            partnership=world.partnership,
            taxonomy="themes",
            details=TermDetails(label="Anything", code="anything"),
        )
    with pytest.raises(NotAllowed):
        person_save(
            actor=neighbour.admin,
            partnership=world.partnership,
            details=PersonDetails(
                first_name="A", last_name="B", email="a.b@example.org", agency=world.health
            ),
        )
    world.partnership.refresh_from_db()
    assert world.partnership.follow_up_weeks != 2


def test_the_partnerships_settings_are_changed_and_audited_by_field(client, world):
    sign_in(client, world.admin)
    page = client.get(f"{SETTINGS}/partnership/")
    assert page.status_code == 200
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False)}
    data["facilitators_see_children"] = "on" if world.partnership.facilitators_see_children else ""
    data.update({"suppression_threshold": "7", "front_door_phone": "01234 567890"})
    data = {k: v for k, v in data.items() if v != ""}
    response = client.post(f"{SETTINGS}/partnership/", data)
    assert response.status_code == 302, response.context["form"].errors
    world.partnership.refresh_from_db()
    assert world.partnership.suppression_threshold == 7
    assert world.partnership.front_door_phone == "01234 567890"
    entry = AuditEvent.objects.filter(verb=Verb.PARTNERSHIP_SETTINGS_CHANGED).get()
    assert entry.payload["fields"] == ["front_door_phone", "suppression_threshold"]
    assert "01234" not in str(entry.payload)  # the names of the fields, never their values


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"suppression_threshold": "1"}, "greater than or equal to 2"),
        ({"retention_days_after_closure": "10"}, "greater than or equal to 30"),
        ({"holiday_country": "XX"}, "country code the bank-holiday calendar knows"),
        ({"holiday_subdivision": "ZZZ"}, "Enter one of ENG"),
    ],
)
def test_a_setting_out_of_bounds_is_refused_in_plain_words(client, world, change, message):
    sign_in(client, world.admin)
    form = client.get(f"{SETTINGS}/partnership/").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False, "")} | change
    response = client.post(f"{SETTINGS}/partnership/", data)
    assert response.status_code == 200 and message in response.content.decode()
    assert not AuditEvent.objects.filter(verb=Verb.PARTNERSHIP_SETTINGS_CHANGED).exists()


def test_a_new_calendar_moves_the_open_stages_due_dates(world):
    wednesday = timezone.make_aware(dt.datetime(2026, 12, 30, 10))
    e = world.raised(at=wednesday)  # five working days over the new year in England
    with clock.set_to(wednesday):
        assert e.due_date == dt.date(2027, 1, 7)
        partnership_update(
            actor=world.admin, partnership=world.partnership, data={"holiday_subdivision": "SCT"}
        )
    e.refresh_from_db()
    assert e.due_date == dt.date(2027, 1, 8)  # Scotland also keeps 2 January (on Monday 4th)


def test_the_business_unit_changes_a_stage_on_its_page(client, world):
    sign_in(client, world.admin)
    assert client.get(f"{SETTINGS}/protocol/").status_code == 200
    response = client.post(f"{SETTINGS}/protocol/stages/1/", stage_data(world, 1, routine_working_days=7))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 7
    entry = AuditEvent.objects.filter(verb=Verb.PROTOCOL_CHANGED).get()
    assert entry.payload["part"] == "stage 1" and entry.actor_id == world.admin.pk


@pytest.mark.parametrize(
    ("number", "change", "message"),
    [
        (2, {"formal": "on"}, "Formal stages are the top ones"),
        ("top", {"formal": None}, "Mark at least the top stage as formal"),
        ("top", {"worked_by": "managers", "formal": "on"}, "more senior ones"),
    ],
)
def test_the_ladder_stays_one_accord_can_run(client, world, number, change, message):
    sign_in(client, world.admin)
    top = max(Stage.objects.filter(partnership=world.partnership).values_list("number", flat=True))
    n = top if number == "top" else number
    before = ladder(world)
    response = client.post(f"{SETTINGS}/protocol/stages/{n}/", stage_data(world, n, **change))
    assert response.status_code == 200 and message in response.content.decode()
    assert ladder(world) == before  # nothing saved


def test_a_stage_escalations_stand_at_changes_at_the_review_with_what_it_does_listed(client, world):
    """The year's review with escalations open: a formal stage added above, the top stage made
    informal while an escalation stands at it (listed with who loses sight, then saved once
    ticked), and a stage with an open escalation removed only once a stage is chosen for it."""
    formal = world.formal()  # open at the formal top stage
    sign_in(client, world.admin)
    top = max(Stage.objects.filter(partnership=world.partnership).values_list("number", flat=True))
    new_top = client.post(
        f"{SETTINGS}/protocol/stages/new/",
        {
            "name": "A new top",
            "worked_by": "formal_body",
            "formal": "on",
            "routine_working_days": "10",
            "urgent_working_days": "1",
        },
    )
    assert new_top.status_code == 302  # a formal stage added above: nothing open changes
    data = stage_data(world, top, formal=None, worked_by="senior_leaders")
    listed = client.post(f"{SETTINGS}/protocol/stages/{top}/", data)
    html = listed.content.decode()
    assert listed.status_code == 200 and formal.reference in html and "Nothing has been saved" in html
    assert escape(world.pdg_member.get_full_name()) in html  # the formal body loses sight of it
    assert Stage.objects.get(partnership=world.partnership, number=top).is_formal
    saved = client.post(f"{SETTINGS}/protocol/stages/{top}/", data | {"confirm_moved_due_dates": "on"})
    assert saved.status_code == 302
    assert not Stage.objects.get(partnership=world.partnership, number=top).is_formal
    formal.refresh_from_db()
    assert formal.stage == top and formal.formal_at is not None  # it became formal when it did
    assert visibility.differences() == (0, 0, 0)
    # The ladder stays one Accord can run: the new top, now its only formal stage, stays.
    refused = client.post(f"{SETTINGS}/protocol/stages/{top + 1}/remove/")
    assert refused.status_code == 200 and "at least the top stage" in refused.content.decode()
    # Any stage may be removed (the ones above move down); a two-stage ladder keeps both.
    assert client.get(f"{SETTINGS}/protocol/stages/1/remove/").status_code == 200


def test_changing_who_works_a_stage_changes_who_sees_escalations_past_it(client, world):
    e = world.at_stage_3()
    assert Escalation.objects.visible_to(world.senior_social).filter(pk=e.pk).exists()
    sign_in(client, world.admin)
    data = stage_data(world, 3, worked_by="managers")
    listed = client.post(f"{SETTINGS}/protocol/stages/3/", data)
    assert (
        listed.status_code == 200 and escape(world.senior_social.get_full_name()) in listed.content.decode()
    )
    response = client.post(f"{SETTINGS}/protocol/stages/3/", data | {"confirm_moved_due_dates": "on"})
    assert response.status_code == 302
    assert not Escalation.objects.visible_to(world.senior_social).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)


def test_a_change_that_moves_due_dates_lists_them_before_it_is_saved(client, world):
    monday = timezone.make_aware(dt.datetime(2026, 11, 2, 10))
    e = world.raised(at=monday)
    assert e.due_date == dt.date(2026, 11, 9)
    sign_in(client, world.admin)
    url = f"{SETTINGS}/protocol/stages/1/"
    with clock.set_to(monday):
        data = stage_data(world, 1, routine_working_days=3)
        refused = client.post(url, data)
        html = refused.content.decode()
        assert refused.status_code == 200
        assert e.reference in html and "9 November 2026" in html and "5 November 2026" in html
        assert "Nothing has been saved" in html and 'name="confirm_moved_due_dates"' in html
        assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
        saved = client.post(url, data | {"confirm_moved_due_dates": "on"})
        assert saved.status_code == 302
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 5)
    # A limit over stages 1 and 2 is previewed the same way.
    with clock.set_to(monday):
        budget = {"first_stage": "1", "last_stage": "2", "working_days": "2", "origin": ""}
        refused = client.post(f"{SETTINGS}/protocol/budgets/new/", budget)
        assert refused.status_code == 200 and "4 November 2026" in refused.content.decode()
        assert not TimescaleBudget.objects.exists()
        saved = client.post(f"{SETTINGS}/protocol/budgets/new/", budget | {"confirm_moved_due_dates": "on"})
        assert saved.status_code == 302
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 4)
    assert TimescaleBudget.objects.get().working_days == 2
    assert "Stages 1 to 2" in client.get(f"{SETTINGS}/protocol/").content.decode()


def test_the_business_unit_adds_a_priority_and_cannot_drop_routine_or_urgent(client, world):
    sign_in(client, world.admin)
    added = client.post(
        f"{SETTINGS}/protocol/priorities/new/",
        {"code": "high", "label": "High", "description": "significant harm is likely", "after": "1"},
    )
    assert added.status_code == 302
    assert ladder_of(type(world.partnership).objects.get(pk=world.partnership.pk)).priority_codes == [
        "routine",
        "high",
        "urgent",
    ]
    # A stage gives the added priority its own timescale.
    response = client.post(f"{SETTINGS}/protocol/stages/2/", stage_data(world, 2, days_high="2"))
    assert response.status_code == 302
    assert Stage.objects.get(partnership=world.partnership, number=2).other_working_days == {"high": 2}
    # Routine and urgent are never offered for removal; an added one is, and takes its timescales.
    assert client.get(f"{SETTINGS}/protocol/priorities/urgent/remove/").status_code == 404
    assert client.post(f"{SETTINGS}/protocol/priorities/high/remove/").status_code == 302
    assert not PriorityTier.objects.filter(partnership=world.partnership, code="high").exists()
    assert Stage.objects.get(partnership=world.partnership, number=2).other_working_days == {}


def test_the_formal_bodys_name_and_authority_are_changed(client, world):
    sign_in(client, world.admin)
    response = client.post(
        f"{SETTINGS}/protocol/formal-body/",
        {"name": "Safeguarding Practice Panel", "authority": "directs_next_steps", "source": "Our procedure"},
    )
    assert response.status_code == 302
    world.partnership.refresh_from_db()
    assert world.partnership.formal_body_name == "Safeguarding Practice Panel"
    assert world.partnership.formal_body_authority == "directs_next_steps"
    assert world.partnership.protocol_source == "Our procedure"


def test_the_business_unit_adds_a_person_who_is_invited_and_can_be_found_again(client, world, mailoutbox):
    sign_in(client, world.admin)
    response = client.post(
        "/business-unit/people/new/",
        {
            "first_name": "Nia",
            "last_name": "Newcombe",
            "email": "Nia.Newcombe@example.org",
            "agency": world.health.pk,
            "line_manager_email": world.manager_health.email,
            "roles": [Role.PRACTITIONER],
            "invite": "on",
        },
    )
    assert response.status_code == 302
    person = User.objects.get(email="nia.newcombe@example.org")
    assert person.agency == world.health and person.line_manager == world.manager_health
    assert not person.has_usable_password()  # nobody typed their password
    assert person.invited_at is not None and mailoutbox[-1].to == [person.email]
    assert list(person.role_assignments.values_list("role", flat=True)) == [Role.PRACTITIONER]
    found = client.get("/business-unit/people/", {"q": "newcombe"})
    assert [p.pk for p in found.context["page"].object_list] == [person.pk]
    assert AuditEvent.objects.filter(verb=Verb.PERSON_ADDED, target_id=str(person.pk)).exists()


def test_a_persons_roles_are_given_and_taken_away_and_line_management_cannot_loop(client, world):
    person = world.practitioner_social
    sign_in(client, world.admin)
    base = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "agency": person.agency_id,
        "line_manager_email": world.manager_social.email,
        "is_active": "on",
    }
    url = f"/business-unit/people/{person.pk}/"
    assert client.post(url, base | {"roles": [Role.PRACTITIONER, Role.MANAGER]}).status_code == 302
    assert set(RoleAssignment.objects.filter(user=person).values_list("role", flat=True)) == {
        Role.PRACTITIONER,
        Role.MANAGER,
    }
    assert client.post(url, base | {"roles": [Role.PRACTITIONER]}).status_code == 302
    assert list(RoleAssignment.objects.filter(user=person).values_list("role", flat=True)) == [
        Role.PRACTITIONER
    ]
    # Their manager cannot be made their report.
    manager = world.manager_social
    looped = client.post(
        f"/business-unit/people/{manager.pk}/",
        {
            "first_name": manager.first_name,
            "last_name": manager.last_name,
            "email": manager.email,
            "agency": manager.agency_id,
            "line_manager_email": person.email,
            "roles": [Role.MANAGER],
            "is_active": "on",
        },
    )
    assert looped.status_code == 200 and "a line cannot go round" in looped.content.decode()


def test_deactivating_someone_hands_their_open_work_to_their_line_manager(client, world):
    e = world.raised()
    person = world.practitioner_health
    sign_in(client, world.admin)
    response = client.post(
        f"/business-unit/people/{person.pk}/",
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
            "agency": person.agency_id,
            "line_manager_email": person.line_manager.email,
            "roles": [Role.PRACTITIONER],
        },  # "is_active" unticked
    )
    assert response.status_code == 302
    person.refresh_from_db()
    e.refresh_from_db()
    assert not person.is_active and e.raised_by == world.manager_health
    assert AuditEvent.objects.filter(verb=Verb.PERSON_DEACTIVATED, payload__handed_on=1).exists()


def test_a_business_unit_keeps_only_its_own_people(client, world, neighbour):
    """Someone of an agency shared with another partnership who works only there is that
    partnership's to keep: not listed, not found, not changed."""
    theirs = neighbour.practitioner_health  # the shared trust, neighbour's roles only
    both = UserFactory(
        username="shared.both",
        agency=world.health,
        roles=[(neighbour.partnership, Role.MANAGER), (world.partnership, Role.PRACTITIONER)],
    )
    newcomer = UserFactory(username="shared.newcomer", agency=world.health, roles=[])
    sign_in(client, world.admin)
    listed = {p.pk for p in client.get("/business-unit/people/", {"agency": world.health.pk}).context["page"]}
    assert both.pk in listed and newcomer.pk in listed and theirs.pk not in listed
    assert client.get(f"/business-unit/people/{theirs.pk}/").status_code == 404
    assert client.post(f"/business-unit/people/{theirs.pk}/", {"first_name": "X"}).status_code == 404
    # Giving `both` roles here leaves their roles in the other partnership alone.
    response = client.post(
        f"/business-unit/people/{both.pk}/",
        {
            "first_name": both.first_name,
            "last_name": both.last_name,
            "email": both.email,
            "agency": world.health.pk,
            "roles": [Role.MANAGER],
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert set(both.role_assignments.values_list("partnership_id", "role")) == {
        (neighbour.partnership.pk, Role.MANAGER),
        (world.partnership.pk, Role.MANAGER),
    }
    # Their line manager is theirs in both partnerships: not asked here, and not changed.
    page = client.get(f"/business-unit/people/{both.pk}/").content.decode()
    assert "also works in another partnership" in page and 'name="line_manager_email"' not in page
    refused = client.post(
        f"/business-unit/people/{both.pk}/",
        {
            "roles": [Role.MANAGER],
            "line_manager_email": neighbour.manager_social.email,
            "email": "x@evil.example",
        },
    )
    assert refused.status_code == 200 and "also works in another partnership" in refused.content.decode()
    both.refresh_from_db()
    assert both.line_manager_id is None and both.email == "shared.both@example.invalid"


def test_an_agency_is_changed_and_one_shared_with_another_partnership_only_in_how_it_takes_part(
    client, world, neighbour
):
    sign_in(client, world.admin)
    own = client.post(
        f"/business-unit/agencies/{world.social.pk}/",
        {
            "name": "Testshire Children's Services (renamed)",
            "kind": world.social.kind,
            "is_active": "on",
            "takes_part_in_raising": "on",
            "staff": "120",
        },
    )
    assert own.status_code == 302
    world.social.refresh_from_db()
    assert world.social.name == "Testshire Children's Services (renamed)"
    assert PartnershipAgency.objects.get(partnership=world.partnership, agency=world.social).staff == 120
    shared = client.get(f"/business-unit/agencies/{world.health.pk}/")
    assert shared.status_code == 200 and 'name="name"' not in shared.content.decode()
    was = world.health.name
    response = client.post(
        f"/business-unit/agencies/{world.health.pk}/", {"name": "Renamed for everyone", "staff": "900"}
    )
    assert response.status_code == 302
    world.health.refresh_from_db()
    assert world.health.name == was  # its name is the other partnership's too
    assert PartnershipAgency.objects.get(partnership=world.partnership, agency=world.health).staff == 900
    assert PartnershipAgency.objects.get(partnership=neighbour.partnership, agency=world.health).staff is None
    # Another partnership's agency is not found here.
    assert client.get(f"/business-unit/agencies/{neighbour.social.pk}/").status_code == 404


def test_taxonomy_terms_are_added_and_retired_never_removed(client, world):
    sign_in(client, world.admin)
    added = client.post(
        "/business-unit/taxonomies/themes/new/",
        {"label": "Neglect of older children", "code": "neglect-new", "position": "3", "is_active": "on"},
    )
    assert added.status_code == 302
    theme = PracticeTheme.objects.get(partnership=world.partnership, code="neglect-new")
    retired = client.post(
        f"/business-unit/taxonomies/themes/{theme.pk}/",
        {"label": "Neglect of older children", "position": "3"},
    )
    assert retired.status_code == 302
    theme.refresh_from_db()
    assert not theme.is_active and theme.code == "neglect-new"
    area = AreaOfDisagreement.objects.filter(partnership=world.partnership).first()
    duplicate = client.post(
        "/business-unit/taxonomies/areas/new/", {"label": area.label, "code": "another", "position": "0"}
    )
    assert duplicate.status_code == 200 and "Another term has that label" in duplicate.content.decode()
    assert (
        AuditEvent.objects.filter(
            verb__in=[Verb.TERM_ADDED, Verb.TERM_CHANGED],
            payload__taxonomy="themes",
            payload__term="neglect-new",
        ).count()
        == 2
    )


def test_the_django_admin_is_the_deployment_administrators_alone(client, world):
    sign_in(client, world.admin)
    for path in ("", "partnership/partnership/", "partnership/user/", "reports/pdgmeeting/"):
        assert client.get(f"/business-unit/admin/{path}", follow=True).status_code == 403
    superuser = UserFactory(username="deployment.admin", is_superuser=True, is_staff=True, roles=[])
    sign_in(client, superuser)
    assert client.get("/business-unit/admin/partnership/user/").status_code == 200


def test_the_people_list_costs_the_same_queries_however_many_people(
    client, world, django_assert_max_num_queries
):
    sign_in(client, world.admin)
    client.get("/business-unit/people/")  # the session and roles, read once
    for n in range(60):
        UserFactory(username=f"many.{n}", agency=world.social, roles=[(world.partnership, Role.PRACTITIONER)])
    with django_assert_max_num_queries(14):
        assert client.get("/business-unit/people/").status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get("/business-unit/people/", {"page": "2"}).status_code == 200


def test_a_deployment_administrator_is_not_the_business_units_to_change(client, world):
    """A business unit could otherwise point an administrator's email at its own mailbox."""
    superuser = UserFactory(
        username="deployment.admin.too", is_superuser=True, roles=[(world.partnership, Role.EXECUTIVE)]
    )
    sign_in(client, world.admin)
    response = client.post(
        f"/business-unit/people/{superuser.pk}/",
        {
            "first_name": "X",
            "last_name": "Y",
            "email": "business.unit.mailbox@example.org",
            "agency": world.unit.pk,
            "roles": [Role.EXECUTIVE],
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "only they change them" in response.content.decode()
    superuser.refresh_from_db()
    assert superuser.email != "business.unit.mailbox@example.org"


def test_someone_who_has_signed_in_through_their_agency_is_never_sent_a_password_link(
    client, world, mailoutbox
):
    person = world.practitioner_health
    person.set_unusable_password()
    person.last_login = timezone.now()
    person.save()
    sign_in(client, world.admin)
    page = client.post(f"/business-unit/people/{person.pk}/invitation/", follow=True)
    assert "already signs in" in page.content.decode()
    assert mailoutbox == []
    person.refresh_from_db()
    assert person.invited_at is None


def test_invitations_are_the_partnerships_own_business_units_whoever_calls(world, neighbour, mailoutbox):
    """Another partnership's business unit (sharing an agency) neither invites nor revokes; and
    revoking touches only a pending invitation, never a password someone has set."""
    from accord.partnership.services.invitations import invite, revoke_invitation

    person = world.practitioner_social
    for call in (invite, revoke_invitation):
        with pytest.raises(NotAllowed):
            call(actor=neighbour.admin, person=person, partnership=world.partnership)
        with pytest.raises(NotAllowed):  # not a person of the neighbour's either
            call(actor=neighbour.admin, person=person, partnership=neighbour.partnership)
    assert mailoutbox == []
    assert person.has_usable_password()
    revoke_invitation(actor=world.admin, person=person, partnership=world.partnership)
    person.refresh_from_db()
    assert person.has_usable_password()  # nothing pending: their password stays


@pytest.mark.parametrize("name", preset_names())
def test_every_presets_protocol_survives_a_change_made_a_part_at_a_time(client, name):
    """A stage renamed, a priority added and a limit on working days added on the pages
    leave the rest of any preset's protocol as it was: its formal stages, who works each,
    its other priorities' timescales, its budgets and caps, and its formal body's authority."""
    partnership = partnership_create(
        actor=None, name=f"{name} test", slug=f"{name}-test", document=preset(name)
    ).partnership
    unit = UserFactory(username=f"{name}.unit", roles=[(partnership, Role.BUSINESS_UNIT)])
    before = document_of(partnership)
    sign_in(client, unit)
    assert client.get(f"{SETTINGS}/protocol/").status_code == 200
    top = before["stages"][-1]
    data = {
        "name": "Renamed",
        "worked_by": top["worked_by"],
        "routine_working_days": top["routine_working_days"],
        "urgent_working_days": top["urgent_working_days"],
        **({"formal": "on"} if top["formal"] else {}),
        **({"conference_chair_may_start": "on"} if top["conference_chair_may_start"] else {}),
        **{f"days_{code}": days for code, days in top["other_working_days"].items()},
        "requires": top["requires"],  # the page shows what the stage asks for ticked
        **({"name_cy": top["name_cy"]} if "name_cy" in top else {}),  # (filled in on the page)
    }
    page = client.get(f"{SETTINGS}/protocol/stages/{top['number']}/").content.decode()
    for answer in top["requires"]:
        assert f'value="{answer}" checked' in " ".join(page.split()) or f'checked value="{answer}"' in page
    assert client.post(f"{SETTINGS}/protocol/stages/{top['number']}/", data).status_code == 302
    assert (
        client.post(
            f"{SETTINGS}/protocol/priorities/new/",
            {"code": "added-here", "label": "Added here", "after": "0"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"{SETTINGS}/protocol/budgets/new/",
            {"first_stage": "1", "last_stage": "", "working_days": "200", "origin": "care_review"},
        ).status_code
        == 302
    )
    after = document_of(partnership)
    expected = copy.deepcopy(before)
    expected["stages"][-1]["name"] = "Renamed"
    expected["priorities"].insert(0, {"code": "added-here", "label": "Added here", "description": ""})
    expected["budgets"].append(
        {"first_stage": 1, "last_stage": None, "working_days": 200, "origin": "care_review"}
    )
    expected["budgets"].sort(key=lambda b: (b["first_stage"], b["origin"]))  # as they are read
    assert after == expected
    assert AuditEvent.objects.filter(verb=Verb.PROTOCOL_CHANGED).count() == 3


def test_someone_who_also_works_in_another_partnership_keeps_what_is_that_ones(client, world, neighbour):
    """The neighbour's business unit gives a role to someone of the first partnership: their
    agency and line manager (the first partnership's) stay as they are, and they cannot be
    deactivated from here, which would end their work in both."""
    person = world.practitioner_social  # an agency and a line manager of the first partnership
    RoleAssignment.objects.create(user=person, partnership=neighbour.partnership, role=Role.PRACTITIONER)
    sign_in(client, neighbour.admin)
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "agency": person.agency_id,
        "line_manager_email": person.line_manager.email,
        "roles": [Role.PRACTITIONER, Role.MANAGER],
        "is_active": "on",
    }
    saved = client.post(f"/business-unit/people/{person.pk}/", data)
    assert saved.status_code == 302
    person.refresh_from_db()
    assert person.agency == world.social and person.line_manager == world.manager_social
    assert set(person.role_assignments.values_list("partnership_id", "role")) == {
        (world.partnership.pk, Role.PRACTITIONER),
        (neighbour.partnership.pk, Role.PRACTITIONER),
        (neighbour.partnership.pk, Role.MANAGER),
    }
    # Deactivating them would end their work in both: not offered here, and the service refuses.
    client.post(f"/business-unit/people/{person.pk}/", {k: v for k, v in data.items() if k != "is_active"})
    person.refresh_from_db()
    assert person.is_active
    with pytest.raises(NotAllowed, match="also works in another partnership"):
        person_save(
            actor=neighbour.admin,
            partnership=neighbour.partnership,
            person=person,
            details=PersonDetails(
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                agency=person.agency,
                line_manager_email=person.line_manager.email,
                roles=[Role.PRACTITIONER],
                is_active=False,
            ),
        )
    person.refresh_from_db()
    assert person.is_active


def test_a_change_to_the_protocol_made_meanwhile_by_someone_else_is_not_undone_unseen(client, world):
    sign_in(client, world.admin)
    opened = client.get(f"{SETTINGS}/protocol/stages/1/").context["form"].initial["protocol_version"]
    other = UserFactory(username="second.officer", roles=[(world.partnership, Role.BUSINESS_UNIT)])
    doc = document_of(world.partnership)
    doc["stages"][1]["routine_working_days"] = 9
    protocol_apply(actor=other, partnership=world.partnership, document=doc)
    stale = client.post(
        f"{SETTINGS}/protocol/stages/1/",
        stage_data(world, 1, routine_working_days=7, protocol_version=opened),
    )
    assert stale.status_code == 200 and "Someone changed the protocol" in stale.content.decode()
    assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
    assert Stage.objects.get(partnership=world.partnership, number=2).routine_working_days == 9


BEYOND_ANY_KEY = "99999999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        f"/business-unit/people/{BEYOND_ANY_KEY}/",
        f"/business-unit/agencies/{BEYOND_ANY_KEY}/",
        f"/business-unit/taxonomies/areas/{BEYOND_ANY_KEY}/",
        f"/reports/meetings/{BEYOND_ANY_KEY}/",
        f"{SETTINGS}/protocol/stages/{BEYOND_ANY_KEY}/",
        f"{SETTINGS}/protocol/budgets/{BEYOND_ANY_KEY}/",
        f"/business-unit/people/?agency={BEYOND_ANY_KEY}&page={BEYOND_ANY_KEY}",
    ],
)
def test_an_id_no_database_key_can_hold_is_not_found_never_an_error(client, world, url):
    sign_in(client, world.admin)
    assert client.get(url).status_code in (200, 404)
    assert client.post(f"/business-unit/api-tokens/{BEYOND_ANY_KEY}/revoke/").status_code == 404
    assert client.post(f"/business-unit/people/{BEYOND_ANY_KEY}/invitation/").status_code == 404


def test_the_whole_protocol_is_downloaded_and_brought_back_in_for_the_years_review(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    monday = timezone.make_aware(dt.datetime(2026, 11, 2, 10))
    e = world.raised(at=monday)
    sign_in(client, world.admin)
    downloaded = client.get(f"{SETTINGS}/protocol/download/")
    assert downloaded["Content-Type"] == "application/json"
    document = json.loads(downloaded.content)
    assert document == document_of(world.partnership)

    def upload(content: bytes):
        return client.post(f"{SETTINGS}/protocol/upload/", {"file": SimpleUploadedFile("p.json", content)})

    assert "is not JSON" in upload(b"{not json").content.decode()
    stranded = copy.deepcopy(document)
    stranded["stages"] = stranded["stages"][:1]
    assert "govuk-error-summary" in upload(json.dumps(stranded).encode()).content.decode()
    document["stages"][0]["routine_working_days"] = 3
    with clock.set_to(monday):
        checked = upload(json.dumps(document).encode())
        html = checked.content.decode()
        assert e.reference in html and "5 November 2026" in html
        file_hash = checked.context["file_hash"]
        refused = client.post(f"{SETTINGS}/protocol/upload/", {"apply": file_hash})
        assert refused.status_code == 200 and "to use this protocol" in refused.content.decode()
        assert Stage.objects.get(partnership=world.partnership, number=1).routine_working_days == 5
        used = client.post(
            f"{SETTINGS}/protocol/upload/", {"apply": file_hash, "confirm_moved_due_dates": "on"}
        )
        assert used.status_code == 302
    e.refresh_from_db()
    assert e.due_date == dt.date(2026, 11, 5)
    assert AuditEvent.objects.filter(payload__part="the whole protocol").count() == 1


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "more than 8 deep"),
        (b'{"formal_body": ' + b'{"a": ' * 50 + b"1" + b"}" * 50 + b"}", "more than 8 deep"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 5 + b"1e999999999999999999999" * 20_000, "larger than 256 KB"),
    ],
    ids=["brackets", "objects", "not-utf8", "too-large"],
)
def test_an_uploaded_protocol_too_deep_or_too_large_is_refused_in_plain_words(
    client, world, content, refusal
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sign_in(client, world.admin)
    before = document_of(world.partnership)
    answer = client.post(f"{SETTINGS}/protocol/upload/", {"file": SimpleUploadedFile("p.json", content)})
    assert answer.status_code == 200 and refusal in answer.content.decode()
    assert document_of(world.partnership) == before


@pytest.mark.parametrize("preset_name", ["devon", "croydon"])
@pytest.mark.parametrize(
    "where",
    [
        ("stages", 1, "name"),
        ("formal_body", "name"),
        ("source",),
        ("priorities", 0, "label"),
        ("priorities", 1, "description"),
    ],
    ids=lambda w: "-".join(map(str, w)),
)
def test_a_control_character_in_any_text_of_an_uploaded_protocol_is_refused(
    client, world, preset_name, where
):
    """A NUL passed the check and failed on PostgreSQL (a 500); any control character is refused,
    wherever in the document it is, before anything is saved."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accord.escalations.protocol import protocol_apply as apply

    apply(actor=world.admin, partnership=world.partnership, document=preset(preset_name))
    before = document_of(world.partnership)
    document = copy.deepcopy(before)
    holder = document
    for key in where[:-1]:
        holder = holder[key]
    holder[where[-1]] = "Strategic\x00 lead"
    sign_in(client, world.admin)
    answer = client.post(
        f"{SETTINGS}/protocol/upload/", {"file": SimpleUploadedFile("p.json", json.dumps(document).encode())}
    )
    assert answer.status_code == 200 and "holds a control character" in answer.content.decode()
    assert document_of(world.partnership) == before
    for control in ("\x1f", "\x7f", "\n"):
        holder[where[-1]] = f"Strategic{control}lead"
        with pytest.raises(ValidationError, match="control character"):
            apply(actor=world.admin, partnership=world.partnership, document=document)
    document["stages"][0]["other_working_days"] = {"rout\x00ine": 3}
    holder[where[-1]] = "Strategic lead"
    with pytest.raises(ValidationError, match=r"key stages → 1 → other_working_days → rout\?ine"):
        apply(actor=world.admin, partnership=world.partnership, document=document)
    assert document_of(world.partnership) == before


def test_a_protocol_built_in_code_deeper_than_any_is_refused_not_a_recursion_error(world):
    deep: list = []
    inner = deep
    for _ in range(5000):
        inner.append([])
        inner = inner[0]
    document = document_of(world.partnership)
    document["formal_body"]["authority"] = deep
    with pytest.raises(ValidationError, match="more than 8 deep"):
        protocol_apply(actor=world.admin, partnership=world.partnership, document=document)


def test_the_reporting_years_first_month_is_fixed_once_escalations_are_recorded(client, world):
    """Years cut at a new month would overlap those the executive has read, and two
    overlapping years differ by a count of the months between (decision 15)."""
    partnership_update(
        actor=world.admin, partnership=world.partnership, data={"reporting_year_start_month": 1}
    )  # nothing recorded yet: the partnership chooses its year freely
    world.partnership.refresh_from_db()
    assert world.partnership.reporting_year_start_month == 1
    world.raised()
    with pytest.raises(ValidationError) as refused:
        partnership_update(
            actor=world.admin, partnership=world.partnership, data={"reporting_year_start_month": 4}
        )
    assert "cannot change once escalations are recorded" in str(refused.value)
    sign_in(client, world.admin)
    form = client.get(f"{SETTINGS}/partnership/").context["form"]
    data = {k: v for k, v in form.initial.items() if v not in (None, False, "")} | {
        "reporting_year_start_month": "4"
    }
    response = client.post(f"{SETTINGS}/partnership/", data)
    assert response.status_code == 200
    assert "cannot change once escalations are recorded" in response.content.decode()
    world.partnership.refresh_from_db()
    assert world.partnership.reporting_year_start_month == 1
    # Deleting the records at the end of their retention keeps the figures: still fixed.
    Escalation.objects.filter(partnership=world.partnership).delete()
    with pytest.raises(ValidationError):
        partnership_update(
            actor=world.admin, partnership=world.partnership, data={"reporting_year_start_month": 4}
        )
