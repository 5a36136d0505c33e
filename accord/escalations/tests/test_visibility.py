"""Rule 7: who sees an escalation, in the queryset and in the single-record predicate alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.escalations import services
from accord.escalations.models import Escalation, PdgActionKind
from accord.escalations.policies import allowed_actions
from accord.testing.factories import WORLD_ROLES, raise_details

pytestmark = pytest.mark.django_db

ROLES = WORLD_ROLES

# Who sees an escalation raised by practitioner.health with practitioner.social, at each stage.
EXPECTED = {
    "stage1": {"practitioner_health", "manager_health", "practitioner_social", "manager_social"},
    "stage2": {"practitioner_health", "manager_health", "practitioner_social", "manager_social"},
    "stage3": {
        "practitioner_health",
        "manager_health",
        "senior_health",
        "practitioner_social",
        "manager_social",
        "senior_social",
    },
    "formal": {
        "practitioner_health",
        "manager_health",
        "senior_health",
        "practitioner_social",
        "manager_social",
        "senior_social",
        "pdg_member",
        "pdg_chair",
    },
    "facilitated": {
        "practitioner_health",
        "manager_health",
        "senior_health",
        "practitioner_social",
        "manager_social",
        "senior_social",
        "pdg_member",
        "pdg_chair",
        "facilitator",
    },
}


def _build(world, state):
    if state == "stage1":
        return world.raised()
    if state == "stage2":
        return world.at_stage_2()
    if state == "stage3":
        return world.at_stage_3()
    e = world.formal()
    if state == "facilitated":
        services.escalation_pdg_action(
            actor=world.pdg_chair,
            escalation=e,
            action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator_username=world.facilitator.username,
        )
    return e


@pytest.mark.parametrize("team_as", ["list", "subquery"])
@pytest.mark.parametrize("state", list(EXPECTED))
def test_visibility_matrix(world, other_world, state, team_as, monkeypatch):
    from accord.escalations import policies

    # A manager's team is written into the query as ids, or (a large team) as a subquery:
    # both must give the same answer.
    monkeypatch.setattr(policies, "TEAM_INLINE_LIMIT", 50 if team_as == "list" else 0)
    e = _build(world, state)
    seen_by = {
        name for name in ROLES if Escalation.objects.visible_to(getattr(world, name)).filter(pk=e.pk).exists()
    }
    assert seen_by == EXPECTED[state]
    # The predicate used for one record agrees with the queryset.
    for name in ROLES:
        user = getattr(world, name)
        assert user.has_perm("escalations.view", e) == (name in EXPECTED[state]), name
    # Nobody in another partnership sees it, whatever their role.
    for name in ROLES:
        assert not Escalation.objects.visible_to(getattr(other_world, name)).filter(pk=e.pk).exists()


def test_an_escalation_with_no_named_practitioner_goes_to_the_agencys_managers(world):
    e = world.raised(with_practitioner_username="")
    assert Escalation.objects.visible_to(world.manager_social).filter(pk=e.pk).exists()
    assert not Escalation.objects.visible_to(world.practitioner_social).filter(pk=e.pk).exists()


def test_an_agency_in_two_partnerships_sees_its_own_escalations_in_each(world, other_world):
    from accord.partnership.models import PartnershipAgency, Role, RoleAssignment

    # The health trust also serves Otherton; its practitioner works in both.
    PartnershipAgency.objects.create(partnership=other_world.partnership, agency=world.health)
    RoleAssignment.objects.create(
        user=world.practitioner_health, partnership=other_world.partnership, role=Role.PRACTITIONER
    )
    here = world.raised()
    there = services.escalation_raise(
        actor=world.practitioner_health,
        partnership=other_world.partnership,
        details=raise_details(with_agency=other_world.social),
        immediate_danger=False,
    )
    assert set(Escalation.objects.visible_to(world.practitioner_health)) == {here, there}
    assert list(Escalation.objects.visible_to(other_world.pdg_member)) == []
    assert there.reference.startswith("OTH-")


def test_the_reflection_is_for_the_raiser_and_their_line_manager_only(world):
    e = world.formal()
    readers = {name for name in ROLES if "read_reflection" in allowed_actions(getattr(world, name), e)}
    assert readers == {"practitioner_health", "manager_health"}


def test_inactive_users_see_nothing(world):
    e = world.raised()
    world.practitioner_health.is_active = False
    world.practitioner_health.save()
    assert not Escalation.objects.visible_to(world.practitioner_health).filter(pk=e.pk).exists()


def test_actions_offered_follow_the_stage(world):
    e = world.raised()
    assert allowed_actions(world.practitioner_health, e) >= {
        "record_discussion",
        "escalate",
        "withdraw",
        "add_document",
    }
    assert "resolve" not in allowed_actions(world.practitioner_health, e)
    assert "resolve" in allowed_actions(world.manager_social, e)
    f = world.formal()
    assert "pdg_act" in allowed_actions(world.pdg_member, f)
    assert "resolve" not in allowed_actions(world.pdg_chair, f)
    assert allowed_actions(world.executive, f) == set()


def test_an_escalation_facilitated_twice_is_listed_once(world):
    e = world.formal()
    for _ in range(2):
        services.escalation_pdg_action(
            actor=world.pdg_chair,
            escalation=e,
            action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator_username=world.facilitator.username,
        )
    assert list(Escalation.objects.visible_to(world.facilitator)) == [e]


def test_the_raisers_line_manager_sees_it_whoever_they_are(world):
    """Line management is read when the list is read: a change of manager takes effect at once."""
    e = world.raised()  # stage 1: the health senior leader is not yet involved
    assert not Escalation.objects.visible_to(world.senior_health).filter(pk=e.pk).exists()
    world.practitioner_health.line_manager = world.senior_health
    world.practitioner_health.save()
    assert Escalation.objects.visible_to(world.senior_health).filter(pk=e.pk).exists()
    assert world.senior_health.has_perm("escalations.view", e)


def test_my_work_counts_and_lists_the_agencys_open_escalations_it_may_see(world):
    """ "My work" counts an agency's open escalations in two disjoint parts (raised by it; with
    it and raised by another): the sum is the plain count, with nothing counted twice."""
    from django.db.models import Q

    from accord.escalations.models import OPEN_STATUSES
    from accord.escalations.selectors import my_work

    w = world
    raised_by_health = w.raised()
    with_health_unnamed = w.raised(
        raiser=w.practitioner_social, with_agency=w.health, with_practitioner_username=""
    )
    # Both ends in Health: the services refuse it, but the count must not rely on that.
    within_health = w.raised()
    Escalation.objects.filter(pk=within_health.pk).update(with_agency=w.health, with_practitioner=None)
    w.raised(raiser=w.practitioner_social, with_agency=w.other)  # neither end is Health
    closed = w.raised()
    services.escalation_withdraw(actor=w.practitioner_health, escalation=closed, reason="Settled by phone")

    manager = w.manager_health
    work = my_work(user=manager, partnership=w.partnership)
    plain = (
        Escalation.objects.visible_to(manager)
        .filter(partnership=w.partnership, status__in=OPEN_STATUSES)
        .filter(Q(raising_agency=w.health) | Q(with_agency=w.health))
    )
    assert work.agency_total == plain.count() == 3
    assert {e.pk for e in work.agency} == {raised_by_health.pk, with_health_unnamed.pk, within_health.pk}


def _fresh(user):
    """The person as the next request reads them (their roles are cached on the object)."""
    from accord.partnership.models import User

    return User.objects.select_related("agency").get(pk=user.pk)


def test_rule_7_is_compiled_once_for_the_same_inputs_and_again_when_any_changes(world, monkeypatch):
    """Lists reuse rule 7's SQL for the same person, agency, roles and team; a change to
    any of them, read with the next request, compiles it afresh and changes the answer."""
    from accord.escalations import policies
    from accord.partnership.models import Role, RoleAssignment

    policies._COMPILED.clear()
    compiled = []
    real = policies._compile_where
    monkeypatch.setattr(policies, "_compile_where", lambda *a: compiled.append(a) or real(*a))

    def sees(user, e):
        return Escalation.objects.visible_to(_fresh(user)).filter(pk=e.pk).exists()

    e = world.at_stage_3()  # raised by Health with Social
    person = world.practitioner_other  # a practitioner in Probation: not a party
    assert not sees(person, e)
    n = len(compiled)
    assert not sees(person, e)
    assert len(compiled) == n  # the same inputs: the first compile reused

    # Roles: made a PDG member, they see a formal escalation and not this one (stage 3).
    formal = world.formal()
    assert not sees(person, formal)
    RoleAssignment.objects.create(user=person, partnership=world.partnership, role=Role.PDG_MEMBER)
    assert sees(person, formal) and not sees(person, e)

    # Agency: a senior leader moved from Probation to Children's Services sees stage 3 at once.
    RoleAssignment.objects.create(user=person, partnership=world.partnership, role=Role.SENIOR_LEADER)
    assert not sees(person, e)
    person.agency = world.social
    person.save()
    assert sees(person, e)

    # Team: a line manager sees at once what their new report raised, at stage 1.
    from accord.testing.factories import UserFactory

    e1 = world.raised()  # raised by practitioner_health
    new_manager = UserFactory(
        username="second.health.manager", agency=world.health, roles=[(world.partnership, Role.MANAGER)]
    )
    assert not sees(new_manager, e1)
    world.practitioner_health.line_manager = new_manager
    world.practitioner_health.save()
    assert sees(new_manager, e1)

    # Made inactive: sees nothing, and the database is not asked.
    person.is_active = False
    person.save()
    with CaptureQueriesContext(connection) as ctx:
        assert list(Escalation.objects.visible_to(_fresh(person))) == []
    assert len(ctx.captured_queries) == 1  # reading the person; the list itself is not run


def test_rule_7_compiled_reads_the_same_inside_another_query(world):
    """The compiled condition names the escalation table by the alias of the query it is
    put in (a subquery's ``U0``), as Django's own condition would."""
    from django.db.models import Exists, OuterRef

    from accord.escalations.policies import visibility_filter

    for state in ("stage1", "formal"):
        _build(world, state)
    world.raised(raiser=world.practitioner_social, with_agency=world.other)
    world.raised(raiser=world.practitioner_other, with_agency=world.health)
    for name in ROLES:
        user = _fresh(getattr(world, name))
        ours = Escalation.objects.filter(
            Exists(Escalation.objects.visible_to(user).filter(pk=OuterRef("pk")))
        ).order_by("pk")
        django_own = Escalation.objects.filter(
            Exists(Escalation.objects.filter(visibility_filter(user)).filter(pk=OuterRef("pk")))
        ).order_by("pk")
        assert list(ours) == list(django_own) == list(Escalation.objects.visible_to(user).order_by("pk")), (
            name
        )
        # Correlated by something other than the key: a condition left naming the outer
        # table would test the outer row instead of the inner one.
        ours = Escalation.objects.filter(
            Exists(Escalation.objects.visible_to(user).filter(raising_agency=OuterRef("with_agency")))
        ).order_by("pk")
        django_own = Escalation.objects.filter(
            Exists(
                Escalation.objects.filter(visibility_filter(user)).filter(
                    raising_agency=OuterRef("with_agency")
                )
            )
        ).order_by("pk")
        assert list(ours) == list(django_own), name


def test_the_compiled_rules_kept_are_bounded(world, monkeypatch):
    from accord.escalations import policies

    policies._COMPILED.clear()
    monkeypatch.setattr(policies, "COMPILED_LIMIT", 2)
    for name in ("practitioner_health", "manager_health", "senior_health", "pdg_member"):
        list(Escalation.objects.visible_to(_fresh(getattr(world, name))))
    assert len(policies._COMPILED) == 2


def test_my_work_brings_each_escalations_agencies_in_one_statement(world):
    """The three lists' agencies are read together after the lists (not joined into each
    list's statement), and are the escalations' own."""
    from accord.escalations.selectors import my_work

    for _ in range(3):
        world.raised()
    world.raised(raiser=world.practitioner_social, with_agency=world.health)
    work = my_work(user=world.manager_health, partnership=world.partnership)
    rows = [*work.awaiting, *work.raised_by_me, *work.agency]
    assert len(work.agency) == 4
    with CaptureQueriesContext(connection) as ctx:
        shown = [(e.raising_agency.name, e.with_agency.name) for e in rows]
    assert len(ctx.captured_queries) == 0
    fresh = Escalation.objects.select_related("raising_agency", "with_agency").in_bulk([e.pk for e in rows])
    assert shown == [(fresh[e.pk].raising_agency.name, fresh[e.pk].with_agency.name) for e in rows]
    with CaptureQueriesContext(connection) as ctx:
        my_work(user=world.manager_health, partnership=world.partnership)
    assert len([q for q in ctx.captured_queries if 'FROM "partnership_agency"' in q["sql"]]) == 1


def test_access_through_a_line_manager_link_ends_with_the_role_that_gave_it(world):
    """A manager demoted to practitioner, with the line-manager link left in place, no
    longer reads the team's escalations or their private reflections (rule 7: the
    raiser's line manager is a party as their manager)."""
    from accord.escalations import visibility
    from accord.partnership.models import Role, RoleAssignment, User

    e = world.raised()  # by practitioner_health, line-managed by manager_health
    manager = world.manager_health
    assert manager.has_perm("escalations.read_reflection", e)
    RoleAssignment.objects.filter(user=manager, role=Role.MANAGER).delete()
    RoleAssignment.objects.create(user=manager, partnership=world.partnership, role=Role.PRACTITIONER)
    demoted = User.objects.get(pk=manager.pk)
    assert world.practitioner_health.line_manager_id == manager.pk  # the link is left in place
    assert not Escalation.objects.visible_to(demoted).filter(pk=e.pk).exists()
    fresh = Escalation.objects.get(pk=e.pk)
    assert not demoted.has_perm("escalations.view", fresh)
    assert not demoted.has_perm("escalations.read_reflection", fresh)
    assert visibility.differences() == (0, 0, 0)
    # Promoted again, the link gives the access back.
    RoleAssignment.objects.create(user=manager, partnership=world.partnership, role=Role.SENIOR_LEADER)
    again = User.objects.get(pk=manager.pk)
    assert Escalation.objects.visible_to(again).filter(pk=e.pk).exists()
    assert again.has_perm("escalations.read_reflection", Escalation.objects.get(pk=e.pk))
    assert visibility.differences() == (0, 0, 0)


def test_a_facilitator_sees_the_children_only_where_the_partnership_turns_that_on(world, client):
    from accord.api.tests.test_api import Api
    from accord.escalations.models import PdgActionKind
    from accord.testing.auth import sign_in

    e = world.formal()
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        note="Offered a restorative meeting",
        facilitator_username=world.facilitator.username,
    )
    child = e.children.get().name
    sign_in(client, world.facilitator)
    page = client.get(f"/escalations/{e.pk}/").content.decode()
    assert e.reference in page and child not in page and "Not shown to restorative facilitators" in page
    assert child not in client.get(f"/escalations/{e.pk}/record/").content.decode()
    assert Api(client, world.facilitator).get(f"/escalations/{e.pk}").json()["children"] == []
    sign_in(client, world.pdg_member)  # the formal body holds them
    assert child in client.get(f"/escalations/{e.pk}/").content.decode()
    world.partnership.facilitators_see_children = True
    world.partnership.save()
    sign_in(client, world.facilitator)
    assert child in client.get(f"/escalations/{e.pk}/").content.decode()
    assert Api(client, world.facilitator).get(f"/escalations/{e.pk}").json()["children"][0]["name"] == child
