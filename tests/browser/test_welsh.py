"""Accord in Welsh in the browser: a practitioner switches to Cymraeg in the header, raises a
difference, consults their manager and escalates it; the other agency's manager resolves it,
all in Welsh. Every page is in Welsh (``lang="cy"``, the catalogue's Welsh on it) and axe
finds nothing on it."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from accord.escalations.models import Escalation, Status
from accord.partnership.models import Language, User
from accord.web.demo import DEMO_PASSWORD

from .conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser


def cy(english: str) -> str:
    """The catalogue's Welsh for an English message of Accord's."""
    with translation.override("cy"):
        return gettext(english)


def in_welsh(page, name: str) -> None:
    """The page shown is in Welsh, and accessible."""
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_test_id("language-select").locator("[aria-current=true]")).to_have_text("Cymraeg")
    screenshot(page, f"welsh-{name}")
    assert_accessible(page)


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    # (In English or Welsh, as the browser last chose.)
    page.locator("main").get_by_role("button", name=re.compile(f"^(Sign in|{cy('Sign in')})$")).click()
    page.wait_for_url(lambda url: "/login/" not in url)


def sign_out(page) -> None:
    page.get_by_role("button", name=cy("Sign out")).click()
    page.wait_for_url("**/login/")


def submit(page, label: str) -> None:
    page.locator("main").get_by_role("button", name=label, exact=True).click()


def test_raised_escalated_and_resolved_in_welsh(page, demo_users):
    # The sign-in page offers Cymraeg in the header, as a link in its own language.
    page.goto("/login/")
    switch = page.get_by_test_id("language-select").get_by_role("link", name="Cymraeg")
    expect(switch).to_have_attribute("hreflang", "cy")
    expect(switch).to_have_attribute("lang", "cy")
    sign_in(page, "practitioner.health")
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
    page.get_by_test_id("language-select").get_by_role("link", name="Cymraeg").click()
    in_welsh(page, "01-home")
    expect(page.get_by_role("link", name=cy("Skip to main content"))).to_be_attached()
    assert User.objects.get(username="practitioner.health").language == Language.WELSH

    # ---- raising
    page.get_by_role("link", name=cy("Raise an escalation")).first.click()
    in_welsh(page, "02-start")
    page.get_by_role("button", name=cy("Start now")).click()
    in_welsh(page, "03-danger")
    expect(page.locator("main")).to_contain_text(cy("Is any child in immediate danger?"))
    page.locator("input[name=immediate_danger][value=no]").check()
    submit(page, cy("Continue"))

    in_welsh(page, "04-with")
    page.locator("input[name=kind][value=case]").check()
    # The picker's own words, read out by a screen reader, are in Welsh too.
    expect(page.locator("#id_with_agency__assistiveHint")).to_have_text(
        cy(
            "When results are available, use the up and down arrows to review them and Enter to "
            "choose one. On a touch device, explore by touch or with swipe gestures."
        )
    )
    page.locator("input#id_with_agency").press_sequentially("Devon Co")
    page.locator("#id_with_agency__listbox li", has_text="Devon County Council").first.click()
    submit(page, cy("Continue"))

    in_welsh(page, "05-children")
    page.get_by_label(cy("Name or initials")).first.fill("C.D.")
    submit(page, cy("Continue"))

    in_welsh(page, "06-difference")
    page.fill("#id_summary", "Cau'r achos ar ôl yr asesiad")
    page.fill("#id_concern", "Mae anghenion iechyd y plentyn heb eu diwallu.")
    page.locator("input[name=urgency][value=routine]").check()
    page.get_by_role("group", name=cy("Areas of disagreement")).get_by_role("checkbox").first.check()
    submit(page, cy("Continue"))

    in_welsh(page, "07-check")
    page.get_by_role("button", name=cy("Raise the escalation")).click()
    expect(page.locator(".govuk-panel__title")).to_have_text(cy("Escalation raised"))
    in_welsh(page, "08-raised")
    escalation = Escalation.objects.get(summary="Cau'r achos ar ôl yr asesiad")
    assert escalation.raised_language == Language.WELSH  # for "no slower in Welsh"
    page.get_by_role("link", name=cy("Go to the escalation")).click()
    in_welsh(page, "09-stage-1")

    # ---- the consultation with the raiser's manager, then escalating to stage 2
    page.get_by_role("link", name=cy("Record a discussion or response")).click()
    in_welsh(page, "10-discussion")
    today = timezone.localdate()
    page.fill("#id_held_on-day", str(today.day))
    page.fill("#id_held_on-month", str(today.month))
    page.fill("#id_held_on-year", str(today.year))
    page.fill("#id_note", "Siaradais â'm rheolwr; mae'n cytuno y dylid uwchgyfeirio.")
    page.locator("input[name=agreed][value=no]").check()
    page.locator("#id_with_manager").check()
    submit(page, cy("Save"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text(cy("Discussion recorded"))

    escalate = cy("Escalate to stage %(n)s") % {"n": 2}
    page.get_by_role("link", name=escalate).click()
    in_welsh(page, "11-escalate")
    page.fill("#id_reason", "Ni allai'r ymarferwyr gytuno.")
    for field, text in (
        ("#id_decision_challenged", "Cau'r achos ar ôl yr asesiad sengl."),
        ("#id_tried_so_far", "Dwy alwad gyda'r gweithiwr cymdeithasol."),
        ("#id_desired_outcome", "Trafodaeth strategaeth."),
    ):
        if page.locator(field).count():
            page.fill(field, text)
    submit(page, escalate)
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    in_welsh(page, "12-stage-2")
    escalation.refresh_from_db()
    assert escalation.stage == 2
    sign_out(page)

    # ---- the other agency's manager resolves it (the browser keeps Cymraeg)
    sign_in(page, "manager.social")
    page.goto(f"/escalations/{escalation.pk}/")
    in_welsh(page, "13-manager")
    page.get_by_role("link", name=cy("Record the resolution")).click()
    in_welsh(page, "14-resolve")
    page.locator("input[name=outcome][value=agreed_way_forward]").check()
    page.fill("#id_agreed_way_forward", "Bydd asesiad newydd gyda mewnbwn iechyd.")
    page.locator("input[name=child_centred_outcome_achieved][value=yes]").check()
    submit(page, cy("Save"))
    expect(page.locator(".govuk-notification-banner")).to_be_visible()
    in_welsh(page, "15-resolved")
    escalation.refresh_from_db()
    assert escalation.status == Status.RESOLVED
