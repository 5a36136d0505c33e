"""Raising an escalation with the keyboard alone: Tab, Space, Enter and typing; no mouse events."""

import pytest

from accord.escalations.models import Escalation

from .conftest import assert_accessible, screenshot

pytestmark = pytest.mark.browser

COUNT_MOUSE = """
(() => {
  const bump = () => sessionStorage.setItem('mouse', String(Number(sessionStorage.getItem('mouse') || 0) + 1));
  for (const type of ['mousedown', 'mouseup', 'pointerdown']) document.addEventListener(type, bump, true);
})();
"""


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the focused element matches ``selector``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"could not reach {selector} with the Tab key")


def type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def choose(page, name: str, value: str) -> None:
    """Tab into a radio group, then move with the arrow keys to the option (as a keyboard user does)."""
    tab_to(page, f"input[type=radio][name={name}]")
    page.keyboard.press("Space")
    for _ in range(20):
        if page.evaluate(
            "(v) => document.activeElement.value === v && document.activeElement.checked", value
        ):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"could not choose {value!r} in {name!r} with the keyboard")


def press_button(page, name: str, limit: int = 80) -> None:
    """Tab to the button in the main content with exactly this text, and press Enter."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        found = page.evaluate(
            "(n) => { const e = document.activeElement; return !!e && !!e.closest('main') && "
            "(e.tagName === 'BUTTON' || e.getAttribute('role') === 'button') && e.textContent.trim() === n; }",
            name,
        )
        if found:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"could not reach the {name!r} button with the Tab key")


def test_raise_an_escalation_with_the_keyboard_alone(browser, live_server, demo_users):
    context = browser.new_context(base_url=live_server.url, bypass_csp=True, locale="en-GB")
    context.add_init_script(COUNT_MOUSE)
    page = context.new_page()
    page.set_default_timeout(15000)

    page.goto("/login/")
    type_into(page, "#id_username", "practitioner.health")
    type_into(page, "#id_password", "accord-demo-password")
    press_button(page, "Sign in")

    # The skip link is the first thing the keyboard reaches.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to main content"

    tab_to(page, "main a.govuk-button--start")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "main a.govuk-button--start")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    choose(page, "immediate_danger", "no")
    press_button(page, "Continue")

    choose(page, "kind", "case")
    # The agency picker: type, then the arrow keys and Enter choose from what it offers.
    page.locator("input#id_with_agency").wait_for()  # the picker has replaced the select
    tab_to(page, "input#id_with_agency")
    page.keyboard.type("Devon County")
    page.locator("#id_with_agency__listbox li").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    press_button(page, "Continue")

    type_into(page, "#id_child_1_name", "K.L.")
    type_into(page, "#id_child_1_date_of_birth-day", "3")
    type_into(page, "#id_child_1_date_of_birth-month", "9")
    type_into(page, "#id_child_1_date_of_birth-year", "2020")
    press_button(page, "Continue")

    type_into(page, "#id_summary", "Keyboard-only escalation")
    type_into(page, "#id_concern", "Needs unmet.")
    choose(page, "urgency", "routine")
    press_button(page, "Continue")

    screenshot(page, "keyboard-01-check-answers")
    assert_accessible(page)
    press_button(page, "Raise the escalation")
    assert page.locator(".govuk-panel__title").inner_text() == "Escalation raised"
    escalation = Escalation.objects.get(summary="Keyboard-only escalation")
    assert escalation.with_agency.name == "Devon County Council Children's Services"
    assert page.evaluate("Number(sessionStorage.getItem('mouse') || 0)") == 0
    context.close()
