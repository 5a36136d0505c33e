"""Taking part without an account, in the browser: a practitioner names a GP by work email; the
GP opens the emailed link, asks for a code, enters it, confirms they work with the child and
records a discussion, which the raiser sees; the GP finds nothing else of Accord; a second
guest says "This is not for me", sees no child's details, and the raiser is told. Every guest
page is screenshotted and checked by axe."""

import datetime as dt
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from accord.escalations import services
from accord.escalations.models import Escalation, Guest, GuestState
from accord.partnership.models import Agency, User
from accord.testing.factories import raise_details

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser

GP = "Devon GP practices (primary care)"
CHILD = "Ocean Pemberton-Vale"


def check_page(page, name):
    screenshot(page, name)
    assert_accessible(page)


def submit(page, label="Continue"):
    page.locator("main").get_by_role("button", name=label, exact=True).click()


def link_for(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email] and "/guest/" in m.body)
    assert CHILD not in message.body and "2019" not in message.body
    return re.search(r"https?://\S+(/guest/[A-Za-z0-9_-]+/)", message.body).group(1)


def code_for(email: str) -> str:
    message = next(m for m in reversed(mail.outbox) if m.to == [email] and "one-time code" in m.subject)
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def raise_naming_by_email(page, email: str) -> Escalation:
    page.get_by_role("link", name="Raise an escalation").first.click()
    page.get_by_role("button", name="Start now").click()
    page.get_by_label("No").check()
    submit(page)
    page.get_by_label("A child or children").check()
    page.locator("input#id_with_agency").press_sequentially("Devon GP")
    page.locator("#id_with_agency__listbox li", has_text=GP).first.click()
    # An address outside the agency's domains is refused in plain words.
    page.locator("#id_with_practitioner").fill("gill.green@gmail.com")
    submit(page)
    expect(page.locator(".govuk-error-summary")).to_contain_text("it must end in @nhs.net")
    check_page(page, "guests-01-raise-refused-address")
    page.locator("#id_with_practitioner").fill(email)
    check_page(page, "guests-02-raise-with-email")
    submit(page)
    page.fill("#id_child_1_name", CHILD)
    page.fill("#id_child_1_date_of_birth-day", "14")
    page.fill("#id_child_1_date_of_birth-month", "2")
    page.fill("#id_child_1_date_of_birth-year", "2019")
    submit(page)
    page.fill("#id_summary", "Referral for a developmental assessment not made")
    page.fill("#id_concern", "Speech and motor delay not followed up.")
    page.get_by_label("Routine").check()
    page.get_by_label("Levels of risk, need or threshold").check()
    submit(page)
    expect(page.get_by_text(email)).to_be_visible()
    page.get_by_role("button", name="Raise the escalation").click()
    reference = page.locator(".govuk-panel__body strong").inner_text()
    return Escalation.objects.get(reference=reference)


def sign_in_as_guest(guest_page, email: str, name: str) -> None:
    guest_page.goto(link_for(email))
    expect(guest_page.get_by_role("heading", level=1)).to_have_text(
        "A professional difference has been raised with you"
    )
    assert CHILD not in guest_page.content()
    check_page(guest_page, f"{name}-link")
    guest_page.get_by_role("button", name="Email me a code").click()
    expect(guest_page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    code_input = guest_page.get_by_label("Enter the code from the email")
    assert code_input.get_attribute("autocomplete") == "one-time-code"
    code_input.fill("000 000" if code_for(email) != "000000" else "111 111")
    submit(guest_page)
    expect(guest_page.locator(".govuk-error-summary")).to_contain_text("That code is not right")
    check_page(guest_page, f"{name}-code-refused")
    code = code_for(email)
    code_input.fill(f"{code[:3]} {code[3:]}")  # pasted as the email set it out
    submit(guest_page)
    expect(guest_page.get_by_role("heading", level=1)).to_have_text("Is this escalation for you?")
    assert CHILD not in guest_page.content() and "2019" not in guest_page.content()
    check_page(guest_page, f"{name}-confirm")


def test_a_gp_named_by_email_answers_as_a_guest_of_that_escalation_alone(
    browser, live_server, page, demo_users
):
    partnership, users = demo_users
    elsewhere = services.escalation_raise(
        actor=users["practitioner.health"],
        partnership=partnership,
        details=raise_details(
            with_agency=Agency.objects.get(name="Devon County Council Children's Services"),
            with_practitioner_username="practitioner.social",
        ),
        immediate_danger=False,
    )
    gp = "gill.green@nhs.net"
    log_in(page, "practitioner.health")
    escalation = raise_naming_by_email(page, gp)
    assert escalation.with_practitioner_id is None
    assert Guest.objects.get(escalation=escalation).email == gp

    # ---- the GP, in a browser of their own, with no account
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="en-GB")
    guest_page = context.new_page()
    guest_page.set_default_timeout(15000)
    sign_in_as_guest(guest_page, gp, "guests-03-gp")
    guest_page.get_by_label("I work with this child").check()
    guest_page.get_by_label("Your name").fill("Dr Gill Green")
    submit(guest_page)
    expect(guest_page.get_by_text(CHILD)).to_be_visible()
    check_page(guest_page, "guests-04-gp-escalation")
    guest_page.get_by_role("link", name="Record a discussion or response").click()
    today = dt.date.today()
    guest_page.fill("#id_held_on-day", str(today.day))
    guest_page.fill("#id_held_on-month", str(today.month))
    guest_page.fill("#id_held_on-year", str(today.year))
    guest_page.fill(
        "#id_note", "Spoke with the health visitor; I will refer Ocean to the development centre."
    )
    guest_page.get_by_label("Yes", exact=True).check()
    check_page(guest_page, "guests-05-gp-discussion")
    submit(guest_page, "Save")
    expect(guest_page.locator(".govuk-notification-banner")).to_contain_text("Discussion recorded")
    check_page(guest_page, "guests-06-gp-after-discussion")
    # Nothing else of Accord: not another escalation, nor this one's own page, the list,
    # the reports or the settings.
    for path in (
        f"/escalations/{elsewhere.pk}/",
        f"/escalations/{escalation.pk}/",
        "/escalations/",
        "/reports/",
        "/business-unit/settings/",
        "/",
    ):
        response = guest_page.goto(path)
        assert response.status == 404, path
        assert CHILD not in guest_page.content()
    context.close()

    # ---- the raiser sees it on the timeline
    page.goto(f"/escalations/{escalation.pk}/")
    timeline = page.locator(".moj-timeline")
    expect(timeline).to_contain_text("Discussion recorded")
    expect(timeline).to_contain_text("Dr Gill Green")
    expect(page.get_by_test_id("guests")).to_contain_text("confirmed")
    check_page(page, "guests-07-raiser-timeline")

    # ---- a second guest, named after raising: "This is not for me"
    wrong = "g.green@nhs.net"
    page.get_by_role("link", name="Name someone of the other agency by work email").click()
    page.get_by_label("Their work email").fill(wrong)
    check_page(page, "guests-08-name-another")
    submit(page, "Email them a link")
    expect(page.get_by_test_id("guests")).to_contain_text(wrong)
    log_out(page)
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="en-GB")
    second = context.new_page()
    second.set_default_timeout(15000)
    sign_in_as_guest(second, wrong, "guests-09-second")
    second.get_by_label("This is not for me").check()
    submit(second)
    expect(second.get_by_role("heading", level=1)).to_have_text("Thank you: this escalation is not for you")
    assert CHILD not in second.content()
    check_page(second, "guests-10-second-declined")
    assert second.goto("/guest/").status == 401  # their access ended at once
    assert CHILD not in second.content()
    context.close()
    assert Guest.objects.get(email=wrong).state == GuestState.DECLINED

    # ---- the raiser is told
    log_in(page, "practitioner.health")
    page.goto("/notifications/")
    expect(page.locator("main")).to_contain_text("said the escalation is not for them")
    screenshot(page, "guests-11-raiser-told")
    assert User.objects.filter(email=gp, is_active=False).exists()  # the guest never signed in as a person

    # ---- the business unit: the GP practices' domains, and its guests by agency
    log_out(page)
    log_in(page, "admin")
    gps = Agency.objects.get(name=GP)
    page.goto(f"/business-unit/agencies/{gps.pk}/")
    page.get_by_role("link", name="Its work email domains").click()
    expect(page.get_by_label("Its work email domains")).to_have_value("nhs.net")
    check_page(page, "guests-12-email-domains")
    page.goto("/business-unit/guests/")
    expect(page.locator("main")).to_contain_text(gp)
    expect(page.locator("main")).to_contain_text(wrong)
    check_page(page, "guests-13-business-unit-guests")
    page.get_by_role("link", name=re.compile(f"^Make them a person.*{re.escape(gp)}")).click()
    check_page(page, "guests-14-make-person")


def test_the_raisers_manager_names_the_gp_practices_manager_who_works_the_managers_stage(
    browser, live_server, page, demo_users
):
    """The difference with the GP practices reaches the managers' stage; the practices have no
    manager in Accord, so the raiser's manager names one by work email. The practice manager,
    in a browser of their own, signs in through the link and the code, confirms, and pauses
    the stage as a manager of the practices would; the raiser's manager sees it."""
    partnership, users = demo_users
    gps = Agency.objects.get(name=GP)
    e = services.escalation_raise(
        actor=users["practitioner.health"],
        partnership=partnership,
        details=raise_details(with_agency=gps, with_practitioner_username=""),
        immediate_danger=False,
    )
    services.escalation_record_discussion(
        actor=users["practitioner.health"],
        escalation=e,
        held_on=dt.date.today(),
        note="Talked it through with my named nurse.",
        with_manager=True,
    )
    services.escalation_escalate(
        actor=users["practitioner.health"], escalation=e, reason="The practice would not refer."
    )
    manager = "practice.manager@nhs.net"
    log_in(page, "manager.health")
    page.goto(f"/escalations/{e.pk}/")
    expect(page.get_by_test_id("leader-openings")).to_contain_text("nobody at Devon GP practices")
    page.get_by_role("link", name="Name their managers by work email").click()
    page.get_by_label("Their work email").fill("practice.manager@gmail.com")
    submit(page, "Email them a link")
    expect(page.locator(".govuk-error-summary")).to_contain_text("it must end in @nhs.net")
    check_page(page, "guests-20-name-manager-refused")
    page.get_by_label("Their work email").fill(manager)
    submit(page, "Email them a link")
    expect(page.get_by_test_id("guests")).to_contain_text("acting as its managers")
    check_page(page, "guests-21-manager-named")
    assert Guest.objects.get(escalation=e, email=manager).tier == "managers"
    assert "act for Devon GP practices" in link_message_body(manager)

    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="en-GB")
    guest_page = context.new_page()
    guest_page.set_default_timeout(15000)
    sign_in_as_guest(guest_page, manager, "guests-22-practice-manager")
    guest_page.get_by_label("I work with this child").check()
    guest_page.get_by_label("Your name").fill("Pat Practice")
    submit(guest_page)
    expect(guest_page.locator("main")).to_contain_text("as one of its managers")
    check_page(guest_page, "guests-23-practice-manager-escalation")
    guest_page.get_by_role("link", name="Record the resolution").click()
    check_page(guest_page, "guests-24-practice-manager-resolve")
    guest_page.get_by_role("link", name="Back to the escalation").click()
    guest_page.get_by_role("link", name="Pause this stage").click()
    guest_page.get_by_label("Reason").fill("Waiting for the child's paediatric appointment.")
    check_page(guest_page, "guests-25-practice-manager-pause")
    submit(guest_page, "Save")
    expect(guest_page.locator(".govuk-notification-banner")).to_contain_text("Stage paused")
    expect(guest_page.get_by_role("link", name="Resume this stage")).to_be_visible()
    for path in (f"/escalations/{e.pk}/", "/escalations/", "/"):
        assert guest_page.goto(path).status == 404, path
    context.close()

    page.goto(f"/escalations/{e.pk}/")
    expect(page.locator(".moj-timeline")).to_contain_text("Pat Practice")
    assert Escalation.objects.get(pk=e.pk).status == "paused"


def link_message_body(email: str) -> str:
    return next(m for m in reversed(mail.outbox) if m.to == [email] and "/guest/" in m.body).body
