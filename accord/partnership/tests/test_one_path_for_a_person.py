"""One path to write a person: the settings pages, the people import, Django's admin and an
agency's own sign-in all reach the people services (``partnership/services/people.py``),
where whether a partnership may change someone is decided once
(``partnership/services/ownership.py``).

Someone works in two partnerships. The first one's business unit tries to change them through
its page and its import, and its agency's sign-in (a provider the first partnership keeps)
is asked to sign them in: each refuses them for the same reason, that they also work in
another partnership, in the same words where it has words. The deployment's administrators,
whom those words name, change them through the admin, and the people services record it in
both partnerships' trails. Once the person works in the first partnership alone, every one
of those paths lets the same change through: the one condition decides them all."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import ValidationError

from accord.audit.models import AuditEvent, Verb
from accord.core.errors import NotAllowed
from accord.partnership.models import Role, RoleAssignment, SignInProvider, User
from accord.partnership.services.ownership import shared_person_words
from accord.partnership.services.people import person_email_change
from accord.partnership.services.people_import import apply_import, plan_import
from accord.testing.auth import sign_in
from accord.testing.factories import UserFactory
from accord.web.sign_in import AgencyOIDCBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world, neighbour):
    person = UserFactory(
        username="both.places",
        email="both.places@health.example",
        first_name="Bo",
        last_name="Th",
        agency=world.health,
        line_manager=world.manager_health,
        roles=[(world.partnership, Role.PRACTITIONER), (neighbour.partnership, Role.PRACTITIONER)],
    )
    provider = SignInProvider.objects.create(
        agency=world.health,
        partnership=world.partnership,
        name="Health staff account",
        issuer="https://idp.health.example/",
        client_id="accord-health",
    )
    return world, neighbour, person, provider


def _page(client, world, person, email: str) -> str:
    """The person's settings page, posted with everything as it stands but a new email."""
    sign_in(client, world.admin)
    url = f"/business-unit/people/{person.pk}/"
    form = client.get(url).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False, "")}
    response = client.post(url, data | {"email": email})
    client.logout()
    if response.status_code == 302:
        return ""
    return html.unescape(response.content.decode())


def _import(world, person, name: str) -> list[str]:
    row = f'name,email,agency,roles,line_manager_email\n{name},{person.email},"{world.health.name}",practitioner,{world.manager_health.email}\n'
    plan = plan_import(world.partnership, row.encode(), "people.csv")
    if plan.ok:
        apply_import(actor=world.admin, plan=plan)
    return plan.rows[0].errors


def _signed_in(provider, person) -> bool:
    backend = AgencyOIDCBackend()
    backend.provider, backend.untrusted = provider, None
    return person.pk in set(
        backend.filter_users_by_claims({"email": person.email}).values_list("pk", flat=True)
    )


def test_the_page_the_import_the_admin_and_the_sign_in_reach_the_same_people_services(client, scene):
    world, neighbour, person, provider = scene
    words = shared_person_words(person)
    refused_before = AuditEvent.objects.filter(verb=Verb.SHARED_CHANGE_REFUSED).count()

    # The business unit's page: refused in the services' words, recorded in both trails.
    assert words in _page(client, world, person, "taken.over@health.example")
    assert AuditEvent.objects.filter(verb=Verb.SHARED_CHANGE_REFUSED).count() > refused_before
    # The service the page calls, called as the API or the command line would.
    with pytest.raises(NotAllowed) as service:
        person_email_change(
            actor=world.admin, partnership=world.partnership, person=person, email="taken.over@health.example"
        )
    assert str(service.value) == words
    # The people import: the row is refused in the same words, and nothing is applied.
    assert words in _import(world, person, "Bo Renamed")
    # The agency's sign-in that the first partnership keeps does not sign them in.
    assert not _signed_in(provider, person)
    person.refresh_from_db()
    assert (person.email, person.get_full_name()) == ("both.places@health.example", "Bo Th")

    # Django's admin is the deployment's administrators': there the change is made, through
    # the same services, and recorded in both partnerships' trails.
    root = UserFactory(username="deployment.root", is_superuser=True, is_staff=True, roles=[])
    sign_in(client, root)
    url = f"/business-unit/admin/partnership/user/{person.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("password", "last_login")}
    data |= {
        "email": "bo.th@health.example",
        "agency": person.agency_id,
        "line_manager": person.line_manager_id,
        "is_active": "on",
        "date_joined_0": person.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": person.date_joined.strftime("%H:%M:%S"),
        "role_assignments-TOTAL_FORMS": "0",
        "role_assignments-INITIAL_FORMS": "0",
    }
    saved = client.post(url, {k: v for k, v in data.items() if v != ""})
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved
    client.logout()
    person.refresh_from_db()
    assert person.email == "bo.th@health.example"
    trails = set(
        AuditEvent.objects.filter(verb=Verb.PERSON_EMAIL_CHANGED).values_list("partnership_id", flat=True)
    )
    assert trails == {world.partnership.pk, neighbour.partnership.pk}

    # Working in the first partnership alone, they are its own: every path lets them through.
    RoleAssignment.objects.filter(user=person, partnership=neighbour.partnership).delete()
    person = User.objects.get(pk=person.pk)
    assert _signed_in(provider, person)
    assert _import(world, person, "Bo Renamed") == []
    assert _page(client, world, person, "bo.renamed@health.example") == ""
    person.refresh_from_db()
    assert (person.email, person.get_full_name()) == ("bo.renamed@health.example", "Bo Renamed")
    with pytest.raises(ValidationError):  # (now refused for another reason: the email is taken)
        person_email_change(
            actor=world.admin, partnership=world.partnership, person=person, email=world.manager_health.email
        )
