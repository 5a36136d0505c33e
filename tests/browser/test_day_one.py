"""A partnership's day one, all through the pages: the deployment's administrator sets it up
from a preset and invites its business unit's first officer; the officer sets a password and
two-step verification, adds four agencies, brings in 500 people from a spreadsheet and the
earlier log of 300 escalations, and adds one agency's own sign-in provider; then the first
practitioner signs in through that provider (a real OpenID Connect provider the test starts).
axe on every page of Accord's, and nothing typed into a shell."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from .conftest import assert_accessible, log_in, log_out, screenshot

pytestmark = pytest.mark.browser

PASSWORD = "a long and unguessable pass phrase"
AGENCIES = [
    ("Wessex Council Children's Services", "childrens_social_care", "wcc"),
    ("Wessex NHS Trust", "health_provider", "nhs"),
    ("Wessex Police", "police", "police"),
    ("Wessex Schools", "education", "schools"),
]


@pytest.fixture
def deployer(transactional_db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accord.partnership.models import User
    from accord.web.demo import DEMO_TOTP_SECRET

    person = User.objects.create_superuser("deployer", "deployer@accord.example", PASSWORD)
    TOTPDevice.objects.create(
        user=person, name="phone", key=base64.b32decode(DEMO_TOTP_SECRET).hex(), confirmed=True
    )
    return person


def people_csv() -> str:
    """125 people in each agency: a senior leader, five managers and their practitioners."""
    lines = ["name,email,agency,roles,line_manager_email"]
    for agency, _kind, short in AGENCIES:
        senior = f"senior.{short}@wessex.example"
        lines.append(f'Sam Senior {short},{senior},"{agency}",senior_leader,')
        managers = [f"manager{m}.{short}@wessex.example" for m in range(1, 6)]
        for email in managers:
            lines.append(f'Mo Manager {email.split("@")[0]},{email},"{agency}",manager,{senior}')
        for n in range(1, 120):
            lines.append(
                f'Pat Practitioner{n} {short},practitioner{n}.{short}@wessex.example,"{agency}",practitioner,'
                f"{managers[n % 5]}"
            )
    return "\n".join(lines) + "\n"


def log_csv() -> str:
    """300 past escalations over two years, between the agencies, at every stage of five."""
    outcomes = ["agreed_way_forward", "decision_upheld", "decision_changed", "multi_agency_plan", "withdrawn"]
    lines = ["reference,raising_agency,with_agency,raised_on,closed_on,stage_reached,outcome,kind"]
    start = dt.date(2024, 1, 8)
    for n in range(300):
        raising, receiving = AGENCIES[n % 4][0], AGENCIES[(n + 1 + n // 4) % 4][0]
        if raising == receiving:
            receiving = AGENCIES[(n + 2) % 4][0]
        raised = start + dt.timedelta(days=2 * n)
        closed = raised + dt.timedelta(days=5 + n % 20)
        lines.append(
            f'OLD-{n + 1:03d},"{raising}","{receiving}",{raised:%d/%m/%Y},{closed:%d/%m/%Y},{1 + n % 5},'
            f"{outcomes[n % 5]},{'theme' if n % 10 == 0 else 'case'}"
        )
    return "\n".join(lines) + "\n"


def totp_from(page) -> str:
    from django_otp.oath import TOTP

    secret = page.get_by_test_id("totp-secret").inner_text().replace(" ", "")
    return f"{TOTP(base64.b32decode(secret)).token():06d}"


def test_a_partnership_from_a_preset_to_its_first_practitioner_signed_in_through_their_agency(
    page, live_server, deployer, tmp_path
):
    from accord.escalations.models import Escalation
    from accord.partnership.models import Partnership, User
    from accord.testing.oidc import local_provider

    # The deployment's administrator sets the partnership up from a five-stage preset.
    log_in(page, "deployer", PASSWORD)
    assert_accessible(page)
    page.get_by_role("button", name="Set up a partnership").click()
    assert_accessible(page)
    page.get_by_label("The partnership's name").fill("Wessex Safeguarding Children Partnership")
    page.get_by_label("Short name").fill("wessex")
    page.locator("input[name=preset][value=croydon]").check()
    page.get_by_label("The children's services front door number").fill("0300 123 4567")
    page.get_by_label("The business unit's first officer: name").fill("Jo Bloggs")
    page.get_by_label("Their email address").fill("jo.bloggs@wessex.example")
    page.get_by_role("button", name="Set up the partnership").click()
    expect(page.locator("main")).to_contain_text("has been sent an invitation", use_inner_text=True)
    assert_accessible(page)
    log_out(page)

    # The officer follows the invitation, chooses a password, and sets up two-step verification.
    path = re.search(r"/account/set-password/\S+/", mail.outbox[-1].body).group(0)
    page.goto(path)
    assert_accessible(page)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type it again").fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    page.goto("/login/")
    page.fill("#id_username", "jo.bloggs@wessex.example")
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url("**/account/two-step/**")
    assert_accessible(page)
    page.get_by_label("Security code").fill(totp_from(page))
    page.get_by_role("button", name="Turn on two-step verification").click()
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()
    assert_accessible(page)

    # The agencies.
    page.get_by_role("link", name="The partnership's agencies").click()
    assert_accessible(page)
    for name, kind, _short in AGENCIES:
        page.get_by_label("The agency's name").fill(name)
        page.get_by_label("What kind of agency it is").select_option(kind)
        page.get_by_role("button", name="Add the agency").click()
        expect(page.locator("main")).to_contain_text(
            "is one of the partnership's agencies now", use_inner_text=True
        )
    assert_accessible(page)

    # 500 people from a spreadsheet.
    people = tmp_path / "people.csv"
    people.write_text(people_csv())
    page.goto("/")
    page.get_by_role("link", name="Add or update people from a spreadsheet").click()
    page.set_input_files("input[type=file]", str(people))
    page.get_by_role("button", name="Check the file").click()
    assert_accessible(page)
    page.get_by_label("Email each person added an invitation to set their password").uncheck()
    # 500 people, each written by the people services with its own audit entries (about
    # 40 s on a busy two-core machine on PostgreSQL): allow for a slow machine.
    page.get_by_role("button", name="Import these people").click(timeout=120_000)
    expect(page.locator("main")).to_contain_text("500 people added", use_inner_text=True)
    assert_accessible(page)
    wessex = Partnership.objects.get(slug="wessex")
    assert User.objects.filter(role_assignments__partnership=wessex).distinct().count() == 501

    # The earlier log of 300 escalations.
    old_log = tmp_path / "challenge-log.csv"
    old_log.write_text(log_csv())
    page.goto("/")
    page.get_by_role("link", name="Bring in the earlier log of escalations").click()
    page.get_by_label("Upload the earlier log").set_input_files(str(old_log))
    page.get_by_role("button", name="Upload and choose the columns").click()
    assert_accessible(page)
    page.get_by_role("button", name="Continue: map the log's words").click()
    assert_accessible(page)
    page.get_by_role("button", name="Check every row").click()
    expect(page.get_by_test_id("planned")).to_contain_text("300 escalations to bring in", use_inner_text=True)
    assert_accessible(page)
    page.get_by_role("button", name="Bring in these escalations").click()
    expect(page.locator("main")).to_contain_text("300 escalations brought in", use_inner_text=True)
    assert_accessible(page)
    assert Escalation.objects.filter(partnership=wessex, imported_in__isnull=False).count() == 300

    # The health trust's own sign-in.
    callback = f"{live_server.url}/sign-in/callback/"
    client = {"client_id": "accord-wessex-nhs", "client_secret": "nhs-secret", "redirect_uris": [callback]}
    with local_provider([client]) as issuer:
        page.goto("/")
        page.get_by_role("link", name="Agencies' own sign-in").click()
        assert_accessible(page)
        assert page.get_by_test_id("callback").inner_text() == callback
        page.get_by_label("The agency whose people sign in through it").select_option(
            label="Wessex NHS Trust"
        )
        page.get_by_label("What the sign-in button names").fill("Wessex NHS account")
        page.get_by_label("Issuer", exact=True).fill(issuer)
        page.get_by_label("Client ID").fill(client["client_id"])
        page.get_by_label("Client secret").fill(client["client_secret"])
        page.get_by_role("button", name="Add the provider").click()
        expect(page.locator("main")).to_contain_text("Wessex NHS account is added", use_inner_text=True)
        assert_accessible(page)
        screenshot(page, "day-one-01-sign-in-providers")
        log_out(page)

        # The first practitioner signs in through it.
        assert_accessible(page)
        page.get_by_role("button", name="Sign in with Wessex NHS account").click()
        page.wait_for_url(f"{issuer}/**")
        page.fill("input[name=login]", "practitioner7.nhs@wessex.example")
        page.fill("input[name=password]", "their own password, at their trust")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for _screen in range(3):  # the provider may ask to share the email address: yes
            if page.url.startswith(live_server.url):
                break
            page.click("button[type=submit]")
            page.wait_for_load_state()
        page.wait_for_url(f"{live_server.url}/**")
        assert "/login/" not in page.url
        assert_accessible(page)
        screenshot(page, "day-one-02-first-practitioner-home")
        assert page.get_by_role("link", name="Raise an escalation").count() >= 1
    practitioner = User.objects.get(email="practitioner7.nhs@wessex.example")
    assert practitioner.last_login is not None
