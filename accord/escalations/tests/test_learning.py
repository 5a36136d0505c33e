"""Learning for the partnership, in words: whoever records an outcome at any stage may write it
(a resolution, a withdrawal, the follow-up); it is refused if it names the escalation's
children (name, date of birth, reference); the formal body reads all of it grouped by theme
and area, whatever the stage; it reaches the annual report only once the formal body's chair
marks it fit to publish. Page, API and services alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.api.tests.test_api import Api
from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.escalations import services
from accord.escalations.children import child_details_named
from accord.escalations.models import Child, Learning, Status
from accord.escalations.services.learning import learning_publish
from accord.reports.annual import annual_tables
from accord.reports.selectors import Period, learning_by_theme
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

PERIOD = Period(dt.date(2026, 4, 1), dt.date(2027, 3, 31))
LESSON = "Managers talking on the first day would have settled this; the threshold guidance is unclear."


def at(m, d, y=2026):
    return timezone.make_aware(dt.datetime(y, m, d, 10))


def resolve(world, e, learning=LESSON):
    return services.escalation_resolve(
        actor=world.manager_social,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="A joint visit.",
        child_centred_outcome_achieved="yes",
        learning=learning,
    )


@pytest.mark.parametrize(
    "text, kinds",
    [
        ("Zebedee was not seen for weeks", ["name"]),
        ("the Quartermaine family", ["name"]),
        ("ZEBEDEE QUARTERMAINE", ["name"]),
        ("born 04/05/2019", ["date of birth"]),
        ("born 4 May 2019", ["date of birth"]),
        ("born 2019-05-04", ["date of birth"]),
        ("see zq-778812 on the file", ["reference"]),
        ("Managers should talk sooner", []),
        ("Zebedees and quartermainer are not the child", []),
    ],
)
def test_a_childs_details_are_found_however_written(text, kinds):
    child = Child(
        name="Zebedee Quartermaine", date_of_birth=dt.date(2019, 5, 4), agency_reference="ZQ-778812"
    )
    assert child_details_named(text, [child]) == kinds


def test_learning_naming_the_child_is_refused_at_every_outcome(world):
    e = world.at_stage_2()
    with pytest.raises(ValidationError) as refused:
        resolve(world, e, learning="Zebedee's school should have been asked.")
    assert "must not identify the child" in refused.value.message_dict["learning"][0]
    assert type(e).objects.get(pk=e.pk).status == Status.OPEN  # nothing was recorded
    other = world.raised()
    with pytest.raises(ValidationError) as refused:
        services.escalation_withdraw(
            actor=world.practitioner_health, escalation=other, reason="Settled", learning="ref ZQ-778812"
        )
    assert "reference" in refused.value.message_dict["learning"][0]
    assert not Learning.objects.exists()


def test_learning_is_kept_from_every_stage_and_outcome(world):
    stage_1 = world.consulted(world.raised())
    services.escalation_resolve(
        actor=world.manager_health,
        escalation=stage_1,
        outcome="agreed_way_forward",
        agreed_way_forward="Talked it through.",
        child_centred_outcome_achieved="yes",
        learning=LESSON,
    )
    withdrawn = world.raised()
    services.escalation_withdraw(
        actor=world.practitioner_health,
        escalation=withdrawn,
        reason="Settled",
        learning="Ask the school first.",
    )
    kept = {(n.escalation_id, n.stage, n.recorded_with, n.written_by_id) for n in Learning.objects.all()}
    assert kept == {
        (stage_1.pk, 1, "resolution", world.manager_health.pk),
        (withdrawn.pk, 1, "withdrawal", world.practitioner_health.pk),
    }


def test_the_follow_up_may_carry_learning(world):
    with clock.set_to(at(10, 5)):
        e = world.raised()
    with clock.set_to(at(10, 8)):
        resolve(world, e, learning="")
    with clock.set_to(at(11, 20)):
        with pytest.raises(ValidationError):
            services.escalation_follow_up(
                actor=world.practitioner_health,
                escalation=e,
                held="held",
                what_changed="Better",
                learning="Zebedee is thriving",
            )
        services.escalation_follow_up(
            actor=world.practitioner_health,
            escalation=e,
            held="held",
            what_changed="Better",
            learning="A six-week check keeps agreements alive.",
        )
    assert Learning.objects.get().recorded_with == "follow_up"


def test_the_formal_body_reads_all_of_it_by_theme_and_area_and_the_chair_publishes(client, world):
    e = world.consulted(world.raised())  # stage 1: the formal body never sees this escalation
    resolve_by = world.manager_health
    services.escalation_resolve(
        actor=resolve_by,
        escalation=e,
        outcome="agreed_way_forward",
        agreed_way_forward="Talked it through.",
        child_centred_outcome_achieved="yes",
        learning=LESSON,
    )
    period = Period(clock.today() - dt.timedelta(days=1), clock.today())
    groups = learning_by_theme(world.partnership, period, world.pdg_member)
    assert [g.theme for g in groups] == ["Neglect"]
    [(area, [note])] = groups[0].areas
    assert area == "Levels of risk, need or threshold" and note.text == LESSON
    assert note.reference == "" and note.escalation_pk is None  # rule 7: not theirs to open
    sign_in(client, world.pdg_member)
    page = client.get("/reports/learning/")
    text = page.content.decode()
    assert page.status_code == 200 and LESSON.split(";")[0] in text and "Neglect" in text
    assert e.reference not in text and "Mark fit to publish" not in text  # a member does not publish
    note_id = Learning.objects.get().pk
    assert client.post(f"/reports/learning/{note_id}/publish/").status_code == 403
    with pytest.raises(NotAllowed):
        learning_publish(actor=world.pdg_member, partnership=world.partnership, learning_id=note_id)
    # Not yet fit to publish: not in the annual report.
    year = clock.today().year if clock.today().month >= 4 else clock.today().year - 1
    assert annual_tables(world.partnership, year)["published_learning"] == []
    client.logout()
    sign_in(client, world.pdg_chair)
    assert "Mark fit to publish" in client.get("/reports/learning/").content.decode()
    assert client.post(f"/reports/learning/{note_id}/publish/").status_code == 302
    assert AuditEvent.objects.filter(verb=Verb.LEARNING_PUBLISHED, actor=world.pdg_chair).count() == 1
    with pytest.raises(IllegalTransition):
        learning_publish(actor=world.pdg_chair, partnership=world.partnership, learning_id=note_id)
    published = annual_tables(world.partnership, year)["published_learning"]
    assert published[0].areas[0][1][0].text == LESSON
    annual = client.get("/reports/annual/", {"year": year}).content.decode()
    assert LESSON.split(";")[0] in annual and e.reference not in annual
    for outsider in (world.practitioner_health, world.executive):
        client.logout()
        sign_in(client, outsider)
        assert client.get("/reports/learning/").status_code == 403


def test_another_partnerships_chair_cannot_publish(world, neighbour):
    e = world.at_stage_2()
    resolve(world, e)
    with pytest.raises(NotFound):
        learning_publish(
            actor=neighbour.pdg_chair,
            partnership=neighbour.partnership,
            learning_id=Learning.objects.get().pk,
        )


def test_the_page_and_the_api_refuse_learning_naming_the_child(client, world):
    e = world.at_stage_2()
    sign_in(client, world.manager_social)
    refused = client.post(
        f"/escalations/{e.pk}/resolve/",
        {
            "version": e.version,
            "outcome": "agreed_way_forward",
            "agreed_way_forward": "A joint visit.",
            "child_centred_outcome_achieved": "yes",
            "learning": "Zebedee Quartermaine needed a plan sooner.",
        },
    )
    assert refused.status_code == 200 and "must not identify the child" in refused.content.decode()
    api = Api(client, world.practitioner_health)
    other = world.raised()
    answer = api.post(
        f"/escalations/{other.pk}/withdraw", {"reason": "Settled", "learning": "born 4 May 2019"}
    )
    assert answer.status_code in (400, 422) and "date of birth" in answer.content.decode()
    done = api.post(
        f"/escalations/{other.pk}/withdraw", {"reason": "Settled", "learning": "Ask the school first."}
    )
    assert done.status_code == 200
    assert Learning.objects.get().text == "Ask the school first."


def test_the_api_reads_the_learning_and_the_chair_publishes(client, world):
    e = world.at_stage_2()
    resolve(world, e)
    note = Learning.objects.get()
    member = Api(client, world.pdg_member).get("/reports/learning")
    assert member.status_code == 200
    assert (
        member.json()[0]["theme"] == "Neglect"
        and member.json()[0]["areas"][0]["learning"][0]["text"] == LESSON
    )
    assert Api(client, world.practitioner_health).get("/reports/learning").status_code == 403
    assert Api(client, world.pdg_member).post(f"/learning/{note.pk}/publish", {}).status_code == 403
    chair = Api(client, world.pdg_chair)
    assert chair.post(f"/learning/{note.pk}/publish", {}).status_code == 200
    assert chair.post(f"/learning/{note.pk}/publish", {}).status_code == 409
    assert chair.post("/learning/999999/publish", {}).status_code == 404


def test_the_learning_page_costs_the_same_however_much_there_is(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def write(n):
        for _ in range(n):
            e = world.consulted(world.raised())
            services.escalation_resolve(
                actor=world.manager_health,
                escalation=e,
                outcome="agreed_way_forward",
                agreed_way_forward="w",
                child_centred_outcome_achieved="yes",
                learning=LESSON,
            )

    sign_in(client, world.pdg_chair)

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/reports/learning/").status_code == 200
        return len(ctx)

    write(1)
    few = cost()
    write(4)
    assert cost() == few
