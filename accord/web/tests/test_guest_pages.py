"""The pages of taking part without an account: the guest's own (a link that no longer works,
someone who has an account, a session that ended, documents through the raiser), the raiser's
manager ending a guest's access, and the business unit's (each agency's work email domains,
its guests by agency, and a guest made one of its people with an invitation)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from accord.audit.models import AuditEvent, PendingRead, Verb
from accord.escalations import services
from accord.escalations.models import Guest, GuestEnd, GuestState
from accord.partnership.models import PartnershipAgency, Role
from accord.partnership.protocol import install_ladder, preset
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
GP = "dr.green@nhs.net"


@pytest.fixture
def named(world, django_capture_on_commit_callbacks):
    """An escalation with a GP named by email, and the link emailed to them."""
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    with django_capture_on_commit_callbacks(execute=True):
        e = world.raised(with_practitioner_username="", with_practitioner_email=GP)
    path = re.search(r"(/guest/[A-Za-z0-9_-]+/)", mail.outbox[-1].body).group(1)
    return e, Guest.objects.get(escalation=e), path


def guest_in(client, path, capture, *, confirm=True) -> None:
    with capture(execute=True):
        assert client.post(path).status_code == 302
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    assert client.post(path + "code/", {"code": code}).status_code == 302
    if confirm:
        assert client.post("/guest/", {"answer": "confirm", "name": "Gill Green"}).status_code == 302


def test_the_link_page_offers_one_button_and_sends_nothing(client, named):
    _e, _guest, path = named
    page = client.get(path)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Email me a code" in text and "Zebedee" not in text
    assert len(mail.outbox) == 1
    assert client.get("/guest/not-a-link/").status_code == 404


def test_a_confirm_without_a_name_is_refused_and_the_children_stay_hidden(
    client, named, django_capture_on_commit_callbacks
):
    _e, guest, path = named
    guest_in(client, path, django_capture_on_commit_callbacks, confirm=False)
    page = client.post("/guest/", {"answer": "confirm", "name": " "})
    text = page.content.decode()
    assert "Enter your name" in text and "Zebedee" not in text
    assert client.post("/guest/", {}).status_code == 200  # nothing chosen: asked again
    guest.refresh_from_db()
    assert guest.state == GuestState.NAMED


def test_documents_come_through_the_raiser_where_no_scanner_is_configured(
    client, named, django_capture_on_commit_callbacks, settings
):
    settings.CLAMAV_SOCKET = settings.CLAMAV_HOST = ""
    e, _guest, path = named
    guest_in(client, path, django_capture_on_commit_callbacks)
    assert "Documents must come through the raiser" in client.get("/guest/").content.decode()
    page = client.post("/guest/documents/", {"description": "notes"})
    assert "Documents come through the raiser" in page.content.decode()
    assert not e.documents.exists()


def test_a_guest_discussion_is_checked_like_anyones(client, named, django_capture_on_commit_callbacks):
    e, _guest, path = named
    guest_in(client, path, django_capture_on_commit_callbacks)
    page = client.post("/guest/discussion/", {"agreed": "yes", "version": e.version})
    assert page.status_code == 200 and "Enter what was discussed" in page.content.decode()
    assert not e.discussions.exists()


def test_a_session_ends_when_access_does_and_the_link_then_says_so(
    client, world, named, django_capture_on_commit_callbacks
):
    e, guest, path = named
    guest_in(client, path, django_capture_on_commit_callbacks)
    manager = Client()
    sign_in(manager, world.manager_health)
    response = manager.post(f"/escalations/{e.pk}/guests/{guest.pk}/remove/")
    assert response.status_code == 302
    guest.refresh_from_db()
    assert guest.end_reason == GuestEnd.REMOVED
    assert client.get("/guest/").status_code == 401
    assert client.get(path).status_code == 410
    raiser = Client()  # (the raiser names; their manager or the business unit removes)
    sign_in(raiser, world.practitioner_health)
    assert raiser.post(f"/escalations/{e.pk}/guests/{guest.pk}/remove/").status_code == 403


def test_someone_with_an_account_is_sent_to_sign_in(client, world, named):
    _e, _guest, path = named
    world.practitioner_social.email = GP
    world.practitioner_social.save()
    page = client.get(path)
    assert "You have an Accord account" in page.content.decode()
    assert client.post(path).status_code == 200  # no code is sent
    assert len(mail.outbox) == 1


def test_the_business_unit_keeps_each_agencys_domains_on_its_page(client, world):
    sign_in(client, world.admin)
    url = f"/business-unit/agencies/{world.other.pk}/email-domains/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"domains": "hotmail.com"})
    assert "personal email service" in refused.content.decode()
    assert client.post(url, {"domains": "justice.gov.uk"}).status_code == 302
    link = PartnershipAgency.objects.get(partnership=world.partnership, agency=world.other)
    assert link.email_domains() == ["justice.gov.uk"]


def test_the_business_unit_sees_its_guests_and_makes_one_a_person_with_an_invitation(
    client, world, named, django_capture_on_commit_callbacks
):
    e, guest, path = named
    guest_client = Client()
    guest_in(guest_client, path, django_capture_on_commit_callbacks)
    sign_in(client, world.admin)
    listing = client.get("/business-unit/guests/").content.decode()
    assert GP in listing and escape(world.social.name) in listing and e.reference in listing
    assert "Zebedee" not in listing
    page = client.get(f"/business-unit/guests/{guest.pk}/person/")
    assert page.status_code == 200
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/business-unit/guests/{guest.pk}/person/", {"first_name": "Gill", "last_name": "Green"}
        )
    assert response.status_code == 302
    account = type(guest.account).objects.get(pk=guest.account_id)
    assert account.is_active and account.invited_at is not None
    assert account.role_assignments.filter(partnership=world.partnership, role=Role.PRACTITIONER).exists()
    assert len(mail.outbox) == sent + 1 and mail.outbox[-1].to == [GP]
    e.refresh_from_db()
    assert e.with_practitioner_id == account.pk
    assert AuditEvent.objects.filter(verb=Verb.GUEST_MADE_PERSON).exists()
    assert guest_client.get("/guest/").status_code == 401  # the guest session ended with it
    other = Client()
    sign_in(other, world.manager_health)
    assert other.get("/business-unit/guests/").status_code == 403


def test_the_partnership_sets_the_days_without_use(client, world):
    sign_in(client, world.admin)
    form = client.get("/business-unit/settings/partnership/").context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data["guest_idle_days"] = 14
    assert client.post("/business-unit/settings/partnership/", data).status_code == 302
    world.partnership.refresh_from_db()
    assert world.partnership.guest_idle_days == 14


def test_the_people_list_still_reads_with_a_guests_account_among_them(client, world, named):
    """A guest's account (no role, never active) is one of the agency's people: the list and
    its page read (decision 0006 says why it is listed)."""
    _e, guest, _path = named
    sign_in(client, world.admin)
    page = client.get("/business-unit/people/", {"agency": world.social.pk})
    assert page.status_code == 200
    assert client.get(f"/business-unit/people/{guest.account_id}/").status_code == 200


# --------------------------------------------------------------------------- another agency's leader


HEAD = "head.of.service@justice.gov.uk"


def at_senior_leaders_stage_with_probation(world):
    """Probation (a manager, no senior leader in Accord) at the senior leaders' stage."""
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.other).update(
        work_email_domains="justice.gov.uk"
    )
    e = world.consulted(world.raised(with_agency=world.other))
    e = services.escalation_escalate(actor=world.practitioner_health, escalation=e, reason="Not settled.")
    return services.escalation_escalate(actor=world.manager_health, escalation=e, reason="Managers differ.")


def test_the_raisers_manager_names_the_agencys_senior_leader_who_then_settles_it(
    client, world, django_capture_on_commit_callbacks
):
    e = at_senior_leaders_stage_with_probation(world)
    # The raiser sees no offer; their manager does.
    sign_in(client, world.practitioner_health)
    assert (
        "Name their senior leaders by work email" not in client.get(f"/escalations/{e.pk}/").content.decode()
    )
    assert client.get(f"/escalations/{e.pk}/guests/leader/").status_code == 403
    sign_in(client, world.manager_health)
    detail = client.get(f"/escalations/{e.pk}/").content.decode()
    assert "Name their senior leaders by work email" in detail and "nobody at" in detail
    page = client.post(
        f"/escalations/{e.pk}/guests/leader/", {"agency": world.other.pk, "email": "head@gmail.com"}
    )
    assert page.status_code == 422 and "@justice.gov.uk" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/escalations/{e.pk}/guests/leader/", {"agency": world.other.pk, "email": HEAD})
    assert done.status_code == 302
    guest = Guest.objects.get(escalation=e, email=HEAD)
    assert guest.tier == "senior_leaders"
    assert "acting as its senior leaders" in client.get(f"/escalations/{e.pk}/").content.decode()
    # The guest, through the same link and code as any.
    path = re.search(r"(/guest/[A-Za-z0-9_-]+/)", next(m for m in mail.outbox if m.to == [HEAD]).body).group(
        1
    )
    head = Client()
    guest_in(head, path, django_capture_on_commit_callbacks)
    home = head.get("/guest/").content.decode()
    assert "as one of its senior leaders" in home
    for link in ("/guest/escalate/", "/guest/pause/", "/guest/resolve/"):
        assert f'href="{link}"' in home and head.get(link).status_code == 200
    assert head.get("/guest/resume/").status_code == 403  # not paused
    e.refresh_from_db()
    assert (
        head.post("/guest/pause/", {"reason": "Strategy meeting first.", "version": e.version}).status_code
        == 302
    )
    e.refresh_from_db()
    assert e.status == "paused"
    assert head.post("/guest/resume/", {"version": e.version}).status_code == 302
    e.refresh_from_db()
    refused = head.post("/guest/resolve/", {"version": e.version, "outcome": ""})
    assert refused.status_code == 200 and "govuk-error-summary" in refused.content.decode()
    resolved = head.post(
        "/guest/resolve/",
        {
            "version": e.version,
            "outcome": "agreed_way_forward",
            "agreed_way_forward": "A joint visit this week.",
            "child_centred_outcome_achieved": "yes",
        },
    )
    assert resolved.status_code == 302, resolved.content.decode()[:3000]
    e.refresh_from_db()
    assert e.status == "resolved" and e.events.filter(type="resolved", actor=guest.account).exists()
    assert head.get(f"/escalations/{e.pk}/").status_code == 404  # still nothing else of Accord
    assert AuditEvent.objects.filter(verb=Verb.GUEST_NAMED, actor=world.manager_health).exists()


def test_the_business_unit_finds_the_openings_on_its_guests_page_and_names_one(
    client, world, django_capture_on_commit_callbacks
):
    e = at_senior_leaders_stage_with_probation(world)
    world.raised()  # (at the practitioners' stage: no opening)
    sign_in(client, world.admin)
    listing = client.get("/business-unit/guests/").content.decode()
    assert e.reference in listing and escape(world.other.name) in listing
    assert escape(e.summary) not in listing
    page = client.get(f"/escalations/{e.pk}/guests/leader/").content.decode()
    assert escape(e.summary) not in page and 'href="/business-unit/guests/"' in page
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/escalations/{e.pk}/guests/leader/", {"agency": world.other.pk, "email": HEAD})
    assert done.status_code == 302 and done["Location"] == "/business-unit/guests/"
    listing = client.get("/business-unit/guests/").content.decode()
    assert "acting as its senior leaders" in listing and 'data-testid="leader-openings"' not in listing


def test_the_openings_are_read_in_the_same_number_of_queries_however_many(client, world):
    at_senior_leaders_stage_with_probation(world)
    sign_in(client, world.admin)
    with CaptureQueriesContext(connection) as one:
        client.get("/business-unit/guests/")
    at_senior_leaders_stage_with_probation(world)
    at_senior_leaders_stage_with_probation(world)
    with CaptureQueriesContext(connection) as three:
        page = client.get("/business-unit/guests/")
    assert page.content.decode().count("Name one by work email") == 3
    assert len(three) == len(one)


def test_the_professional_holds_stage_one_as_a_named_practitioner_does(
    client, world, named, django_capture_on_commit_callbacks
):
    """At the practitioners' stage the guest may leave it (the raiser's manager consulted),
    sees the stage by its name, reads the evidence, and the parties see what a guest wrote
    marked as a guest's."""
    e, guest, path = named
    guest_in(client, path, django_capture_on_commit_callbacks)
    services.escalation_add_document(
        actor=world.practitioner_health, escalation=e, upload=SimpleUploadedFile("visit.txt", b"notes")
    )
    home = client.get("/guest/").content.decode()
    assert f"1: {escape(services.ladder(world.partnership)[0].shown_name)}</dd>" in home
    document = e.documents.get()
    assert f'href="/guest/documents/{document.pk}/"' in home
    download = client.get(f"/guest/documents/{document.pk}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"notes"
    assert PendingRead.objects.filter(verb=Verb.DOCUMENT_DOWNLOADED, actor=guest.account).exists()
    other = world.raised()
    services.escalation_add_document(
        actor=world.practitioner_health, escalation=other, upload=SimpleUploadedFile("x.txt", b"x")
    )
    assert client.get(f"/guest/documents/{other.documents.get().pk}/").status_code == 404
    assert 'href="/guest/escalate/"' in home and "Escalate to stage 2" in home
    assert "the raiser consults their own manager or safeguarding lead, then it can go to stage 2" in home
    e.refresh_from_db()
    early = client.post(
        "/guest/escalate/", {"version": e.version, "to_stage": "2", "reason": "We cannot agree."}
    )
    assert early.status_code == 422 and "manager" in early.content.decode()  # rule 2: consult first
    world.consulted(e)
    e.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            "/guest/escalate/",
            {"version": e.version, "to_stage": "2", "reason": "We cannot agree the threshold."},
        )
    assert done.status_code == 302, done.content.decode()[:3000]
    e.refresh_from_db()
    assert e.stage == 2 and e.events.filter(type="escalated", actor=guest.account).exists()
    # At the managers' stage the professional no longer holds it.
    assert client.get("/guest/escalate/").status_code == 403
    home = client.get("/guest/").content.decode()
    assert 'href="/guest/escalate/"' not in home
    assert "a guest, named by work email" not in home  # (their own entries are simply theirs)
    sign_in(client, world.practitioner_health)
    page = client.get(f"/escalations/{e.pk}/").content.decode()
    assert "Gill Green (a guest, named by work email)" in page
    assert (
        "Gill Green, a guest, named by work email"
        in client.get(f"/escalations/{e.pk}/record/").content.decode()
    )


def test_on_an_adults_board_the_guest_is_asked_about_the_adult(
    client, world, django_capture_on_commit_callbacks
):
    install_ladder(world.partnership, preset("staffordshire-adults"))
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=world.social).update(
        work_email_domains="nhs.net"
    )
    with django_capture_on_commit_callbacks(execute=True):
        e = world.raised(with_practitioner_username="", with_practitioner_email=GP)
    assert e.subject == "adult"
    path = re.search(r"(/guest/[A-Za-z0-9_-]+/)", mail.outbox[-1].body).group(1)
    guest_in(client, path, django_capture_on_commit_callbacks, confirm=False)
    page = client.get("/guest/").content.decode()
    assert "I work with this adult" in page and "An adult at risk" in page
    assert escape("The adult's details are shown") in page and "child" not in page.split("<main")[1]
    asked = client.post("/guest/", {"name": "Gill Green"}).content.decode()
    assert "Select whether you work with this adult, or this is not for you" in asked


def test_a_guests_posts_need_the_forms_token_and_the_link_names_no_other_site(
    client, named, django_capture_on_commit_callbacks
):
    """Another site cannot make a guest's browser ask for codes, confirm or decline for them;
    the link's page sends no Referer carrying the link elsewhere."""
    _e, guest, path = named
    forged = Client(enforce_csrf_checks=True)
    assert forged.post(path).status_code == 403
    guest.refresh_from_db()
    assert guest.codes_sent == 0
    guest_in(client, path, django_capture_on_commit_callbacks, confirm=False)
    forged.cookies = client.cookies
    assert forged.post("/guest/", {"answer": "decline"}).status_code == 403
    guest.refresh_from_db()
    assert guest.state == GuestState.NAMED
    page = client.get(path)
    assert page.headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin")
