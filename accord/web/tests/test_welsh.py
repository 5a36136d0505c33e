"""Accord in Welsh: the language switch, each person's language and where it is used (their
pages, emails and PDFs), a board's own texts in both languages, the API's problems by
Accept-Language, and the report of time to resolution by the language raised in."""

import datetime as dt
import html
import io

import pytest
from django.core import mail
from django.test import TestCase
from django.utils import timezone, translation
from pypdf import PdfReader

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import NotAllowed
from accord.escalations import services
from accord.escalations.models import Escalation, Outcome
from accord.escalations.protocol import partnership_create
from accord.notifications.models import Notification, kind_codes
from accord.notifications.services import deliver_pending, render_email
from accord.partnership.models import Language, Role, RoleAssignment, Stage, languages_for
from accord.partnership.protocol import ladder_of, preset
from accord.partnership.services.people import person_language_set
from accord.reports.disclosure import is_hidden
from accord.reports.languages import resolution_by_language
from accord.reports.selectors import Period
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def at(m, d, h=10):
    return timezone.make_aware(dt.datetime(2026, m, d, h))


# ------------------------------------------------------------------ the switch and the pages


def test_the_header_switches_to_welsh_and_saves_the_persons_language(client, world):
    sign_in(client, world.practitioner_health)
    page = client.get("/").content.decode()
    assert '<html lang="en-GB"' in page
    # The language in use is text; the other a link, in its own language, with hreflang.
    assert '<span aria-current="true" lang="en-GB">English</span>' in page
    assert 'hreflang="cy" lang="cy"' in page and "/language/cy/?next=/" in page

    response = client.get("/language/cy/", {"next": "/escalations/"})
    assert response.status_code == 302 and response["Location"] == "/escalations/"
    assert response.cookies["accord_language"].value == "cy"
    world.practitioner_health.refresh_from_db()
    assert world.practitioner_health.language == Language.WELSH
    assert AuditEvent.objects.filter(
        verb=Verb.PERSON_DETAILS_CHANGED,
        actor=world.practitioner_health,
        payload__fields=["language"],
    ).exists()

    client.cookies.pop("accord_language")  # their own language holds without the cookie
    page = html.unescape(client.get("/").content.decode())
    assert '<html lang="cy"' in page
    assert "Neidio i'r prif gynnwys" in page  # GOV.UK's skip link, in Welsh
    assert '<span aria-current="true" lang="cy">Cymraeg</span>' in page
    assert 'hreflang="en-GB" lang="en-GB"' in page


def test_the_switch_works_before_signing_in_and_goes_back_only_to_accord(client):
    response = client.get("/language/cy/", {"next": "https://elsewhere.example/"})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/login/").content.decode()
    assert '<html lang="cy"' in page and "Mewngofnodi" in page
    assert client.get("/language/fr/").status_code == 404


def test_another_site_cannot_change_a_signed_in_persons_language(client, world):
    # The switch is a link (a GET), so another site could send someone to it: their own
    # language, which their emails follow, is saved only when the link is Accord's own.
    sign_in(client, world.practitioner_health)
    before = AuditEvent.objects.count()
    for site in ("cross-site", "same-site"):
        response = client.get("/language/cy/", {"next": "/"}, HTTP_SEC_FETCH_SITE=site)
        assert response.status_code == 302
    response = client.get("/language/cy/", HTTP_REFERER="https://elsewhere.example/page")
    assert response.status_code == 302
    world.practitioner_health.refresh_from_db()
    assert world.practitioner_health.language == ""
    assert AuditEvent.objects.count() == before
    client.get("/language/cy/", HTTP_SEC_FETCH_SITE="same-origin")
    world.practitioner_health.refresh_from_db()
    assert world.practitioner_health.language == Language.WELSH


def test_the_browser_language_is_used_before_anyone_chooses(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="cy").content.decode()
    assert '<html lang="cy"' in page


def test_a_person_chooses_their_language_in_their_own_settings(client, world):
    sign_in(client, world.practitioner_social)
    response = client.post("/notifications/", {"frequency": "immediate", "language": "cy"})
    assert response.status_code == 302
    world.practitioner_social.refresh_from_db()
    assert world.practitioner_social.language == Language.WELSH


def test_the_business_unit_records_a_new_persons_language_and_not_a_shared_persons(world, other_world):
    with pytest.raises(NotAllowed):  # someone else's language is the business unit's only
        person_language_set(actor=world.practitioner_social, person=world.practitioner_health, language="cy")
    assert person_language_set(
        actor=world.admin, partnership=world.partnership, person=world.practitioner_health, language="cy"
    )
    # Someone who also works in another partnership: theirs, like their name.
    RoleAssignment.objects.create(
        user=world.practitioner_social, partnership=other_world.partnership, role=Role.PRACTITIONER
    )
    with pytest.raises(NotAllowed):
        person_language_set(
            actor=world.admin, partnership=world.partnership, person=world.practitioner_social, language="cy"
        )
    assert person_language_set(
        actor=world.practitioner_social, person=world.practitioner_social, language="cy"
    )
    with pytest.raises(Exception, match="English or Welsh"):
        person_language_set(actor=world.practitioner_social, person=world.practitioner_social, language="fr")


# ------------------------------------------------------------------ emails and PDFs


def _told(world, person):
    e = world.raised()
    return e, Notification.objects.select_related("partnership", "recipient").get(
        recipient=person, about=f"escalation:{e.pk}"
    )


def test_a_welsh_speakers_notice_comes_in_welsh(world):
    world.practitioner_social.language = Language.WELSH
    world.practitioner_social.save()
    e, notice = _told(world, world.practitioner_social)
    subject, body = render_email(notice)
    assert e.reference in subject
    assert "Mewngofnodwch i Accord i'w weld:" in body
    assert "Nid yw'r e-bost hwn yn cynnwys unrhyw fanylion" in body
    assert "Sign in to Accord" not in body and "does not contain" not in body
    with TestCase.captureOnCommitCallbacks(execute=True):
        deliver_pending()
    sent = next(m for m in mail.outbox if m.to == [world.practitioner_social.email])
    assert "Mewngofnodwch" in sent.body


def test_an_emails_subject_is_plain_text_in_either_language(world):
    # A subject is not HTML: "i'r" stays "i'r" (most Welsh subjects have an apostrophe).
    _e, notice = _told(world, world.practitioner_social)
    subjects = []
    for language in (Language.WELSH, Language.ENGLISH):
        notice.recipient.language = language
        for kind in kind_codes():
            notice.kind = kind
            subjects.append(render_email(notice)[0])
    assert [s for s in subjects if "&#" in s or "&amp;" in s] == []
    assert any("i'r" in s for s in subjects)


def test_someone_whose_language_is_not_known_is_written_to_in_both_where_the_board_works_in_wales(world):
    assert world.practitioner_social.language == ""
    _e, notice = _told(world, world.practitioner_social)
    assert languages_for(world.practitioner_social, world.partnership) == [Language.ENGLISH]
    assert "Mewngofnodwch" not in render_email(notice)[1]

    world.partnership.works_in_wales = True
    world.partnership.save()
    notice.partnership.refresh_from_db()
    subject, body = render_email(notice)
    assert body.index("Mewngofnodwch i Accord") < body.index("Sign in to Accord")  # Welsh first
    assert " / " in subject


def test_a_welsh_speakers_pdf_comes_in_welsh(client, world):
    with clock.set_to(at(11, 2)):
        world.raised()
    world.pdg_chair.language = Language.WELSH
    world.pdg_chair.save()
    sign_in(client, world.pdg_chair)
    period = {
        "start-day": 1,
        "start-month": 10,
        "start-year": 2026,
        "end-day": 1,
        "end-month": 12,
        "end-year": 2026,
    }
    response = client.get("/reports/pdg.pdf", period)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.trailer["/Root"]["/Lang"] == "cy"
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Amser i ddatrys yn ôl yr iaith" in text
    assert "Time to resolution by the language raised in" not in text


# ------------------------------------------------------------------ the API


def test_the_api_answers_its_problems_in_the_accept_language(client):
    english = client.get("/api/v1/escalations", HTTP_AUTHORIZATION="Bearer nonsense")
    welsh = client.get("/api/v1/escalations", HTTP_AUTHORIZATION="Bearer nonsense", HTTP_ACCEPT_LANGUAGE="cy")
    assert english.status_code == welsh.status_code == 401
    assert english.json()["title"] == "Authentication required"
    assert welsh.json()["title"] not in ("", "Authentication required")
    assert welsh["Content-Language"] == "cy"


# ------------------------------------------------------------------ a board's own texts


def test_a_partnership_made_from_the_welsh_preset_keeps_its_texts_in_both_languages(world):
    made = partnership_create(
        actor=None, name="Bwrdd Prawf", slug="bwrdd-prawf", document=preset("wales")
    ).partnership
    assert made.works_in_wales
    assert made.holiday_subdivision == "ENG"  # England and Wales share their bank holidays
    stages = list(Stage.objects.filter(partnership=made).order_by("number"))
    assert [s.name_cy for s in stages] == [s["name_cy"] for s in preset("wales")["stages"]]
    ladder = ladder_of(made)
    with translation.override("cy"):
        assert made.formal_body_shown == "Bwrdd Diogelu Rhanbarthol"
        assert ladder.stages[0].shown_name == "Ymarferwyr"
        assert str(stages[1]) == "2: Rheolwyr llinell"
    with translation.override("en-gb"):
        assert made.formal_body_shown == "Regional Safeguarding Board"
        assert ladder.stages[0].shown_name == "Practitioners"


def test_the_settings_pages_take_the_welsh_and_the_pages_show_the_one_in_use(client, world):
    sign_in(client, world.admin)
    form = client.get("/business-unit/settings/partnership/").content.decode()
    assert 'name="front_door_name_cy"' in form and 'name="works_in_wales"' in form
    world.partnership.works_in_wales = True
    world.partnership.front_door_name = "children's front door"
    world.partnership.front_door_name_cy = "drws ffrynt plant"
    world.partnership.save()
    area = world.partnership.areas_of_disagreement.first()
    sign_in(client, world.practitioner_health)
    assert "children's front door" in html.unescape(client.get("/").content.decode())
    client.get("/language/cy/")
    page = html.unescape(client.get("/").content.decode())
    assert "drws ffrynt plant" in page and "children's front door" not in page
    area.label_cy = "Lefelau risg"
    area.save()
    with translation.override("cy"):
        assert str(area) == "Lefelau risg"
    with translation.override("en-gb"):
        assert str(area) == area.label


# ------------------------------------------------------------------ no slower in Welsh


def test_each_escalation_records_the_language_it_was_raised_in_and_the_report_compares_them(world):
    with translation.override("cy"):
        welsh = [world.raised(at=at(10, 5 + i)) for i in range(5)]
    english = [world.raised(at=at(10, 5)) for _ in range(2)]
    assert {e.raised_language for e in welsh} == {"cy"} and {e.raised_language for e in english} == {"en-gb"}
    for e in welsh + english:
        with clock.set_to(at(10, 20)):
            services.escalation_resolve(
                actor=world.manager_social,
                escalation=e,
                outcome=Outcome.AGREED_WAY_FORWARD,
                agreed_way_forward="agreed",
                child_centred_outcome_achieved="yes",
            )
    period = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    full = {r.language: r for r in resolution_by_language(world.partnership, period, full=True, threshold=5)}
    assert full["cy"].resolved == 5 and full["en-gb"].resolved == 2
    # 5 to 9 October 2026 (Monday to Friday), each resolved on Tuesday 20 October.
    assert full["en-gb"].median_working_days == 11
    assert full["cy"].median_working_days == 9
    hidden = {
        r.language: r for r in resolution_by_language(world.partnership, period, full=False, threshold=5)
    }
    assert is_hidden(hidden["en-gb"].resolved) and hidden["en-gb"].median_working_days is None
    # (English's small count hidden, Welsh's is withheld too so that it cannot be worked out.)
    assert is_hidden(hidden["cy"].resolved) and hidden["cy"].median_working_days == 9


def test_the_languages_hidden_counts_cannot_be_pinned_by_the_number_resolved(world):
    # The resolutions of the period are counted elsewhere (their outcomes), so the table is
    # protected as if its total were shown: two hidden counts that add up to 2 are both 1,
    # and a third is withheld so that they cannot be worked out.
    with translation.override("cy"):
        welsh = world.raised(at=at(10, 5))
    brought_in = world.raised(at=at(10, 5))
    english = [world.raised(at=at(10, 5)) for _ in range(5)]
    Escalation.objects.filter(pk=brought_in.pk).update(raised_language="")
    for e in [welsh, brought_in, *english]:
        with clock.set_to(at(10, 20)):
            services.escalation_resolve(
                actor=world.manager_social,
                escalation=e,
                outcome=Outcome.AGREED_WAY_FORWARD,
                agreed_way_forward="agreed",
                child_centred_outcome_achieved="yes",
            )
    period = Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    rows = {r.language: r for r in resolution_by_language(world.partnership, period, full=False, threshold=3)}
    assert is_hidden(rows["cy"].resolved) and is_hidden(rows[""].resolved)
    assert is_hidden(rows["en-gb"].resolved)


def test_a_guest_is_written_to_in_both_languages_until_they_choose(world):
    from accord.escalations.services import guests
    from accord.partnership.models import PartnershipAgency

    world.partnership.works_in_wales = True
    world.partnership.save()
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    e = world.raised()
    with TestCase.captureOnCommitCallbacks(execute=True):
        guests.guest_name(
            actor=world.practitioner_health, escalation=e, agency_id=world.social.pk, email="gw@nhs.net"
        )
    sent = next(m for m in mail.outbox if m.to == ["gw@nhs.net"])
    subject = "Accord: a professional difference has been raised with you (%(reference)s)"
    with translation.override("cy"):
        welsh = translation.gettext(subject) % {"reference": e.reference}
    assert welsh != subject % {"reference": e.reference}
    assert sent.subject == f"{welsh} / {subject % {'reference': e.reference}}"  # Welsh first
    assert sent.body.count("/guest/") == 2  # the link in each language


def test_someone_added_in_welsh_is_invited_in_welsh(world):
    from accord.partnership.services.invitations import invite
    from accord.partnership.services.people import PersonDetails, person_add

    person = person_add(
        actor=world.admin,
        partnership=world.partnership,
        details=PersonDetails(
            first_name="Gwen",
            last_name="Morgan",
            email="gwen.morgan@example.org",
            agency=world.health,
            roles=[Role.PRACTITIONER],
            language=Language.WELSH,
        ),
    )
    assert person.language == Language.WELSH
    with TestCase.captureOnCommitCallbacks(execute=True):
        invite(actor=world.admin, person=person, partnership=world.partnership)
    sent = next(m for m in mail.outbox if m.to == ["gwen.morgan@example.org"])
    subject = "Accord: set your password for %(partnership)s"
    with translation.override("cy"):
        welsh = translation.gettext(subject) % {"partnership": world.partnership.name}
    assert sent.subject == welsh != subject % {"partnership": world.partnership.name}
    assert "/account/set-password/" in sent.body


def test_a_privacy_notice_given_only_in_welsh_is_shown_in_either_language(client, world):
    # A board may write its notice in Welsh first: the page shows it rather than nothing.
    from accord.partnership.models import PublicStatement

    PublicStatement.objects.update_or_create(
        partnership=world.partnership,
        defaults={"privacy_notice": "", "privacy_notice_cy": "Hysbysiad y bwrdd."},
    )
    page = client.get("/privacy/", {"partnership": world.partnership.slug}).content.decode()
    assert "Hysbysiad y bwrdd." in page


def test_the_raising_and_escalating_choices_show_the_boards_welsh(world):
    """The priorities, areas and themes offered when raising, and the stages offered when
    escalating and shown as holding it, are the board's own Welsh where it gives one."""
    from accord.escalations.forms import DifferenceForm, EscalateForm
    from accord.escalations.models import Escalation
    from accord.escalations.policies import stage_holding

    document = {
        **preset("wales"),
        "priorities": [
            {"code": "routine", "label": "Routine", "label_cy": "Arferol"},
            {"code": "urgent", "label": "Urgent", "label_cy": "Brys"},
        ],
    }
    made = partnership_create(
        actor=None, name="Bwrdd Dewis", slug="bwrdd-dewis", document=document
    ).partnership
    area = made.areas_of_disagreement.first()
    area.label_cy = "Lefelau risg"
    area.save()
    theme = made.practice_themes.first()
    theme.label_cy = "Esgeulustod"
    theme.save()
    at_stage_1 = Escalation(partnership=made, stage=1)  # (unsaved: all the form reads of it)
    with translation.override("cy"):
        form = DifferenceForm(partnership=made)
        assert ("routine", "Arferol") in form.fields["urgency"].choices
        assert (area.code, "Lefelau risg") in form.fields["areas"].choices
        assert (theme.code, "Esgeulustod") in form.fields["themes"].choices
        holding = stage_holding(ladder_of(made), 2)
        assert (holding.name, holding.formal_body_name) == ("Rheolwyr llinell", "Bwrdd Diogelu Rhanbarthol")
        assert (2, "2: Rheolwyr llinell") in EscalateForm(escalation=at_stage_1).fields["to_stage"].choices
    with translation.override("en-gb"):
        assert ("routine", "Routine") in DifferenceForm(partnership=made).fields["urgency"].choices
        assert stage_holding(ladder_of(made), 2).name == "Line managers"


def test_a_discussion_recorded_in_welsh_is_on_the_timeline_wholly_in_welsh(world):
    e = world.raised()
    with translation.override("cy"):
        services.escalation_record_discussion(
            actor=world.practitioner_health, escalation=e, held_on=dt.date(2026, 12, 7), note="Siaradom."
        )
    entry = e.events.filter(type="discussion").get().summary
    assert entry == "Trafodaeth ar 7 Rhagfyr 2026: Siaradom."


def test_accords_default_areas_themes_and_priorities_come_in_welsh_until_the_board_gives_its_own(world):
    from accord.escalations.forms import DifferenceForm

    made = partnership_create(
        actor=None, name="Bwrdd Rhagosod", slug="bwrdd-rhagosod", document=preset("wales")
    ).partnership
    neglect = made.practice_themes.get(code="neglect")
    own = made.areas_of_disagreement.create(code="own-words", label="Our own words", position=99)
    with translation.override("cy"):
        form = DifferenceForm(partnership=made)
        assert ("neglect", "Esgeulustod") in form.fields["themes"].choices
        assert ("levels-of-risk", "Lefelau risg, angen neu drothwy") in form.fields["areas"].choices
        assert ("own-words", "Our own words") in form.fields["areas"].choices  # no Welsh given
        assert ("urgent", "Brys: ni all diogelwch y plentyn aros wythnos waith") in form.fields[
            "urgency"
        ].choices
        # Check your answers names them in Welsh too.
        from types import SimpleNamespace

        from accord.escalations.views.raising import _answers

        draft = SimpleNamespace(
            with_agency_id=None,
            with_practitioner_username="",
            with_practitioner_email="",
            other_parties=[],
            area_codes=["levels-of-risk"],
            theme_codes=["neglect"],
        )
        shown = _answers(made, draft)
        assert (shown["areas"], shown["themes"]) == (["Lefelau risg, angen neu drothwy"], ["Esgeulustod"])
        neglect.label_cy = "Esgeuluso"
        neglect.save()
        assert str(neglect) == "Esgeuluso"  # the board's own Welsh first
    with translation.override("en-gb"):
        assert str(neglect) == "Neglect" and str(own) == "Our own words"


def test_a_welsh_board_that_has_not_named_its_front_door_in_welsh_shows_the_default_in_welsh(world):
    made = partnership_create(
        actor=None, name="Bwrdd Drws", slug="bwrdd-drws", document=preset("wales")
    ).partnership
    with translation.override("cy"):
        assert made.front_door_name_shown == "drws ffrynt y gwasanaethau plant"
        made.front_door_name = "Porth Diogelu Gwent"  # its own name, given in English only
        assert made.front_door_name_shown == "Porth Diogelu Gwent"
