"""A difference between several agencies: every party agency's people take part at the
stages the ladder gives them (rule 7 in the query, the single-record predicate and the
kept table alike), are told, find it in "my work", and are counted once per pair in the
reports; another agency can be brought in or taken out as a step of its own, audited and
refused once closed; on every preset and with an agency two partnerships share."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils.html import escape

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.escalations import services, visibility
from accord.escalations.models import (
    DailyTally,
    Escalation,
    EventType,
    OtherParty,
    Outcome,
    PdgActionKind,
    Status,
)
from accord.escalations.notices import NoticeKind as Kind
from accord.escalations.selectors import my_work
from accord.escalations.tallies import rebuild
from accord.escalations.tests.test_presets import MOVER, expected_viewers
from accord.notifications.models import Notification
from accord.partnership.models import Role, WorkedBy
from accord.partnership.protocol import install_ladder, ladder_of, preset, preset_names
from accord.testing.factories import WORLD_ROLES, UserFactory, World

pytestmark = pytest.mark.django_db

# The third agency's people: World's "other" agency, and a senior leader for it.
THIRD = {"practitioner_other", "manager_other", "senior_other"}


def three_agencies(world: World, *, name_third: bool = True) -> Escalation:
    """Raised by health with children's services and the third agency (the practitioner
    there named, or nobody)."""
    world.senior_other = UserFactory(
        username=f"{world.partnership.slug}.senior.other",
        agency=world.other,
        roles=[(world.partnership, Role.SENIOR_LEADER)],
    )
    return world.raised(
        other_parties=[
            services.PartyDetails(world.other.pk, world.practitioner_other.username if name_third else "")
        ]
    )


def everyone(world) -> dict[str, object]:
    people = {name: getattr(world, name) for name in WORLD_ROLES}
    if hasattr(world, "senior_other"):
        people["senior_other"] = world.senior_other
    return people


def viewers(world, e) -> set[str]:
    """Who sees it by the list's query, checked against the single-record predicate and
    the kept table of who may see which."""
    people = everyone(world)
    by_query = {n for n, u in people.items() if Escalation.objects.visible_to(u).filter(pk=e.pk).exists()}
    fresh = Escalation.objects.get(pk=e.pk)
    by_rule = {
        n for n, u in people.items() if type(u).objects.get(pk=u.pk).has_perm("escalations.view", fresh)
    }
    assert by_query == by_rule, by_query ^ by_rule
    assert visibility.differences() == (0, 0, 0)
    return by_query


def third_expected(ladder, highest: int, *, named: bool) -> set[str]:
    seen = {"practitioner_other"} if named else set()
    managers = ladder.sees_from(WorkedBy.MANAGERS)
    if not named or (managers is not None and highest >= managers):
        seen.add("manager_other")
    seniors = ladder.sees_from(WorkedBy.SENIOR_LEADERS)
    if seniors is not None and highest >= seniors:
        seen.add("senior_other")
    return seen


@pytest.mark.parametrize("others_as", ["list", "subquery"])
@pytest.mark.parametrize("name_third", [True, False])
def test_every_party_agency_sees_it_at_the_stages_the_ladder_gives_it(
    world, other_world, monkeypatch, others_as, name_third
):
    from accord.escalations import policies

    # A person's places among the other parties are written into rule 7's query as ids,
    # or (many of them) as subqueries: both give the same answer.
    monkeypatch.setattr(policies, "OTHERS_INLINE_LIMIT", 200 if others_as == "list" else 0)
    ladder = ladder_of(world.partnership)
    e = world.consulted(three_agencies(world, name_third=name_third))
    assert viewers(world, e) == expected_viewers(ladder, 1) | third_expected(ladder, 1, named=name_third)
    for actor in ("practitioner_health", "manager_health", "senior_health"):
        e = services.escalation_escalate(
            actor=getattr(world, actor),
            escalation=Escalation.objects.get(pk=e.pk),
            reason="Not settled.",
            efforts_to_resolve="Met twice.",
        )
        expected = expected_viewers(ladder, e.highest_stage) | third_expected(
            ladder, e.highest_stage, named=name_third
        )
        assert viewers(world, e) == expected, e.stage
    # Nobody of another partnership sees it.
    for person in everyone(other_world).values():
        assert not Escalation.objects.visible_to(person).filter(pk=e.pk).exists()


@pytest.mark.parametrize("name", preset_names())
def test_on_every_preset_three_agencies_work_it_up_the_ladder_and_resolve_it(name):
    """Raised by health with children's services and the third agency: at every stage
    each agency's people see it when the ladder says so, the stage's workers of all three
    find it in "my work" and are told when it reaches them; at the top a leader of the
    third agency may record the resolution; the matrix counts both pairs."""
    world = World()
    install_ladder(world.partnership, preset(name))
    ladder = ladder_of(world.partnership)
    e = world.consulted(three_agencies(world))
    assert viewers(world, e) == expected_viewers(ladder, 1) | third_expected(ladder, 1, named=True)
    assert e.reference in [
        x.reference for x in my_work(user=world.practitioner_other, partnership=world.partnership).awaiting
    ]
    for stage in ladder.stages[1:]:
        current = ladder.stage(e.stage)
        e = services.escalation_escalate(
            actor=getattr(world, MOVER[current.worked_by]),
            escalation=Escalation.objects.get(pk=e.pk),
            reason=f"Not settled at stage {current.number}.",
            efforts_to_resolve="Practitioners and managers met twice.",
        )
        assert e.stage == stage.number
        expected = expected_viewers(ladder, stage.number) | third_expected(ladder, stage.number, named=True)
        assert viewers(world, e) == expected, stage
        third_worker = {
            WorkedBy.PRACTITIONERS: world.practitioner_other,
            WorkedBy.MANAGERS: world.manager_other,
            WorkedBy.SENIOR_LEADERS: world.senior_other,
        }.get(stage.worked_by)
        if third_worker is not None:
            awaiting = my_work(user=third_worker, partnership=world.partnership).awaiting
            assert e.pk in [x.pk for x in awaiting], stage
            if stage.worked_by != WorkedBy.PRACTITIONERS:
                assert Notification.objects.filter(
                    recipient=third_worker, about=f"escalation:{e.pk}", kind=Kind.REACHED_YOUR_STAGE
                ).exists(), stage
    # The third agency's own leader records the outcome at the top (where the agencies decide).
    leader = world.senior_other if "senior_other" in viewers(world, e) else world.manager_other
    e = Escalation.objects.get(pk=e.pk)
    if "resolve" in _actions(leader, e):
        services.escalation_resolve(
            actor=leader,
            escalation=e,
            outcome=Outcome.MULTI_AGENCY_PLAN,
            agreed_way_forward="A joint plan.",
            child_centred_outcome_achieved="yes",
            actions=[],
        )
        assert Escalation.objects.get(pk=e.pk).status == Status.RESOLVED
    else:  # a ladder whose formal body directs at the top: its members record it there
        assert ladder.decides_at(ladder.top)
    pairs = dict(
        DailyTally.objects.filter(partnership=world.partnership, dimension="pair").values_list("key", "n")
    )
    assert pairs[f"{world.health.pk}:{world.social.pk}"] == 1
    assert pairs[f"{world.health.pk}:{world.other.pk}"] == 1
    receiving = dict(
        DailyTally.objects.filter(partnership=world.partnership, dimension="receiving").values_list(
            "key", "n"
        )
    )
    assert receiving[str(world.social.pk)] == receiving[str(world.other.pk)] == 1


def _actions(user, e):
    from accord.escalations.policies import allowed_actions

    return allowed_actions(type(user).objects.get(pk=user.pk), e)


def test_the_people_of_every_agency_it_is_with_are_told_it_was_raised(world):
    e = three_agencies(world, name_third=False)
    told = set(
        Notification.objects.filter(about=f"escalation:{e.pk}", kind=Kind.RAISED_WITH_YOU).values_list(
            "recipient__username", flat=True
        )
    )
    # The named practitioner of the first agency; the third names nobody: its managers.
    assert told == {world.practitioner_social.username, world.manager_other.username}


def test_raising_refuses_a_party_that_cannot_be(world):
    def refused(*others) -> dict:
        with pytest.raises(ValidationError) as caught:
            world.raised(other_parties=list(others))
        return caught.value.message_dict

    assert "other_parties" in refused(services.PartyDetails(world.health.pk))  # the raising agency
    assert "other_parties" in refused(services.PartyDetails(world.social.pk))  # the first, again
    assert "other_parties" in refused(
        services.PartyDetails(world.other.pk), services.PartyDetails(world.other.pk)
    )
    stranger = World("Elsewhere", "ELS")
    assert "other_parties" in refused(services.PartyDetails(stranger.social.pk))  # not this partnership's
    assert "other_parties" in refused(
        services.PartyDetails(world.other.pk, world.practitioner_social.username)  # works elsewhere
    )
    assert not OtherParty.objects.exists()


def test_an_agency_brought_in_later_sees_it_is_told_and_it_is_recorded_and_counted(world):
    e = world.at_stage_2()
    assert not world.practitioner_other.has_perm("escalations.view", e)
    with pytest.raises(ValidationError):
        services.escalation_add_party(actor=world.manager_health, escalation=e, agency_id=world.other.pk)
    services.escalation_add_party(
        actor=world.manager_health,
        escalation=e,
        agency_id=world.other.pk,
        practitioner_username=world.practitioner_other.username,
        reason="Probation supervises the father.",
        expected_version=e.version,
    )
    e = Escalation.objects.get(pk=e.pk)
    assert visibility.differences() == (0, 0, 0)
    assert world.practitioner_other.has_perm("escalations.view", e)
    assert world.manager_other.has_perm("escalations.view", e)  # stage 2: managers work it
    assert Notification.objects.filter(recipient=world.practitioner_other, kind=Kind.RAISED_WITH_YOU).exists()
    assert Notification.objects.filter(
        recipient=world.practitioner_social, kind=Kind.PARTIES_CHANGED
    ).exists()
    assert e.events.filter(type=EventType.PARTY_ADDED).exists()
    entry = AuditEvent.objects.filter(verb=Verb.PARTY_ADDED).get()
    assert entry.payload["agency"] == world.other.pk
    pairs = DailyTally.objects.filter(partnership=world.partnership, dimension="pair")
    assert pairs.get(key=f"{world.health.pk}:{world.other.pk}").n == 1
    # The kept counts are what a rebuild from the records gives.
    kept = set(
        DailyTally.objects.filter(partnership=world.partnership, n__gt=0).values_list(
            "day", "dimension", "key", "n"
        )
    )
    rebuild(world.partnership.pk)
    assert kept == set(
        DailyTally.objects.filter(partnership=world.partnership, n__gt=0).values_list(
            "day", "dimension", "key", "n"
        )
    )

    # Taken out again: its people lose the access it gave them, and are told.
    with pytest.raises(ValidationError):  # the first agency stays
        services.escalation_remove_party(
            actor=world.manager_health, escalation=e, agency_id=world.social.pk, reason="Wrong agency."
        )
    services.escalation_remove_party(
        actor=world.manager_health, escalation=e, agency_id=world.other.pk, reason="Added in error."
    )
    e = Escalation.objects.get(pk=e.pk)
    assert not world.practitioner_other.has_perm("escalations.view", e)
    assert not Escalation.objects.visible_to(world.practitioner_other).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)
    assert Notification.objects.filter(recipient=world.practitioner_other, kind=Kind.PARTIES_CHANGED).exists()
    assert AuditEvent.objects.filter(verb=Verb.PARTY_REMOVED).count() == 1
    assert not pairs.filter(key=f"{world.health.pk}:{world.other.pk}", n__gt=0).exists()


def test_who_may_change_the_parties_and_when(world):
    e = world.raised()
    # Someone who does not see it is told it does not exist; a facilitator or a party-less
    # role may not; a closed escalation refuses it as a transition.
    with pytest.raises(NotFound):
        services.escalation_add_party(
            actor=world.practitioner_other, escalation=e, agency_id=world.other.pk, reason="Me too."
        )
    with pytest.raises(NotFound):
        services.escalation_add_party(
            actor=world.pdg_member, escalation=e, agency_id=world.other.pk, reason="Before formal."
        )
    services.escalation_withdraw(actor=world.practitioner_health, escalation=e, reason="Settled informally.")
    with pytest.raises(IllegalTransition):
        services.escalation_add_party(
            actor=world.practitioner_health,
            escalation=Escalation.objects.get(pk=e.pk),
            agency_id=world.other.pk,
            reason="Late.",
        )
    formal = world.formal()
    services.escalation_add_party(
        actor=world.pdg_chair,
        escalation=formal,
        agency_id=world.other.pk,
        reason="The PDG asks probation in.",
    )
    with pytest.raises(NotFound):  # the executive sees aggregates only
        services.escalation_remove_party(
            actor=world.executive, escalation=formal, agency_id=world.other.pk, reason="No."
        )
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=Escalation.objects.get(pk=formal.pk),
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
    )
    with pytest.raises(NotAllowed):  # a facilitator sees it but does not decide who it is with
        services.escalation_remove_party(
            actor=world.facilitator,
            escalation=Escalation.objects.get(pk=formal.pk),
            agency_id=world.other.pk,
            reason="No.",
        )


def test_an_agency_two_partnerships_share_sees_its_part_in_each_only(world, neighbour):
    """The shared health agency is a third party in the neighbour's difference: its people
    with roles there see it; its people with roles only in the first partnership do not."""
    e = neighbour.raised(
        raiser=neighbour.practitioner_social,
        with_agency=neighbour.other,
        with_practitioner_username=neighbour.practitioner_other.username,
        other_parties=[services.PartyDetails(neighbour.health.pk, neighbour.practitioner_health.username)],
    )
    assert neighbour.practitioner_health.has_perm("escalations.view", e)
    assert Escalation.objects.visible_to(neighbour.practitioner_health).filter(pk=e.pk).exists()
    for name in ("practitioner_health", "manager_health", "senior_health"):
        person = getattr(world, name)  # same agency, roles in the first partnership only
        assert not person.has_perm("escalations.view", e), name
        assert not Escalation.objects.visible_to(person).filter(pk=e.pk).exists(), name
    assert visibility.differences() == (0, 0, 0)


def test_my_work_counts_an_agencys_place_among_the_others(world):
    e = three_agencies(world)
    services.escalation_escalate(
        actor=world.practitioner_health, escalation=world.consulted(e), reason="Not settled."
    )
    work = my_work(user=world.manager_other, partnership=world.partnership)
    assert [x.pk for x in work.agency] == [e.pk]
    assert work.agency_total == 1
    assert e.pk in [x.pk for x in work.awaiting]


def test_a_line_manager_of_the_practitioner_named_in_another_agency_sees_it_from_the_start(world):
    world.practitioner_other.line_manager = world.manager_other
    world.practitioner_other.save()
    e = three_agencies(world)
    assert world.manager_other.has_perm("escalations.view", e)
    assert Escalation.objects.visible_to(world.manager_other).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)
    # The link changes: the table follows.
    world.practitioner_other.line_manager = None
    world.practitioner_other.save()
    assert not Escalation.objects.visible_to(world.manager_other).filter(pk=e.pk).exists()
    assert visibility.differences() == (0, 0, 0)


def test_raised_on_a_day_the_tallies_count_each_receiving_agency_once(world):
    with clock.set_to(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)):
        three_agencies(world)
    receiving = DailyTally.objects.filter(
        partnership=world.partnership, dimension="receiving", day=dt.date(2026, 3, 2)
    )
    assert dict(receiving.values_list("key", "n")) == {str(world.social.pk): 1, str(world.other.pk): 1}


# ------------------------------------------------------------------------------ the pages


def test_raising_with_three_agencies_through_the_pages_checks_each_answer_where_it_is_asked(client, world):
    from django.urls import reverse

    from accord.escalations.models import Draft
    from accord.escalations.tests.test_pages import _walk
    from accord.testing.auth import sign_in

    sign_in(client, world.practitioner_health)
    draft = _walk(client, world)
    url = reverse("escalations:step", args=[draft.pk, "with"])
    base = {
        "kind": "case",
        "with_agency": world.social.pk,
        "with_practitioner": world.practitioner_social.username,
    }
    # A practitioner of another agency than the one chosen is refused on this page.
    wrong = client.post(url, {**base, "with_practitioner": world.practitioner_other.username})
    assert wrong.status_code == 200 and (
        f"Nobody called {world.practitioner_other.username} works for {world.social.name} in Accord"
    ) in html.unescape(wrong.content.decode())
    wrong = client.post(
        url,
        {
            **base,
            "other_1_agency": world.other.pk,
            "other_1_practitioner": world.practitioner_social.username,
        },
    )
    assert (
        f"Nobody called {world.practitioner_social.username} works for {world.other.name} in Accord"
    ) in html.unescape(wrong.content.decode())
    wrong = client.post(url, {**base, "other_1_agency": world.social.pk})
    assert "already one of the agencies the difference is with" in wrong.content.decode()
    done = client.post(
        url,
        {**base, "other_1_agency": world.other.pk, "other_1_practitioner": world.practitioner_other.username},
    )
    assert done.status_code == 302
    check = client.get(reverse("escalations:check", args=[draft.pk])).content.decode()
    assert escape(world.other.name) in check and escape(world.practitioner_other.get_full_name()) in check
    client.post(reverse("escalations:check", args=[draft.pk]))
    e = Escalation.objects.get()
    assert [o.agency_id for o in e.others()] == [world.other.pk]
    assert not Draft.objects.exists()
    # The escalation's page lists every agency it is with.
    sign_in(client, world.practitioner_other)
    page = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    assert escape(world.social.name) in page and escape(world.other.name) in page


def test_the_check_page_shows_every_saved_answer_even_with_an_error(client, world):
    from django.urls import reverse

    from accord.escalations.tests.test_pages import _walk
    from accord.testing.auth import sign_in

    sign_in(client, world.practitioner_health)
    draft = _walk(client, world)
    draft.refresh_from_db()
    draft.data["summary"] = ""  # an answer missing: the check page shows the error
    draft.save()
    page = client.get(reverse("escalations:check", args=[draft.pk])).content.decode()
    assert "Enter a short summary of the difference" in page
    assert escape(world.social.name) in page and escape(world.practitioner_social.get_full_name()) in page
    assert "Neglect" in page  # a practice theme chosen
    area = world.partnership.areas_of_disagreement.get(code="levels-of-risk")
    assert escape(area.label) in page


def test_the_kind_page_asks_for_the_reason_with_the_stage(client, world):
    from django.urls import reverse

    from accord.escalations.models import Draft
    from accord.testing.auth import sign_in

    sign_in(client, world.chair)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    url = reverse("escalations:step", args=[draft.pk, "start"])
    page = client.post(url, {"origin": "conference", "start_stage": "3", "start_stage_reason": ""})
    assert page.status_code == 200 and "Enter why this starts above stage 1" in page.content.decode()
    ok = client.post(
        url,
        {"origin": "conference", "start_stage": "3", "start_stage_reason": "Drift for months."},
    )
    assert ok.status_code == 302


def test_bringing_an_agency_in_and_taking_it_out_through_the_pages(client, world):
    from django.urls import reverse

    from accord.testing.auth import sign_in

    e = world.raised()
    sign_in(client, world.manager_health)
    detail = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    assert reverse("escalations:add_party", args=[e.pk]) in detail
    url = reverse("escalations:add_party", args=[e.pk])
    form = client.get(url).content.decode()
    assert (
        escape(world.other.name) in form and f'value="{world.social.pk}"' not in form
    )  # parties are not offered
    missing = client.post(url, {"agency": world.other.pk, "reason": "", "version": e.version})
    assert "Enter why this agency is being brought in" in missing.content.decode()
    wrong = client.post(
        url,
        {
            "agency": world.iru.pk,
            "practitioner": world.practitioner_other.username,  # works for probation
            "reason": "r",
            "version": e.version,
        },
    )
    assert f"Nobody called {world.practitioner_other.username} works for" in html.unescape(
        wrong.content.decode()
    )
    added = client.post(
        url, {"agency": world.other.pk, "reason": "Probation knows the father.", "version": e.version}
    )
    assert added.status_code == 302
    e = Escalation.objects.get(pk=e.pk)
    detail = client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    remove = reverse("escalations:remove_party", args=[e.pk, world.other.pk])
    assert remove in detail and "Probation knows the father." in detail  # on the timeline
    stale = client.post(remove, {"reason": "In error.", "version": e.version - 1})
    assert stale.status_code == 409
    gone = client.post(remove, {"reason": "In error.", "version": e.version})
    assert gone.status_code == 302
    assert not Escalation.objects.get(pk=e.pk).others()
    assert client.get(remove).status_code == 404
    # Once closed, nobody is offered it and the page refuses it.
    services.escalation_withdraw(
        actor=world.practitioner_health, escalation=Escalation.objects.get(pk=e.pk), reason="Settled."
    )
    assert (
        reverse("escalations:add_party", args=[e.pk])
        not in client.get(reverse("escalations:detail", args=[e.pk])).content.decode()
    )
    assert client.get(url).status_code == 403


def test_my_work_lists_the_raisers_unfinished_drafts_and_no_one_elses(client, world):
    from django.urls import reverse

    from accord.escalations.models import Draft
    from accord.testing.auth import sign_in

    mine = Draft.objects.create(
        owner=world.practitioner_health, partnership=world.partnership, data={"summary": "Half written"}
    )
    Draft.objects.create(
        owner=world.practitioner_social, partnership=world.partnership, data={"summary": "Theirs"}
    )
    sign_in(client, world.practitioner_health)
    home = client.get("/").content.decode()
    assert "Half written" in home and reverse("escalations:check", args=[mine.pk]) in home
    assert "Theirs" not in home


def test_practice_themes_are_checkboxes_several_can_be_chosen_and_all_cleared(client, world):
    from django.urls import reverse

    from accord.escalations.models import Draft
    from accord.testing.auth import sign_in

    sign_in(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    url = reverse("escalations:step", args=[draft.pk, "difference"])
    page = client.get(url).content.decode()
    assert 'type="checkbox" value="neglect"' in page and 'type="radio" value="neglect"' not in page
    # Several areas of disagreement, like themes.
    assert 'type="checkbox" value="levels-of-risk"' in page
    answers = {"summary": "Threshold", "concern": "Needs", "urgency": "routine", "areas": ["levels-of-risk"]}
    client.post(url, {**answers, "themes": ["neglect", "domestic-abuse"]})
    draft.refresh_from_db()
    assert sorted(draft.data["themes"]) == ["domestic-abuse", "neglect"]
    client.post(url, answers)  # none ticked: cleared
    draft.refresh_from_db()
    assert draft.data["themes"] == []


def test_the_pickers_scale_no_list_of_staff_is_sent_with_the_page(client, world):
    """The agencies are a plain select an autocomplete enhances; the practitioner is found
    in the partnership's directory as it is typed: the page carries no one's name."""
    from django.urls import reverse

    from accord.escalations.models import Draft
    from accord.testing.auth import sign_in

    sign_in(client, world.practitioner_health)
    client.post(reverse("escalations:danger"), {"immediate_danger": "no"})
    draft = Draft.objects.get()
    page = client.get(reverse("escalations:step", args=[draft.pk, "with"])).content.decode()
    compact = " ".join(page.split())
    select = re.search(r'<select[^>]*name="with_agency"[^>]*>', compact).group(0)
    assert 'data-autocomplete="1"' in select
    assert 'data-directory="1"' in compact
    assert world.practitioner_social.username not in page and world.practitioner_social.email not in page


def test_a_rebuild_adds_an_agencys_first_and_other_places_on_the_same_day(world):
    """Probation is the first agency of one difference and another agency of a second,
    both raised the same day: one receiving count of 2, kept and rebuilt alike."""
    with clock.set_to(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)):
        world.raised(with_agency=world.other)
        three_agencies(world)

    def receiving_other():
        return DailyTally.objects.get(
            partnership=world.partnership,
            dimension="receiving",
            key=str(world.other.pk),
            day=dt.date(2026, 3, 2),
        ).n

    assert receiving_other() == 2
    rebuild(world.partnership.pk)
    assert receiving_other() == 2
    monthly = DailyTally.objects.get(
        partnership=world.partnership,
        dimension="m:receiving",
        key=str(world.other.pk),
        day=dt.date(2026, 3, 1),
    )
    assert monthly.n == 2
