"""Taking part without an account: a professional named by work email at one of the agency's
domains answers through an emailed link and a one-time code, as a guest of that escalation
alone; until they confirm it is theirs the children stay hidden; every step is audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.core.exceptions import ValidationError

from accord.audit.models import AuditEvent, Verb
from accord.core import clock
from accord.core.errors import NotAllowed
from accord.escalations import services
from accord.escalations.models import Escalation, EventType, Guest, GuestEnd, GuestState
from accord.escalations.policies import sees_children
from accord.escalations.services import guests as g
from accord.notifications.models import Notification
from accord.partnership.models import PartnershipAgency, Role
from accord.partnership.protocol import install_ladder, preset, preset_names
from accord.partnership.services.people import PersonDetails, person_save

pytestmark = pytest.mark.django_db

GP = "dr.green@nhs.net"


def with_domains(world, agency=None, domains="nhs.net"):
    link = PartnershipAgency.objects.get(partnership=world.partnership, agency=agency or world.social)
    link.work_email_domains = domains
    link.save()


def raised_with_guest(world, capture, email=GP, **overrides):
    with_domains(world)
    with capture(execute=True):
        e = world.raised(with_practitioner_username="", with_practitioner_email=email, **overrides)
    return e, Guest.objects.get(escalation=e)


def link_token(message) -> str:
    return re.search(r"/guest/([A-Za-z0-9_-]+)/", message.body).group(1)


def signed_in(guest, capture) -> str:
    with capture(execute=True):
        g.guest_send_code(guest)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    return g.guest_check_code(guest, code)


def confirmed(world, capture, **overrides):
    e, guest = raised_with_guest(world, capture, **overrides)
    signed_in(guest, capture)
    g.guest_confirm(guest=guest, name="Gill Green")
    guest.refresh_from_db()
    return e, guest


def verbs(escalation) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(escalation.pk), verb__startswith="guest.").values_list(
            "verb", flat=True
        )
    )


# --------------------------------------------------------------------------- naming


def test_an_address_outside_the_agencys_domains_is_refused_in_plain_words(world):
    with pytest.raises(ValidationError) as refused:
        world.raised(with_practitioner_username="", with_practitioner_email=GP)
    assert "has no work email domains in Accord" in str(refused.value)
    with_domains(world, domains="devon.gov.uk\nnhs.net")
    with pytest.raises(ValidationError) as refused:
        world.raised(with_practitioner_username="", with_practitioner_email="someone@gmail.com")
    assert "it must end in @devon.gov.uk or @nhs.net" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        world.raised(with_practitioner_email=GP)  # and the practitioner from the list too
    assert "not both" in str(refused.value)
    assert not Guest.objects.exists()


def test_named_by_email_the_guest_is_emailed_a_link_without_the_childs_details(
    world, django_capture_on_commit_callbacks
):
    e, guest = raised_with_guest(world, django_capture_on_commit_callbacks, email="Dr.Green@NHS.net")
    assert guest.email == GP and guest.state == GuestState.NAMED and guest.agency == world.social
    assert e.with_practitioner_id is None
    [message] = mail.outbox
    assert message.to == [GP]
    assert "Zebedee" not in message.body and "ZQ-778812" not in message.body and "2019" not in message.body
    token = link_token(message)
    assert token not in guest.link_hash and guest.link_hash == g.link_digest(token)
    account = guest.account
    assert (
        not account.is_active and not account.has_usable_password() and not account.role_assignments.exists()
    )
    assert verbs(e) == [Verb.GUEST_NAMED]


def test_someone_with_an_account_is_named_as_themselves_and_signs_in_as_usual(world):
    with_domains(world)
    world.practitioner_social.email = "pat.social@nhs.net"
    world.practitioner_social.save()
    e = world.raised(with_practitioner_username="", with_practitioner_email="PAT.social@nhs.net")
    assert e.with_practitioner == world.practitioner_social
    assert not Guest.objects.exists()


def test_another_agency_may_be_named_by_email_too(world, django_capture_on_commit_callbacks):
    with_domains(world, world.other, "justice.gov.uk")
    with django_capture_on_commit_callbacks(execute=True):
        e = world.raised(
            other_parties=[services.PartyDetails(world.other.pk, practitioner_email="po@justice.gov.uk")]
        )
    guest = Guest.objects.get(escalation=e)
    assert guest.agency == world.other and e.others()[0].practitioner_id is None
    with pytest.raises(ValidationError) as refused:
        world.raised(other_parties=[services.PartyDetails(world.other.pk, practitioner_email=GP)])
    assert "@justice.gov.uk" in str(refused.value)


def test_the_domains_are_each_partnerships_own_for_an_agency_they_share(world, neighbour):
    """The health trust works in both: its domains kept by one business unit name no one in
    the other's escalations."""
    with_domains(world, world.health, "health.nhs.uk")
    assert g.email_refusal(world.partnership, world.health, "a@health.nhs.uk") is None
    assert "has no work email domains" in g.email_refusal(
        neighbour.partnership, world.health, "a@health.nhs.uk"
    )


def test_someone_in_accord_only_in_a_neighbouring_partnership_answers_here_as_a_guest(
    world, neighbour, django_capture_on_commit_callbacks
):
    """Of the trust the two share, but with no role in this partnership: named as themselves
    they could never see it (and a name from the list refuses them), so they are a guest here."""
    elsewhere = neighbour.practitioner_health
    elsewhere.email = "lauren.jarvis@health.nhs.uk"
    elsewhere.save()
    with_domains(world, world.health, "health.nhs.uk")
    with django_capture_on_commit_callbacks(execute=True):
        e = world.raised(
            raiser=world.practitioner_social,
            with_agency=world.health,
            with_practitioner_username="",
            with_practitioner_email="Lauren.Jarvis@health.nhs.uk",
        )
    assert e.with_practitioner is None
    guest = Guest.objects.get(escalation=e)
    assert guest.account != elsewhere and not guest.account.is_active
    assert mail.outbox[-1].to == ["lauren.jarvis@health.nhs.uk"] and "/guest/" in mail.outbox[-1].body
    assert g.guest_has_account(guest) is None  # not sent to sign in where they would see nothing
    signed_in(guest, django_capture_on_commit_callbacks)
    g.guest_confirm(guest=guest, name="Lauren Jarvis")
    assert guest.account.has_perm("escalations.view", Escalation.objects.get(pk=e.pk))
    assert not elsewhere.has_perm("escalations.view", e)


def test_a_guests_account_is_one_agencys_in_one_partnership(
    world, neighbour, django_capture_on_commit_callbacks
):
    """An address at a domain two agencies keep (nhs.net) acts for the agency it was named for
    on each escalation, and a partnership's business unit making its guest a person changes
    nothing of another partnership's."""
    with_domains(world, world.social)
    with_domains(world, world.other)
    with_domains(world, world.health)
    with_domains(neighbour, neighbour.social)
    with django_capture_on_commit_callbacks(execute=True):
        for_social = world.raised(with_practitioner_username="", with_practitioner_email=GP)
        for_probation = world.raised(
            with_agency=world.other, with_practitioner_username="", with_practitioner_email=GP
        )
        again_social = world.raised(with_practitioner_username="", with_practitioner_email=GP)
        next_door = neighbour.raised(with_practitioner_username="", with_practitioner_email=GP)
    social, probation, again, there = (
        Guest.objects.get(escalation=e) for e in (for_social, for_probation, again_social, next_door)
    )
    assert again.account == social.account  # one agency's history together
    assert probation.account != social.account and probation.account.agency == world.other
    assert social.account.agency == world.social
    assert there.account not in (social.account, probation.account)
    assert there.account.home_partnership_id == neighbour.partnership.pk
    # Made a person in the neighbouring partnership: this partnership's guest goes on as one.
    account = there.account
    person_save(
        actor=neighbour.admin,
        partnership=neighbour.partnership,
        person=account,
        details=PersonDetails(
            first_name="Gill", last_name="Green", email=GP, agency=neighbour.social, roles=[Role.PRACTITIONER]
        ),
    )
    account.refresh_from_db()
    assert g.guests_made_person(
        actor=neighbour.admin, account=account, partnership=neighbour.partnership
    ) == [next_door.pk]
    for guest in (social, probation, again):
        guest.refresh_from_db()
        assert guest.state == GuestState.NAMED and g.guest_has_account(guest) is None
    for_social.refresh_from_db()
    assert for_social.with_practitioner is None


def test_the_business_unit_keeps_the_domains_and_refuses_what_is_not_one(world):
    kept = g.agency_email_domains_set(
        actor=world.admin,
        partnership=world.partnership,
        agency=world.social,
        domains="@NHS.net\n devon.gov.uk\n",
    )
    assert kept == ["nhs.net", "devon.gov.uk"]
    event = AuditEvent.objects.filter(verb=Verb.AGENCY_EMAIL_DOMAINS_CHANGED).get()
    assert event.payload == {"agency": world.social.pk, "domains": ["nhs.net", "devon.gov.uk"]}
    for wrong, words in [("gmail.com", "personal email service"), ("not a domain", "is not a domain")]:
        with pytest.raises(ValidationError, match=words):
            g.agency_email_domains_set(
                actor=world.admin, partnership=world.partnership, agency=world.social, domains=wrong
            )
    with pytest.raises(NotAllowed):
        g.agency_email_domains_set(
            actor=world.practitioner_health,
            partnership=world.partnership,
            agency=world.social,
            domains="x.org",
        )


# --------------------------------------------------------------------------- the link and the code


def test_opening_the_link_uses_nothing_up_and_sends_nothing(world, django_capture_on_commit_callbacks):
    e, guest = raised_with_guest(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            g.guest_link_opened(g.guest_by_link(link_token(mail.outbox[0])))
    assert len(mail.outbox) == 1
    guest.refresh_from_db()
    assert guest.codes_sent == 0 and not guest.code_hash and guest.state == GuestState.NAMED
    assert verbs(e).count(Verb.GUEST_LINK_OPENED) == 3


def test_the_code_lasts_ten_minutes_and_five_tries_and_is_kept_only_as_a_hash(
    world, django_capture_on_commit_callbacks
):
    e, guest = raised_with_guest(world, django_capture_on_commit_callbacks)
    start = clock.now()
    with clock.set_to(start), django_capture_on_commit_callbacks(execute=True):
        g.guest_send_code(guest)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert "Zebedee" not in mail.outbox[-1].body
    guest.refresh_from_db()
    assert code not in str(Guest.objects.filter(pk=guest.pk).values().get())
    wrong = "000000" if code != "000000" else "111111"
    with clock.set_to(start + dt.timedelta(minutes=11)), pytest.raises(g.CodeRefused, match="expired"):
        g.guest_check_code(guest, code)
    with clock.set_to(start), django_capture_on_commit_callbacks(execute=True):
        g.guest_send_code(guest)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    for left in (4, 3, 2, 1):
        with (
            clock.set_to(start),
            pytest.raises(g.CodeRefused, match=f"{left} more {'try' if left == 1 else 'tries'}"),
        ):
            g.guest_check_code(guest, wrong)
    with clock.set_to(start), pytest.raises(g.CodeRefused, match="cannot be tried again"):
        g.guest_check_code(guest, wrong)
    with clock.set_to(start), pytest.raises(g.CodeRefused, match="tried 5 times"):
        g.guest_check_code(guest, code)  # the right code, too late
    assert verbs(e).count(Verb.GUEST_CODE_REFUSED) == 7
    # Pasted with spaces, a fresh code signs them in.
    with clock.set_to(start), django_capture_on_commit_callbacks(execute=True):
        g.guest_send_code(guest)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    with clock.set_to(start):
        secret = g.guest_check_code(guest, f" {code[:3]} {code[3:]} ")
        assert g.guest_from_session(guest.pk, secret).pk == guest.pk
        with pytest.raises(g.CodeRefused, match="Ask for a code first"):
            g.guest_check_code(guest, code)  # used once, it is spent
    # Full-width digits (an East Asian keyboard) are the same digits.
    with clock.set_to(start), django_capture_on_commit_callbacks(execute=True):
        g.guest_send_code(guest)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    with clock.set_to(start):
        g.guest_check_code(guest, "".join(chr(0xFF10 + int(d)) for d in code))
    assert g.guest_from_session(guest.pk, "not-the-secret") is None
    with clock.set_to(start + dt.timedelta(minutes=31)):
        assert g.guest_from_session(guest.pk, secret) is None  # 30 idle minutes
    assert Verb.GUEST_SIGNED_IN in verbs(e)


def test_codes_are_rate_limited(world, django_capture_on_commit_callbacks):
    _e, guest = raised_with_guest(world, django_capture_on_commit_callbacks)
    start = clock.now()
    with clock.set_to(start), django_capture_on_commit_callbacks(execute=True):
        for _ in range(g.CODES_PER_HOUR):
            g.guest_send_code(guest)
        with pytest.raises(g.CodeRefused, match="wait an hour"):
            g.guest_send_code(guest)
    assert len(mail.outbox) == 1 + g.CODES_PER_HOUR
    with clock.set_to(start + dt.timedelta(minutes=61)), django_capture_on_commit_callbacks(execute=True):
        g.guest_send_code(guest)
    assert len(mail.outbox) == 2 + g.CODES_PER_HOUR


# --------------------------------------------------------------------------- confirming, and acting


@pytest.mark.parametrize("ladder", preset_names())
def test_until_confirmed_nothing_then_a_party_of_that_escalation_alone(
    world, django_capture_on_commit_callbacks, ladder
):
    install_ladder(world.partnership, preset(ladder))
    other = world.raised()
    e, guest = raised_with_guest(world, django_capture_on_commit_callbacks)
    signed_in(guest, django_capture_on_commit_callbacks)
    account = guest.account
    assert not account.has_perm("escalations.view", e) and not sees_children(account, e)
    g.guest_confirm(guest=guest, name="Gill Green")
    e = Escalation.objects.get(pk=e.pk)
    assert account.has_perm("escalations.view", e) and sees_children(account, e)
    assert account.has_perm("escalations.record_discussion", e)
    assert not account.has_perm("escalations.change_parties", e)  # a guest names no other guest
    assert not account.has_perm("escalations.view", other)
    assert not Escalation.objects.visible_to(account).exists()  # no list, however asked
    services.escalation_record_discussion(
        actor=account, escalation=e, held_on=clock.today(), note="Seen at surgery on Monday.", agreed=True
    )
    event = e.events.get(type=EventType.DISCUSSION)
    assert event.actor == account and str(event.actor) == "Gill Green"
    assert Notification.objects.filter(
        recipient=world.practitioner_health, about=f"escalation:{e.pk}"
    ).exists()
    assert AuditEvent.objects.filter(verb=Verb.DISCUSSION_RECORDED, actor=account).exists()


def test_documents_from_a_guest_only_where_a_scanner_is_configured(
    world, django_capture_on_commit_callbacks, settings
):
    e, guest = confirmed(world, django_capture_on_commit_callbacks)
    settings.CLAMAV_SOCKET, settings.CLAMAV_HOST = "", ""
    assert not guest.account.has_perm("escalations.add_document", e)
    assert world.practitioner_health.has_perm("escalations.add_document", e)
    settings.CLAMAV_HOST, settings.CLAMAV_PORT = "scanner.invalid", 3310
    assert guest.account.has_perm("escalations.add_document", Escalation.objects.get(pk=e.pk))


def test_not_for_me_ends_access_at_once_and_tells_the_raiser(world, django_capture_on_commit_callbacks):
    e, guest = raised_with_guest(world, django_capture_on_commit_callbacks)
    secret = signed_in(guest, django_capture_on_commit_callbacks)
    g.guest_decline(guest=guest)
    guest.refresh_from_db()
    assert guest.state == GuestState.DECLINED and g.guest_from_session(guest.pk, secret) is None
    told = Notification.objects.get(recipient=world.practitioner_health, kind=g.GuestNotice.GUEST_DECLINED)
    assert told.about == f"escalation:{e.pk}"
    with pytest.raises(NotAllowed):
        g.guest_confirm(guest=guest, name="Too late")
    # The raiser corrects the address.
    with django_capture_on_commit_callbacks(execute=True):
        again = g.guest_name(
            actor=world.practitioner_health, escalation=e, agency_id=world.social.pk, email="right@nhs.net"
        )
    assert again.state == GuestState.NAMED and mail.outbox[-1].to == ["right@nhs.net"]
    assert Verb.GUEST_DECLINED in verbs(e)


def test_a_guest_cannot_name_another_guest(world, django_capture_on_commit_callbacks):
    e, guest = confirmed(world, django_capture_on_commit_callbacks)
    with pytest.raises(NotAllowed):
        g.guest_name(actor=guest.account, escalation=e, agency_id=world.social.pk, email="other@nhs.net")


# --------------------------------------------------------------------------- the end of access


def test_access_ends_when_the_escalation_closes(world, django_capture_on_commit_callbacks):
    e, guest = confirmed(world, django_capture_on_commit_callbacks)
    services.escalation_withdraw(actor=world.practitioner_health, escalation=e, reason="Settled informally.")
    e.refresh_from_db()
    assert not guest.account.has_perm("escalations.view", e)
    assert g.access_ended(guest)
    guest.refresh_from_db()
    assert guest.state == GuestState.ENDED and guest.end_reason == GuestEnd.CLOSED


def test_access_ends_after_the_partnerships_days_without_use(world, django_capture_on_commit_callbacks):
    _e, guest = confirmed(world, django_capture_on_commit_callbacks)
    world.partnership.guest_idle_days = 14
    world.partnership.save()
    guest = Guest.objects.select_related("escalation__partnership").get(pk=guest.pk)
    with clock.set_to(clock.now() + dt.timedelta(days=13)):
        assert not g.access_ended(guest)
    with clock.set_to(clock.now() + dt.timedelta(days=15)):
        assert g.access_ended(guest)
    guest.refresh_from_db()
    assert guest.end_reason == GuestEnd.IDLE


def test_the_raisers_manager_or_the_business_unit_removes_a_guest(world, django_capture_on_commit_callbacks):
    e, guest = confirmed(world, django_capture_on_commit_callbacks)
    for refused in (
        world.practitioner_social,
        world.manager_social,
        world.practitioner_health,
        guest.account,
    ):
        with pytest.raises(NotAllowed):
            g.guest_remove(actor=refused, guest=guest)
    g.guest_remove(actor=world.manager_health, guest=guest)
    guest.refresh_from_db()
    assert guest.state == GuestState.ENDED and guest.ended_by == world.manager_health
    assert not guest.account.has_perm("escalations.view", Escalation.objects.get(pk=e.pk))
    _e2, second = raised_with_guest(world, django_capture_on_commit_callbacks, email="second@nhs.net")
    g.guest_remove(actor=world.admin, guest=second)
    assert AuditEvent.objects.filter(verb=Verb.GUEST_ACCESS_ENDED, actor=world.admin).exists()


def test_a_guest_made_a_person_keeps_their_history_and_is_named_as_themselves(
    world, django_capture_on_commit_callbacks
):
    e, guest = confirmed(world, django_capture_on_commit_callbacks)
    services.escalation_record_discussion(
        actor=guest.account, escalation=e, held_on=clock.today(), note="Seen at surgery."
    )
    account = guest.account
    person_save(
        actor=world.admin,
        partnership=world.partnership,
        person=account,
        details=PersonDetails(
            first_name="Gill", last_name="Green", email=GP, agency=world.social, roles=[Role.PRACTITIONER]
        ),
    )
    account.refresh_from_db()
    assert g.guests_made_person(actor=world.admin, account=account, partnership=world.partnership) == [e.pk]
    e.refresh_from_db()
    assert e.with_practitioner == account and account.is_active
    person = type(account).objects.get(pk=account.pk)  # (read afresh, as the next request does)
    assert Escalation.objects.visible_to(person).filter(pk=e.pk).exists()
    assert e.discussions.get().recorded_by == account
    guest.refresh_from_db()
    assert guest.end_reason == GuestEnd.MADE_PERSON


def test_the_guest_account_cannot_sign_in(world, django_capture_on_commit_callbacks):
    """Never active: no back end signs it in, even were a password set on it."""
    _e, guest = confirmed(world, django_capture_on_commit_callbacks)
    account = guest.account
    account.set_password("a-password-nobody-knows")
    account.save()
    assert authenticate(username=account.username, password="a-password-nobody-knows") is None


def test_each_later_step_is_emailed_to_the_guest_with_a_fresh_link(world, django_capture_on_commit_callbacks):
    e, guest = confirmed(world, django_capture_on_commit_callbacks)
    first = link_token(mail.outbox[0])
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_record_discussion(
            actor=world.practitioner_health, escalation=e, held_on=clock.today(), note="Zebedee seen at home."
        )
    news = mail.outbox[sent:]
    assert [m.to for m in news] == [[GP]]
    assert "discussion recorded" in news[0].body and "Zebedee" not in news[0].body
    fresh = link_token(news[0])
    assert g.guest_by_link(fresh).pk == guest.pk and g.guest_by_link(first) is None
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_record_discussion(
            actor=guest.account, escalation=e, held_on=clock.today(), note="Agreed to refer."
        )
    assert not [m for m in mail.outbox[sent:] if m.to == [GP]]  # not told of their own step


# --------------------------------------------------------------------------- the reports


def test_reports_count_an_agency_whose_people_take_part_only_as_guests(world):
    """A GP practice with nobody in Accord, raised with through guests: counted as receiving,
    in the agency matrix, and flagged by the silence signal when it falls quiet (rule 9)."""
    from accord.partnership.models import AgencyKind
    from accord.reports.selectors import Period, pdg_figures
    from accord.testing.factories import AgencyFactory

    practice = AgencyFactory(
        name="Moorside GP Practice", kind=AgencyKind.HEALTH_PROVIDER, partnerships=[world.partnership]
    )
    with_domains(world, practice)
    period = Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    for n in range(1, 5):
        earlier = period.previous(n)
        for day in range(4):
            d = earlier.start + dt.timedelta(days=1 + day)
            world.raised(
                at=dt.datetime(d.year, d.month, d.day, 10, tzinfo=dt.UTC),
                with_agency=practice,
                with_practitioner_email=f"gp{n}{day}@nhs.net",
            )
    assert Guest.objects.filter(agency=practice).count() == 16
    assert not practice.people.filter(is_active=True).exists()
    before = pdg_figures(world.partnership, period.previous(1))
    assert before.by_receiving_agency[practice.name] == 4
    assert before.matrix[(world.health.name, practice.name)] == 4
    now = pdg_figures(world.partnership, period)
    flagged = {(s.agency, s.direction): s for s in now.low_challenge}
    assert flagged[(practice.name, "received")].expected == 4.0


def test_codes_are_limited_a_day_too(world, django_capture_on_commit_callbacks):
    """Five an hour, and ten a day: with only a link, at most fifty guesses a day."""
    e, guest = raised_with_guest(world, django_capture_on_commit_callbacks)
    start = clock.now()
    for hour in (0, 1):
        with (
            clock.set_to(start + dt.timedelta(minutes=61 * hour)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            for _ in range(g.CODES_PER_HOUR):
                g.guest_send_code(guest)
    with clock.set_to(start + dt.timedelta(minutes=123)), pytest.raises(g.CodeRefused, match="last day"):
        g.guest_send_code(guest)
    # Said not for them and named again, the address starts no new count.
    g.guest_decline(guest=guest)
    with django_capture_on_commit_callbacks(execute=True):
        again = g.guest_name(
            actor=world.practitioner_health, escalation=e, agency_id=world.social.pk, email=GP
        )
    with clock.set_to(start + dt.timedelta(minutes=185)), pytest.raises(g.CodeRefused, match="last day"):
        g.guest_send_code(again)
    with clock.set_to(start + dt.timedelta(hours=25)), django_capture_on_commit_callbacks(execute=True):
        g.guest_send_code(again)
    assert len([m for m in mail.outbox if "one-time code" in m.subject]) == 2 * g.CODES_PER_HOUR + 1
