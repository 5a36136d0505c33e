"""What partnerships share is no one partnership's to change (docs/decisions/0006).

Two partnerships keep the same health trust; one person works in both. Each business unit in
turn tries every way Accord offers to change that person's identity, or the trust's own
details and sign-in — through the services and through the settings pages. Nothing of the
other partnership changes, and the other partnership's auditor finds every attempt in its
own trail. A partnership's own things (its roles for the person, how the trust takes part
in it) stay its own to change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotAllowed
from accord.partnership.models import Agency, PartnershipAgency, Role, RoleAssignment, SignInProvider, User
from accord.partnership.services import invitations, people
from accord.partnership.services.agencies import AgencyDetails, agency_update
from accord.partnership.services.people import PersonDetails
from accord.partnership.services.sign_in import ProviderDetails, sign_in_provider_save
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world, neighbour):
    shared = UserFactory(
        username="both.places",
        first_name="Bo",
        last_name="Th",
        agency=world.health,
        line_manager=world.manager_health,
        roles=[(world.partnership, Role.PRACTITIONER), (neighbour.partnership, Role.PRACTITIONER)],
    )
    return {"world": world, "neighbour": neighbour, "person": shared, "agency": world.health}


def _identity(person: User) -> tuple:
    person.refresh_from_db()
    return (
        person.first_name,
        person.last_name,
        person.email,
        person.job_title,
        person.agency_id,
        person.line_manager_id,
        person.is_active,
        person.password,
        person.invited_at,
    )


def _agency(agency: Agency) -> tuple:
    agency.refresh_from_db()
    return agency.name, agency.kind, agency.is_active, SignInProvider.objects.filter(agency=agency).count()


def _details(person: User, **change) -> PersonDetails:
    values = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "agency": person.agency,
        "job_title": person.job_title,
        "line_manager_email": person.line_manager.email if person.line_manager_id else "",
        "roles": [Role.PRACTITIONER],
        "is_active": True,
    }
    return PersonDetails(**(values | change))


# Each way to change what is shared, as a service call: (actor's world, other world, scene).
ATTEMPTS: dict[str, Callable] = {
    "person_save: name": lambda me, s: people.person_save(
        actor=me.admin,
        partnership=me.partnership,
        person=s["person"],
        details=_details(s["person"], last_name="X"),
    ),
    "person_save: email": lambda me, s: people.person_save(
        actor=me.admin,
        partnership=me.partnership,
        person=s["person"],
        details=_details(s["person"], email="taken.over@evil.example"),
    ),
    "person_save: agency": lambda me, s: people.person_save(
        actor=me.admin,
        partnership=me.partnership,
        person=s["person"],
        details=_details(s["person"], agency=me.social),
    ),
    "person_save: deactivate": lambda me, s: people.person_save(
        actor=me.admin,
        partnership=me.partnership,
        person=s["person"],
        details=_details(s["person"], is_active=False),
    ),
    "person_details_change": lambda me, s: people.person_details_change(
        actor=me.admin,
        partnership=me.partnership,
        person=s["person"],
        first_name="E",
        last_name="V",
        job_title="",
    ),
    "person_email_change": lambda me, s: people.person_email_change(
        actor=me.admin, partnership=me.partnership, person=s["person"], email="taken.over@evil.example"
    ),
    "person_move": lambda me, s: people.person_move(
        actor=me.admin, partnership=me.partnership, person=s["person"], agency=me.social
    ),
    "person_line_manager_set": lambda me, s: people.person_line_manager_set(
        actor=me.admin, partnership=me.partnership, person=s["person"], manager=me.manager_social
    ),
    "person_deactivate": lambda me, s: people.person_deactivate(
        actor=me.admin, partnership=me.partnership, person=s["person"]
    ),
    "invite": lambda me, s: invitations.invite(
        actor=me.admin, person=s["person"], partnership=me.partnership
    ),
    "revoke_invitation": lambda me, s: invitations.revoke_invitation(
        actor=me.admin, person=s["person"], partnership=me.partnership
    ),
    "agency_update": lambda me, s: agency_update(
        actor=me.admin,
        partnership=me.partnership,
        agency=s["agency"],
        details=AgencyDetails(
            name="Renamed Trust",
            kind=s["agency"].kind,
            is_active=True,
            takes_part_in_raising=True,
            staff=None,
        ),
    ),
    "sign_in_provider_save": lambda me, s: sign_in_provider_save(
        actor=me.admin,
        partnership=me.partnership,
        details=ProviderDetails(
            agency=s["agency"],
            name="Evil",
            issuer="https://idp.evil.example/",
            client_id="c",
            client_secret="s",
        ),
    ),
}


@pytest.mark.parametrize("attempt", list(ATTEMPTS))
@pytest.mark.parametrize("side", ["world", "neighbour"])
def test_no_business_unit_changes_what_it_shares_and_the_other_sees_each_attempt(scene, side, attempt):
    me = scene[side]
    other = scene["neighbour" if side == "world" else "world"]
    person, agency = scene["person"], scene["agency"]
    person.invited_at = None
    before = (_identity(person), _agency(agency))
    with pytest.raises((NotAllowed, ValidationError)) as refused:
        ATTEMPTS[attempt](me, scene)
    assert (_identity(person), _agency(agency)) == before
    assert "deployment's administrators" in " ".join(getattr(refused.value, "messages", [str(refused.value)]))
    seen = AuditEvent.objects.filter(verb=Verb.SHARED_CHANGE_REFUSED, partnership_id=other.partnership.pk)
    assert seen.filter(payload__by_partnership=me.partnership.pk).exists()
    assert AuditEvent.objects.filter(
        verb=Verb.SHARED_CHANGE_REFUSED, partnership_id=me.partnership.pk
    ).exists()


# The same attempts through the settings pages, posted as a crafted request would be.
PAGES: dict[str, Callable] = {
    "person page: email": lambda me, s: (
        f"/business-unit/people/{s['person'].pk}/",
        {"roles": [Role.PRACTITIONER], "email": "taken.over@evil.example"},
    ),
    "person page: agency and line manager": lambda me, s: (
        f"/business-unit/people/{s['person'].pk}/",
        {"roles": [Role.PRACTITIONER], "agency": me.social.pk, "line_manager_email": me.manager_social.email},
    ),
    "invitation": lambda me, s: (f"/business-unit/people/{s['person'].pk}/invitation/", {}),
    "sign-in provider": lambda me, s: (
        "/business-unit/sign-in/",
        {
            "agency": s["agency"].pk,
            "name": "Evil",
            "issuer": "https://idp.evil.example/",
            "client_id": "c",
            "client_secret": "s",
        },
    ),
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("side", ["world", "neighbour"])
def test_the_settings_pages_change_nothing_shared(client, scene, side, page):
    me = scene[side]
    person, agency = scene["person"], scene["agency"]
    before = (_identity(person), _agency(agency))
    sign_in(client, me.admin)
    path, data = PAGES[page](me, scene)
    response = client.post(path, data)
    assert response.status_code in (200, 302)
    assert (_identity(person), _agency(agency)) == before
    if page != "sign-in provider":  # (the form offers only its own agencies: no attempt reaches a service)
        other = scene["neighbour" if side == "world" else "world"]
        assert AuditEvent.objects.filter(
            verb=Verb.SHARED_CHANGE_REFUSED,
            partnership_id=other.partnership.pk,
            payload__by_partnership=me.partnership.pk,
        ).exists()


@pytest.mark.parametrize("side", ["world", "neighbour"])
def test_what_is_a_partnerships_own_stays_its_own_to_change(scene, side):
    """Its roles for the shared person, and how the shared trust takes part in it: changed,
    and the change is in the trail of every partnership the person belongs to."""
    me = scene[side]
    other = scene["neighbour" if side == "world" else "world"]
    person, agency = scene["person"], scene["agency"]
    assert people.person_roles_set(
        actor=me.admin, partnership=me.partnership, person=person, roles={Role.PRACTITIONER, Role.MANAGER}
    )
    assert set(
        person.role_assignments.filter(partnership=other.partnership).values_list("role", flat=True)
    ) == {Role.PRACTITIONER}
    trails = set(
        AuditEvent.objects.filter(verb=Verb.PERSON_ROLES_CHANGED).values_list("partnership_id", flat=True)
    )
    assert trails == {me.partnership.pk, other.partnership.pk}
    agency_update(
        actor=me.admin,
        partnership=me.partnership,
        agency=agency,
        details=AgencyDetails(
            name=agency.name, kind=agency.kind, is_active=True, takes_part_in_raising=False, staff=40
        ),
    )
    mine = PartnershipAgency.objects.get(partnership=me.partnership, agency=agency)
    theirs = PartnershipAgency.objects.get(partnership=other.partnership, agency=agency)
    assert (mine.takes_part_in_raising, mine.staff) == (False, 40)
    assert (theirs.takes_part_in_raising, theirs.staff) == (True, None)


def test_the_deployments_administrators_change_a_shared_person_in_every_trail(scene):
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True)
    world, neighbour, person = scene["world"], scene["neighbour"], scene["person"]
    assert people.person_email_change(
        actor=root, partnership=world.partnership, person=person, email="bo.th@health.example"
    )
    person.refresh_from_db()
    assert person.email == "bo.th@health.example"
    trails = set(
        AuditEvent.objects.filter(verb=Verb.PERSON_EMAIL_CHANGED).values_list("partnership_id", flat=True)
    )
    assert trails == {world.partnership.pk, neighbour.partnership.pk}


def test_someone_of_only_this_partnership_is_still_its_own_to_change(world, neighbour):
    """The rule takes nothing from a business unit that is its own: a person who works only
    here, even of the shared trust, is changed as before."""
    person = world.practitioner_health  # the shared trust, this partnership's roles only
    assert people.person_email_change(
        actor=world.admin, partnership=world.partnership, person=person, email="jo.new@health.example"
    )
    assert set(
        AuditEvent.objects.filter(verb=Verb.PERSON_EMAIL_CHANGED).values_list("partnership_id", flat=True)
    ) == {world.partnership.pk}


def test_djangos_admin_writes_a_person_through_the_same_services(client, scene):
    """The deployment's administrators' admin: a shared person's email and roles changed there
    are audited by the people services in both partnerships' trails; deactivating them hands
    their open work on, as the settings pages do."""
    world, neighbour, person = scene["world"], scene["neighbour"], scene["person"]
    e = world.raised(raiser=person)
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    sign_in(client, root)
    url = f"/business-unit/admin/partnership/user/{person.pk}/change/"
    form = client.get(url).context["adminform"].form
    inline = client.get(url).context["inline_admin_formsets"][0].formset
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "last_login")}
    data |= {
        "username": "bo.th",
        "email": "bo.th@health.example",
        "agency": person.agency_id,
        "line_manager": person.line_manager_id,
        "is_active": "",
        "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
    }
    prefix = inline.prefix
    rows = list(person.role_assignments.filter(partnership=world.partnership))
    data |= {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(len(rows)),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data |= {
            f"{prefix}-{i}-id": row.pk,
            f"{prefix}-{i}-user": person.pk,
            f"{prefix}-{i}-partnership": row.partnership_id,
            f"{prefix}-{i}-role": Role.MANAGER,
        }
    saved = client.post(url, {k: v for k, v in data.items() if v != ""})
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    person.refresh_from_db()
    e.refresh_from_db()
    assert person.email == "bo.th@health.example" and not person.is_active
    assert person.username == "bo.th"  # the sign-in name, the deployment's own, audited too
    renamed = AuditEvent.objects.filter(verb=Verb.PERSON_DETAILS_CHANGED, payload__fields=["username"])
    assert set(renamed.values_list("partnership_id", flat=True)) == {
        world.partnership.pk,
        neighbour.partnership.pk,
    }
    assert e.raised_by_id != person.pk  # handed on to their line manager
    for verb in (Verb.PERSON_EMAIL_CHANGED, Verb.PERSON_DEACTIVATED, Verb.PERSON_ROLES_CHANGED):
        trails = set(AuditEvent.objects.filter(verb=verb).values_list("partnership_id", flat=True))
        assert trails == {world.partnership.pk, neighbour.partnership.pk}, verb
    assert set(person.role_assignments.values_list("partnership_id", "role")) == {
        (world.partnership.pk, Role.MANAGER),
        (neighbour.partnership.pk, Role.PRACTITIONER),
    }


# ----------------------------------------------------------------- what an attack found


def test_an_agency_another_partnership_keeps_is_joined_only_by_the_deployments_administrators(
    world, other_world
):
    from accord.partnership.services.agencies import agency_add

    waiting = UserFactory(username="wendy.waiting", agency=other_world.social, roles=[])
    waiting.home_partnership = other_world.partnership
    waiting.save()
    with pytest.raises(NotAllowed, match="deployment's administrators"):
        agency_add(
            actor=world.admin, partnership=world.partnership, name=other_world.social.name, kind="other"
        )
    assert not PartnershipAgency.objects.filter(
        partnership=world.partnership, agency=other_world.social
    ).exists()
    assert AuditEvent.objects.filter(
        verb=Verb.SHARED_CHANGE_REFUSED, partnership_id=other_world.partnership.pk
    ).exists()
    # Shared by the deployment's administrators, its roleless people stay their home's.
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    agency_add(actor=root, partnership=world.partnership, name=other_world.social.name, kind="other")
    assert not people.people_of(world.partnership).filter(pk=waiting.pk).exists()
    assert people.people_of(other_world.partnership).filter(pk=waiting.pk).exists()


def test_someone_whose_roles_here_are_all_taken_away_stays_this_partnerships(scene):
    world, neighbour = scene["world"], scene["neighbour"]
    person = world.practitioner_social
    people.person_roles_set(actor=world.admin, partnership=world.partnership, person=person, roles=set())
    person.refresh_from_db()
    assert person.home_partnership == world.partnership
    assert not people.people_of(neighbour.partnership).filter(pk=person.pk).exists()


def test_revoking_an_invitation_never_takes_a_password_someone_has_set(world, client):
    person = world.practitioner_social
    person.set_password("a-password-they-chose-1")
    person.invited_at = timezone.now()
    person.save()
    invitations.revoke_invitation(actor=world.admin, person=person, partnership=world.partnership)
    person.refresh_from_db()
    assert person.check_password("a-password-they-chose-1")


def test_a_merge_does_not_move_someone_who_also_works_in_another_partnership(scene):
    from accord.escalations.services.agencies import agency_merge_plan

    world, neighbour, person = scene["world"], scene["neighbour"], scene["person"]
    person.agency = world.other
    person.save()
    with pytest.raises(NotAllowed, match="also work in another partnership"):
        agency_merge_plan(
            actor=world.admin, partnership=world.partnership, source=world.other, into=world.social
        )
    assert AuditEvent.objects.filter(
        verb=Verb.SHARED_CHANGE_REFUSED, partnership_id=neighbour.partnership.pk
    ).exists()


def test_the_people_import_takes_a_line_manager_of_this_partnership_only_and_keeps_names(world, other_world):
    from accord.partnership.services.people_import import apply_import, plan_import

    person = world.practitioner_social
    person.first_name, person.last_name = "Jan", "van Dyke"
    person.save()
    row = f'name,email,agency,roles,line_manager_email\nJan van Dyke,{person.email},"{world.social.name}",practitioner;manager,{other_world.manager_social.email}\n'
    plan = plan_import(world.partnership, row.encode(), "people.csv")
    assert not plan.ok and "works in this partnership now" in " ".join(plan.rows[0].errors)
    row = row.replace(other_world.manager_social.email, world.manager_social.email)
    plan = plan_import(world.partnership, row.encode(), "people.csv")
    assert plan.ok, plan.rows[0].errors
    apply_import(actor=world.admin, plan=plan)
    person.refresh_from_db()
    assert (person.first_name, person.last_name) == ("Jan", "van Dyke")


def test_djangos_admin_sets_nobodys_password_and_adds_no_second_account_for_an_email(client, world):
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    sign_in(client, root)
    person = world.practitioner_social
    assert client.get(f"/business-unit/admin/partnership/user/{person.pk}/password/").status_code == 403
    added = client.post(
        "/business-unit/admin/partnership/user/add/",
        {"username": "second.account", "email": person.email.upper(), "agency": world.social.pk},
    )
    assert added.status_code == 200 and not User.objects.filter(username="second.account").exists()


def test_the_people_import_gives_no_role_to_someone_another_partnership_keeps(world, neighbour):
    """Someone of the shared trust with no role anywhere, whom the first partnership keeps
    (it added them, or they last worked there), is not the neighbour's to take on: its people
    import refuses them as its settings pages do, and the people services refuse the role."""
    from accord.partnership.services.people_import import plan_import

    person = UserFactory(
        username="kept.here",
        email="kept.here@health.example",
        first_name="Kept",
        last_name="Here",
        agency=world.health,
    )
    User.objects.filter(pk=person.pk).update(home_partnership=world.partnership)
    person.refresh_from_db()
    assert not people.people_of(neighbour.partnership).filter(pk=person.pk).exists()
    row = f'name,email,agency,roles,line_manager_email\nKept Here,{person.email},"{world.health.name}",practitioner,\n'
    plan = plan_import(neighbour.partnership, row.encode(), "people.csv")
    assert not plan.ok and "That email is already in use in Accord" in plan.rows[0].errors[0]
    with pytest.raises(NotAllowed):
        people.person_roles_set(
            actor=neighbour.admin, partnership=neighbour.partnership, person=person, roles={"practitioner"}
        )
    assert not RoleAssignment.objects.filter(user=person).exists()


def test_a_shared_agency_changed_by_the_deployments_administrators_is_in_every_trail(
    client, world, neighbour
):
    """The trust both partnerships keep, renamed by the deployment's administrators, on a
    partnership's settings page or in Django's admin: each partnership's auditors see it in
    their own trail, as they see a refused attempt."""
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    both = {world.partnership.pk, neighbour.partnership.pk}
    link = PartnershipAgency.objects.get(partnership=world.partnership, agency=world.health)
    agency_update(
        actor=root,
        partnership=world.partnership,
        agency=world.health,
        details=AgencyDetails(
            name="Renamed Health Trust",
            kind=world.health.kind,
            is_active=True,
            takes_part_in_raising=link.takes_part_in_raising,
            staff=link.staff,
        ),
    )
    entries = AuditEvent.objects.filter(verb=Verb.AGENCY_CHANGED, target_id=str(world.health.pk))
    assert set(entries.values_list("partnership_id", flat=True)) == both
    sign_in(client, root)
    url = f"/business-unit/admin/partnership/agency/{world.health.pk}/change/"
    saved = client.post(url, {"name": "Health Trust Again", "kind": world.health.kind, "is_active": "on"})
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    entries = AuditEvent.objects.filter(verb=Verb.AGENCY_CHANGED, payload__fields=["name"])
    assert (
        set(entries.filter(payload__agency="Health Trust Again").values_list("partnership_id", flat=True))
        == both
    )


def test_an_invitation_to_a_shared_person_is_in_every_trail(scene):
    """An invitation sets a shared person's password (and a revoked one takes it away): sent
    or revoked by the deployment's administrators from one partnership, it is in the trail of
    each partnership the person works in."""
    world, neighbour, person = scene["world"], scene["neighbour"], scene["person"]
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    both = {world.partnership.pk, neighbour.partnership.pk}
    invitations.invite(actor=root, person=person, partnership=world.partnership)
    invitations.revoke_invitation(actor=root, person=person, partnership=world.partnership)
    for verb in (Verb.INVITATION_SENT, Verb.INVITATION_REVOKED):
        entries = AuditEvent.objects.filter(verb=verb, target_id=str(person.pk))
        assert set(entries.values_list("partnership_id", flat=True)) == both, verb


def test_no_business_unit_changes_a_deployment_administrator_by_any_path(world):
    """A deployment administrator who also holds a role in a partnership is changed only by
    their peers: its business unit's people import refuses them as its settings pages do,
    and so do the people services themselves."""
    from accord.partnership.services.people_import import plan_import

    root = UserFactory(
        username="root.with.role",
        email="root.with.role@social.example",
        first_name="Root",
        last_name="Role",
        agency=world.social,
        is_superuser=True,
        is_staff=True,
        roles=[(world.partnership, Role.MANAGER)],
    )
    row = f'name,email,agency,roles,line_manager_email\nSomeone Else,{root.email},"{world.social.name}",manager,\n'
    plan = plan_import(world.partnership, row.encode(), "people.csv")
    assert not plan.ok and "deployment's administrators" in " ".join(plan.rows[0].errors)
    for change in (
        lambda: people.person_details_change(
            actor=world.admin,
            partnership=world.partnership,
            person=root,
            first_name="X",
            last_name="Y",
            job_title="",
        ),
        lambda: people.person_move(
            actor=world.admin, partnership=world.partnership, person=root, agency=world.other
        ),
        lambda: people.person_roles_set(
            actor=world.admin, partnership=world.partnership, person=root, roles={Role.PRACTITIONER}
        ),
    ):
        with pytest.raises(NotAllowed):
            change()
    root.refresh_from_db()
    assert (root.first_name, root.agency_id) == ("Root", world.social.pk)


def test_a_business_units_sign_in_never_signs_in_a_deployment_administrator(world):
    """A business unit's provider signs in its own people; one of the deployment's
    administrators of that agency (a role in this partnership only) is not its to sign in,
    or whoever runs the provider would hold the whole deployment. The deployment's own
    provider on the agency still signs them in."""
    from accord.partnership.services.sign_in import provider_trusted_by

    root = UserFactory(
        username="root.of.health",
        email="root.of.health@health.example",
        agency=world.health,
        is_superuser=True,
        is_staff=True,
        roles=[(world.partnership, Role.MANAGER)],
    )
    kept = SignInProvider.objects.create(
        agency=world.health,
        partnership=world.partnership,
        name="Health staff account",
        issuer="https://idp.health.example/",
        client_id="accord-health",
    )
    deployments = SignInProvider.objects.create(
        agency=world.health,
        partnership=None,
        name="Deployment's account",
        issuer="https://idp.deployment.example/",
        client_id="accord",
    )
    assert provider_trusted_by(kept, world.manager_health)
    assert not provider_trusted_by(kept, root)
    assert provider_trusted_by(deployments, root)
