"""The table of who may see which escalation stays exactly what rule 7 allows, whatever
happens to the escalations and the people, and the API's count reads it."""

import datetime as dt
import io
from itertools import product

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.escalations import services, visibility
from accord.escalations.models import Escalation, OtherParty, PdgAction, PdgActionKind, Visibility
from accord.partnership.models import Role, RoleAssignment, User
from accord.testing.factories import WORLD_ROLES, UserFactory

pytestmark = pytest.mark.django_db

AGENCIES = ["health", "social", "other", "iru", "unit"]
ROLES = list(Role.values)


def held(user_id=None) -> set[tuple[int, int, int]]:
    rows = Visibility.objects.all()
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    return set(rows.values_list("user_id", "partnership_id", "escalation_id"))


def allowed() -> set[tuple[int, int, int]]:
    """Every (person, partnership, escalation) rule 7's query lets through."""
    pairs = set()
    for user in User.objects.all():  # fresh records: roles and activity as they are now
        for pid, eid in Escalation.objects.visible_to(user).values_list("partnership_id", "pk"):
            pairs.add((user.pk, pid, eid))
    return pairs


def _history(world, other_world):
    """Escalations at every point of the ladder, in two partnerships."""
    escalations = [
        world.raised(),
        world.raised(with_agency=world.other),  # names nobody: the other agency's managers receive it
        world.at_stage_2(),
        world.at_stage_3(),
        world.formal(),
        other_world.at_stage_3(),
        # With a third agency, naming its practitioner.
        world.raised(
            other_parties=[services.PartyDetails(world.other.pk, world.practitioner_other.username)]
        ),
    ]
    people = [getattr(world, name) for name in WORLD_ROLES] + [
        other_world.practitioner_health,
        other_world.manager_social,
        other_world.pdg_member,
    ]
    return [e.pk for e in escalations], [p.pk for p in people]


def _apply(world, op, escalation_ids, people_ids) -> None:
    kind, *args = op
    agencies = [getattr(world, name) for name in AGENCIES]
    if kind in {
        "stage",
        "with",
        "raiser",
        "facilitate",
        "unfacilitate",
        "delete",
        "add_other",
        "remove_other",
    }:
        e = Escalation.objects.filter(pk=escalation_ids[args[0]]).first()
        if e is None:
            return  # deleted earlier in this history
    if kind == "stage":
        e.stage = e.highest_stage = args[1]
        e.formal_at = timezone.now() if args[1] >= 4 else None
        e.save(update_fields=["stage", "highest_stage", "formal_at"] if args[2] else None)
    elif kind == "with":
        e.with_practitioner_id = None if args[1] is None else people_ids[args[1]]
        e.with_agency = agencies[args[2]]
        e.save()
    elif kind == "raiser":
        person = User.objects.get(pk=people_ids[args[1]])
        e.raised_by = person
        e.raising_agency_id = person.agency_id or e.raising_agency_id
        e.save(update_fields=["raised_by", "raising_agency"])
    elif kind == "facilitate":
        PdgAction.objects.create(
            escalation=e,
            action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator_id=people_ids[args[1]],
            recorded_by=world.pdg_chair,
        )
    elif kind == "unfacilitate":
        PdgAction.objects.filter(escalation=e, facilitator__isnull=False).delete()
    elif kind == "add_other":  # another agency it is with, naming someone or nobody
        OtherParty.objects.get_or_create(
            escalation=e,
            agency=agencies[args[1]],
            defaults={
                "practitioner_id": None if args[2] is None else people_ids[args[2]],
                "added_at": timezone.now(),
                "added_by": world.pdg_chair,
            },
        )
    elif kind == "remove_other":
        for party in OtherParty.objects.filter(escalation=e):
            party.delete()
    elif kind == "delete":
        e.delete()
    elif kind == "fold":
        visibility.fold(people_ids[args[0]], world.partnership.pk)
    elif kind == "note":  # a save that touches nothing rule 7 reads
        Escalation.objects.filter(pk=escalation_ids[args[0]]).first() and Escalation.objects.get(
            pk=escalation_ids[args[0]]
        ).save(update_fields=["summary"])
    else:
        person = User.objects.get(pk=people_ids[args[0]])
        if kind == "line_manager":
            person.line_manager_id = None if args[1] is None else people_ids[args[1]]
            person.save()
        elif kind == "agency":
            person.agency = None if args[1] is None else agencies[args[1]]
            person.save()
        elif kind == "active":
            person.is_active = args[1]
            person.save(update_fields=["is_active"])
        elif kind == "grant":
            RoleAssignment.objects.get_or_create(user=person, partnership=world.partnership, role=args[1])
        elif kind == "revoke":
            RoleAssignment.objects.filter(user=person, role=args[1]).delete()


def _operations(n_escalations: int, n_people: int):
    e = st.integers(0, n_escalations - 1)
    p = st.integers(0, n_people - 1)
    maybe_p = st.none() | p
    agency = st.integers(0, len(AGENCIES) - 1)
    return st.one_of(
        st.tuples(st.just("stage"), e, st.integers(1, 5), st.booleans()),
        st.tuples(st.just("with"), e, maybe_p, agency),
        st.tuples(st.just("raiser"), e, p),
        st.tuples(st.just("facilitate"), e, p),
        st.tuples(st.just("unfacilitate"), e),
        st.tuples(st.just("add_other"), e, agency, maybe_p),
        st.tuples(st.just("remove_other"), e),
        st.tuples(st.just("delete"), e),
        st.tuples(st.just("note"), e),
        st.tuples(st.just("line_manager"), p, maybe_p),
        st.tuples(st.just("fold"), p),
        st.tuples(st.just("agency"), p, st.none() | agency),
        st.tuples(st.just("active"), p, st.booleans()),
        st.tuples(st.just("grant"), p, st.sampled_from(ROLES)),
        st.tuples(st.just("revoke"), p, st.sampled_from(ROLES)),
    )


def test_the_table_is_exactly_rule_7_after_any_history(world, other_world, monkeypatch):
    """Random changes to escalations (stage, parties, other agencies, facilitators, deletion) and to
    people (line manager, agency, account, roles), each saved as the services and the
    admin save them: afterwards the table holds exactly the pairs rule 7's query allows,
    and everyone's count is the number of their pairs (folded as they pile up, or not)."""
    monkeypatch.setattr(visibility, "FOLD_AFTER", 3)
    escalation_ids, people_ids = _history(world, other_world)
    partnerships = [world.partnership.pk, other_world.partnership.pk]
    assert held() == allowed()

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(_operations(len(escalation_ids), len(people_ids)), max_size=10))
    def check(ops):
        with transaction.atomic():
            for op in ops:
                _apply(world, op, escalation_ids, people_ids)
            pairs = held()
            assert pairs == allowed(), ops
            people = User.objects.in_bulk(people_ids)  # (one read, not one a person)
            for user_id, partnership_id in product(people_ids, partnerships):
                assert visibility.count_visible(people[user_id], partnership_id) == len(
                    [1 for u, p, _ in pairs if u == user_id and p == partnership_id]
                ), ops
            assert visibility.differences() == (0, 0, 0)
            transaction.set_rollback(True)

    check()


def test_a_new_line_manager_sees_what_their_report_raised_and_the_old_one_no_longer_does(world):
    e = world.raised()  # by practitioner_health, line-managed by manager_health
    new_manager = UserFactory(
        username="second.health.manager", agency=world.health, roles=[(world.partnership, Role.MANAGER)]
    )
    assert (new_manager.pk, world.partnership.pk, e.pk) not in held()
    world.practitioner_health.line_manager = new_manager
    world.practitioner_health.save()
    assert (new_manager.pk, world.partnership.pk, e.pk) in held()
    assert (world.manager_health.pk, world.partnership.pk, e.pk) not in held()
    assert held() == allowed()
    # A line manager in another agency (the report moved, or a slip) gains nothing raised
    # from health through them.
    world.practitioner_health.line_manager = world.manager_other
    world.practitioner_health.save()
    assert (world.manager_other.pk, world.partnership.pk, e.pk) not in held()
    assert held() == allowed()


def test_a_manager_moving_agency_sees_the_new_agencys_escalations_not_the_old(world):
    e = world.at_stage_2()  # health with social: both agencies' managers see it
    assert (world.manager_other.pk, world.partnership.pk, e.pk) not in held()
    world.manager_other.agency = world.social
    world.manager_other.save()
    world.manager_social.agency = world.other
    world.manager_social.save(update_fields=["agency"])
    assert (world.manager_other.pk, world.partnership.pk, e.pk) in held()
    assert (world.manager_social.pk, world.partnership.pk, e.pk) not in held()
    assert held() == allowed()


def test_counts_from_the_table_match_rule_7_for_everyone(world, other_world):
    _history(world, other_world)
    for user in User.objects.all():
        for partnership in (world.partnership, other_world.partnership):
            expected = Escalation.objects.visible_to(user).filter(partnership=partnership).count()
            assert visibility.count_visible(user, partnership.pk) == expected, user.username


def test_someone_signed_out_or_inactive_counts_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    world.raised()
    assert visibility.count_visible(world.practitioner_health, world.partnership.pk) == 1
    assert visibility.count_visible(AnonymousUser(), world.partnership.pk) == 0
    world.practitioner_health.is_active = False  # not yet saved: the account as the request has it
    assert visibility.count_visible(world.practitioner_health, world.partnership.pk) == 0


def test_deleting_an_escalation_a_person_or_a_role_leaves_nothing_behind(world):
    e = world.formal()
    PdgAction.objects.create(
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator=world.facilitator,
        recorded_by=world.pdg_chair,
    )
    assert Visibility.objects.filter(escalation=e, user=world.facilitator).exists()
    PdgAction.objects.filter(escalation=e).delete()  # the appointment withdrawn
    assert not Visibility.objects.filter(escalation=e, user=world.facilitator).exists()
    PdgAction.objects.create(
        escalation=e,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator=world.facilitator,
        recorded_by=world.pdg_chair,
    )
    with transaction.atomic():  # a facilitator removed with everything else of the escalation
        Escalation.objects.filter(pk=e.pk).delete()
    assert not Visibility.objects.filter(escalation_id=e.pk).exists()
    e = world.formal()
    with transaction.atomic():
        User.objects.filter(pk=world.pdg_member.pk).delete()  # their roles go with them
    assert held() == allowed()
    assert visibility.differences() == (0, 0, 0)


def test_rebuild_visibility_checks_and_corrects_the_table(world):
    world.at_stage_3()
    call_command("rebuild_visibility", "--check", stdout=io.StringIO())
    Visibility.objects.filter(user=world.senior_social).delete()
    e = Escalation.objects.get()
    Visibility.objects.create(
        user=world.auditor, partnership=world.partnership, escalation=e, raised_at=e.raised_at
    )
    with pytest.raises(CommandError, match="differs from rule 7"):
        call_command("rebuild_visibility", "--check", stdout=io.StringIO())
    assert visibility.differences() == (1, 1, 2)  # and two people's counts are off by one
    call_command("rebuild_visibility", stdout=io.StringIO())
    assert visibility.differences() == (0, 0, 0)
    assert held() == allowed()
    # When it was raised (the unfiltered list's order) is checked too.
    Visibility.objects.filter(user=world.practitioner_health).update(
        raised_at=e.raised_at - dt.timedelta(days=1)
    )
    assert visibility.differences() == (1, 1, 0)


def test_the_apis_unfiltered_count_is_read_from_the_table_and_filtered_counts_by_rule_7(world, client):
    from accord.escalations.selectors import ListFilters, escalation_count, escalation_list

    for _ in range(3):
        world.raised()
    world.at_stage_2()
    user = world.manager_health
    for filters, table in (
        (ListFilters(), True),
        (ListFilters(stage=2), False),
        (ListFilters(status="open"), False),
    ):
        qs = escalation_list(user=user, partnership=world.partnership, filters=filters)
        with CaptureQueriesContext(connection) as ctx:
            count = escalation_count(user=user, partnership=world.partnership, filters=filters, qs=qs)
        assert count == len(list(qs)) == qs.count()
        assert len(ctx.captured_queries) == 1
        assert (Visibility._meta.db_table in ctx.captured_queries[0]["sql"]) is table


def test_a_persons_changes_are_folded_into_their_count_once_they_pile_up(world, monkeypatch):
    from accord.escalations.models import VisibilityChange, VisibilityCount

    monkeypatch.setattr(visibility, "FOLD_AFTER", 3)
    me, p = world.practitioner_health, world.partnership.pk
    mine = VisibilityChange.objects.filter(user=me, partnership_id=p)
    for expected in (1, 2):
        world.raised()
        assert visibility.count_visible(me, p) == expected
    assert mine.count() == 2 and not VisibilityCount.objects.filter(user=me).exists()
    world.raised()
    assert visibility.count_visible(me, p) == 3  # the third change: folded as it is read
    assert not mine.exists() and VisibilityCount.objects.get(user=me, partnership_id=p).n == 3
    for _ in range(3):
        world.raised()
    assert visibility.count_visible(me, p) == 6  # folded again, onto the count already there
    assert not mine.exists() and VisibilityCount.objects.get(user=me, partnership_id=p).n == 6
    assert visibility.count_visible(me, p) == 6
    assert visibility.differences() == (0, 0, 0)


def test_a_save_recounts_exactly_when_it_touches_a_column_the_recount_reads():
    """The fields whose change triggers a recount are the columns the recount reads."""
    read = {c.removesuffix("_id") for c in visibility._COLUMNS if c != "id"}
    assert read == visibility.ESCALATION_FIELDS
    assert all(c in {f.attname for f in Escalation._meta.concrete_fields} for c in visibility._COLUMNS)


@pytest.mark.parametrize("how", ["fold_all", "command", "worker"])
def test_everyones_changes_are_folded_by_the_worker_and_the_command(world, how, monkeypatch):
    """People who never read a count would otherwise gather changes for ever: the worker's
    sweep (and ``rebuild_visibility --fold``, for cron) folds them all, counts unchanged."""
    from accord.escalations.models import VisibilityChange, VisibilityCount

    world.raised()
    world.at_stage_3()
    people = set(VisibilityChange.objects.values_list("user_id", flat=True))
    assert len(people) >= 6
    before = {u.pk: visibility.count_visible(u, world.partnership.pk) for u in User.objects.all()}
    if how == "fold_all":
        assert visibility.fold_all() == len(people)
    elif how == "command":
        call_command("rebuild_visibility", "--fold", stdout=io.StringIO())
    else:
        from accord.web.management.commands import run_worker

        # (The worker closes stale connections between passes; the test's transaction needs its own.)
        monkeypatch.setattr(run_worker, "close_old_connections", lambda: None)
        call_command("run_worker", "--once", stdout=io.StringIO())
    assert not VisibilityChange.objects.exists()
    assert set(VisibilityCount.objects.values_list("user_id", flat=True)) == people
    assert {u.pk: visibility.count_visible(u, world.partnership.pk) for u in User.objects.all()} == before
    assert visibility.differences() == (0, 0, 0)
    world.raised()  # new changes after a fold add to the folded counts
    assert visibility.fold_all() > 0 and visibility.differences() == (0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_after_a_committed_change_of_people_the_chunked_recount_leaves_the_table_exact(settings, monkeypatch):
    """As in production: a change of roles, agency, account or line manager is committed
    first and then recounted in chunks of escalations (a chunk of 2 here), beside
    everyone else; afterwards the table and the counts are exactly rule 7's."""
    from accord.testing.factories import World

    settings.ACCORD_RECOUNT_AFTER_COMMIT = True
    monkeypatch.setattr(visibility, "PEOPLE_CHUNK", 2)
    monkeypatch.setattr(visibility, "INVOLVING_CHUNK", 2)
    calls = []
    for name in ("recount_people", "recount_involving"):
        real = getattr(visibility, name)
        monkeypatch.setattr(
            visibility, name, lambda *a, _real=real, _name=name: calls.append(_name) or _real(*a)
        )
    world = World()
    escalations = [world.at_stage_2(), world.raised(), world.at_stage_3(), world.formal()]
    assert held() == allowed()
    RoleAssignment.objects.filter(user=world.manager_health, role=Role.MANAGER).delete()
    RoleAssignment.objects.create(
        user=world.manager_health, partnership=world.partnership, role=Role.SENIOR_LEADER
    )
    world.manager_social.agency = world.other
    world.manager_social.save()
    world.practitioner_health.line_manager = world.manager_other
    world.practitioner_health.save()
    world.senior_social.is_active = False
    world.senior_social.save(update_fields=["is_active"])
    assert held() == allowed()
    assert visibility.differences() == (0, 0, 0)
    assert all(e.pk for e in escalations)
    assert {"recount_people", "recount_involving"} <= set(calls)  # the committed, chunked way


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_recount_of_people_beside_escalations_being_raised_leaves_the_table_exact(settings, monkeypatch):
    """The chunked recount of a person runs beside escalations raised and moved on at the
    same moment (each recounting its own rows under the shared lock): nothing is left
    behind and nothing counted twice."""
    import threading

    from django.db import close_old_connections

    from accord.testing.factories import World

    settings.ACCORD_RECOUNT_AFTER_COMMIT = True
    monkeypatch.setattr(visibility, "PEOPLE_CHUNK", 3)
    world = World()
    for _ in range(6):
        world.at_stage_2()
    errors = []

    def others():
        try:
            for _ in range(6):
                world.consulted(world.raised())
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            close_old_connections()

    thread = threading.Thread(target=others)
    thread.start()
    for role in (Role.SENIOR_LEADER, Role.MANAGER):
        RoleAssignment.objects.filter(user=world.manager_health).delete()
        RoleAssignment.objects.create(user=world.manager_health, partnership=world.partnership, role=role)
    thread.join(timeout=60)
    assert not errors
    assert held() == allowed()
    assert visibility.differences() == (0, 0, 0)
