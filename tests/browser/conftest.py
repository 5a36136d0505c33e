"""Browser tests: Playwright for Python driving Debian's Chromium, headless, against a live server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

# A page after a click may still be loading: every expect() waits this long for it.
expect.set_options(timeout=15_000)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "frontend" / "build" / "testing" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def chromium_path() -> str:
    path = os.environ.get("ACCORD_CHROMIUM") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"Chromium is needed for the browser tests and was not found at {path}: run bin/test, which installs it"
        )
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, bypass_csp=True, locale="en-GB", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def demo_users(transactional_db, _devon_rows):
    """Devon's demo partnership and people, committed for the live server: copied where
    they can be, built where not (accord/testing/demo.py)."""
    from accord.testing.demo import devon

    return devon(_devon_rows)


@pytest.fixture
def demo_caseload(demo_users, _devon_rows):
    """Devon's demo caseload (``load_caseload``) on ``demo_users``. The partnership."""
    from accord.testing.demo import devon_caseload

    devon_caseload(_devon_rows, demo_users)
    return demo_users[0]


def log_in(page, username: str, password: str | None = None) -> None:
    from accord.web.demo import DEMO_PASSWORD

    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password or DEMO_PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(lambda url: url.rstrip("/").endswith("/login") is False and "/login/?" not in url)
    if "/login/verify/" in page.url:
        from accord.web.demo import demo_totp_code

        page.fill("#id_code", demo_totp_code())
        page.click("button:has-text('Continue')")
        page.wait_for_url(lambda url: "/login/" not in url)


def log_out(page) -> None:
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login/")


def axe_violations(page) -> list[dict]:
    """Run axe-core (from npm) in the page; answer the WCAG 2.2 A/AA violations."""
    # A click that navigates returns before the next page has loaded: axe is put into the
    # page that is shown, once it is there (not into one being replaced).
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], f"axe found WCAG violations on {page.url}: {violations}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
