"""The PDG standing item checked against hand-counted fixtures (DOMAIN.md rules 5 and 9)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accord.api.services import api_token_create
from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Outcome
from accord.reports.annual import annual_tables
from accord.reports.disclosure import WITHHELD_SYMBOL, suppress_counts
from accord.reports.selectors import Period, pdg_figures, poisson_cdf
from accord.testing.auth import sign_in
from accord.testing.factories import AgencyFactory

SUPPRESSED = "fewer than 5"
pytestmark = pytest.mark.django_db
PERIOD = Period(dt.date(2026, 10, 1), dt.date(2026, 12, 31))
AFTER_THE_YEAR = timezone.make_aware(dt.datetime(2027, 4, 15, 10))  # 2026/27 has ended
Q4_FORM = {
    "start-day": 1,
    "start-month": 10,
    "start-year": 2026,
    "end-day": 31,
    "end-month": 12,
    "end-year": 2026,
}


def at(y, m, d, h=10):
    return timezone.make_aware(dt.datetime(y, m, d, h))


@pytest.fixture
def scene(world):
    """Hand-built: in Q4 2026, five escalations. Health raises 3 with social care (one settled at
    stage 1, one resolved at stage 2, one formal), social care raises 1 with health (open), the
    conference chair raises 1 with health from a conference (stage 2). One more in Q3 (outside)."""
    resolved_at_1 = world.raised(at=at(2026, 10, 5))  # Monday
    with clock.set_to(at(2026, 10, 8)):  # 3 working days later
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=resolved_at_1,
            outcome=Outcome.AGREED_WAY_FORWARD,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="yes",
        )
    at_2 = world.consulted(world.raised(at=at(2026, 11, 2)), at=at(2026, 11, 2))
    with clock.set_to(at(2026, 11, 3)):
        services.escalation_escalate(actor=world.practitioner_health, escalation=at_2, reason="x")
    with clock.set_to(at(2026, 11, 17)):  # 10 working days at stage 2: late (timescale 5)
        services.escalation_resolve(
            actor=world.manager_social,
            escalation=at_2,
            outcome=Outcome.DECISION_CHANGED,
            agreed_way_forward="ok",
            child_centred_outcome_achieved="partly",
        )
    with clock.set_to(at(2026, 12, 1)):
        formal = world.formal()
    world.raised(
        at=at(2026, 12, 2),
        raiser=world.practitioner_social,
        with_agency=world.health,
        with_practitioner_username="",
    )
    world.from_conference(at=at(2026, 12, 3))
    world.raised(at=at(2026, 9, 1))  # outside the period
    return {"formal": formal}


def test_counts_match_the_hand_count(world, scene):
    f = pdg_figures(world.partnership, PERIOD)
    assert f.total == 5
    assert f.by_stage_reached == {1: 2, 2: 2, 4: 1}
    assert f.by_kind == {"case": 5}
    assert f.by_origin == {"practitioner": 4, "conference": 1}
    assert f.by_status == {"open": 3, "resolved": 2}
    assert f.by_raising_agency == {world.health.name: 3, world.social.name: 1, world.iru.name: 1}
    assert f.by_receiving_agency == {world.social.name: 3, world.health.name: 2}
    assert f.matrix == {
        (world.health.name, world.social.name): 3,
        (world.social.name, world.health.name): 1,
        (world.iru.name, world.health.name): 1,
    }
    assert f.outcomes == {"agreed_way_forward": 1, "decision_changed": 1}
    assert f.iru["total"] == 1
    assert f.by_theme == {"Neglect": 5}


def test_timeliness_in_working_days(world, scene):
    t = pdg_figures(world.partnership, PERIOD).timeliness
    # Stage 1 finished: 3 days (resolved), 1 day (escalated 3 Nov), and the formal one (same day: 0).
    assert (
        t[1]["completed"] == 3
        and t[1]["median_working_days"] == 1
        and t[1]["within_timescale_percent"] == 100
    )
    # Stage 2 finished: the late resolution (10 working days) and the formal one's (0).
    assert (
        t[2]["completed"] == 2
        and t[2]["p90_working_days"] == pytest.approx(9.0)
        and t[2]["within_timescale_percent"] == 50
    )


def test_the_low_challenge_flag_on_a_constructed_case(world, scene):
    """Housing raised 4 escalations in each of the four quarters before, and none now: listed
    (4 expected; none happens by chance 1.8% of the time). A charity that never raised any is
    not listed (nothing was expected of it), nor an agency the business unit marks as taking
    no part in raising, however much it raised before."""
    from accord.partnership.models import PartnershipAgency, Role
    from accord.testing.factories import UserFactory

    quiet = AgencyFactory(name="Quiet Housing", partnerships=[world.partnership])
    silent = AgencyFactory(name="Silent Charity", partnerships=[world.partnership])
    retired = AgencyFactory(name="Panel Secretariat", partnerships=[world.partnership])
    for agency in (quiet, retired):
        person = UserFactory(agency=agency, roles=[(world.partnership, Role.PRACTITIONER)])
        for quarter_start in ((2025, 11), (2026, 2), (2026, 5), (2026, 8)):
            for day in (3, 4, 5, 6):
                world.raised(at=at(*quarter_start, day), raiser=person)
    PartnershipAgency.objects.filter(partnership=world.partnership, agency=retired).update(
        takes_part_in_raising=False
    )
    f = pdg_figures(world.partnership, PERIOD)
    flagged = {(s.agency, s.direction): s for s in f.low_challenge}
    assert (quiet.name, "raised") in flagged
    assert flagged[(quiet.name, "raised")].expected == 4.0 and flagged[(quiet.name, "raised")].observed == 0
    assert (quiet.name, "received") not in flagged  # it never received any: nothing expected
    assert silent.name not in {s.agency for s in f.low_challenge}
    assert retired.name not in {s.agency for s in f.low_challenge}
    assert (world.health.name, "raised") not in flagged
    # Nothing is listed where nothing was expected, and the business unit never.
    assert all(s.expected > 0 and s.probability < 0.05 for s in f.low_challenge)
    assert world.unit.name not in {s.agency for s in f.low_challenge}


def test_poisson_lower_tail():
    assert poisson_cdf(0, 3.0) == pytest.approx(0.0498, abs=1e-4)
    assert poisson_cdf(2, 3.0) == pytest.approx(0.4232, abs=1e-4)
    assert poisson_cdf(5, 0) == 1.0
    # National-scale rates: e^-1000 underflows, so a naive sum would flag everything.
    assert poisson_cdf(900, 1000.0) == pytest.approx(0.00069777, rel=1e-4)
    assert poisson_cdf(1100, 1000.0) == pytest.approx(0.99913236, rel=1e-6)


@given(st.integers(0, 300), st.floats(0.01, 300))
def test_poisson_cdf_matches_the_direct_sum(k, lam):
    import math

    direct = math.fsum(math.exp(-lam + i * math.log(lam) - math.lgamma(i + 1)) for i in range(k + 1))
    assert poisson_cdf(k, lam) == pytest.approx(min(direct, 1.0), rel=1e-9, abs=1e-12)


def test_small_number_suppression_cannot_be_backed_out():
    assert suppress_counts({"a": 4, "b": 3}) == {"a": SUPPRESSED, "b": SUPPRESSED}
    # One small cell alone would be revealed by the total: the next smallest is withheld too,
    # and marked as withheld, never as "fewer than 5" (it is 5).
    assert suppress_counts({"a": 5, "b": 2, "c": 9}) == {"a": WITHHELD_SYMBOL, "b": SUPPRESSED, "c": 9}
    assert suppress_counts({"a": 24, "b": 1}) == {"a": WITHHELD_SYMBOL, "b": SUPPRESSED}
    assert suppress_counts({"a": 0, "b": 12}) == {"a": 0, "b": 12}
    # The threshold is the partnership's.
    assert suppress_counts({"a": 7, "b": 9, "c": 30}, threshold=10) == {
        "a": "fewer than 10",
        "b": "fewer than 10",
        "c": 30,
    }


def test_the_page_for_the_pdg_and_the_suppressed_view_for_the_executive(client, world, scene):
    sign_in(client, world.pdg_chair)
    page = client.get(
        "/reports/pdg/",
        Q4_FORM,
    )
    html = page.content.decode()
    assert page.status_code == 200 and "<strong>5</strong> escalations raised" in html
    assert "Timeliness" in html and "Thematic escalations" in html  # the PDG's fuller view
    client.logout()
    sign_in(client, world.executive)
    with clock.set_to(AFTER_THE_YEAR):  # the executive reads years that have ended
        page = client.get("/reports/pdg/", Q4_FORM)
        html = page.content.decode()
        # The executive reads whole reporting years (``reports.periods``): 2026/27, with the one
        # raised in September, and the page says so. Its figures are the year's protected set,
        # the annual report's: each month of the year is small, so the total of 6 is withheld
        # (less the quarter from October, 5, it would give September's 1 away).
        assert page.context["tables"]["total"] == "[c]" and "fewer than 5" in html
        assert annual_tables(world.partnership, 2026)["total"] == "[c]"
        assert "this is the reporting year nearest it, 1 April 2026 to 31 March 2027" in html
        assert "Zebedee" not in html and "TST-2026" not in html and "Timeliness" not in html
        csv = client.get(
            "/reports/pdg.csv", {"start-day": 1, "start-month": 10, "start-year": 2026}
        ).content.decode()
    assert "fewer than 5" in csv and "Zebedee" not in csv
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.REPORT_VIEWED, actor=world.executive).exists()
    assert AuditEvent.objects.filter(verb=Verb.REPORT_DOWNLOADED, actor=world.executive).exists()
    client.logout()
    sign_in(client, world.practitioner_health)
    assert client.get("/reports/pdg/").status_code == 403


def test_the_report_makes_the_same_number_of_queries_whatever_the_data(client, world):
    sign_in(client, world.pdg_chair)
    world.raised()

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/reports/pdg/").status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for _ in range(6):
        world.at_stage_2()
    world.raised(raiser=world.practitioner_social, with_agency=world.health, with_practitioner_username="")
    assert count() == small


def test_the_api_serves_the_same_figures(client, world, scene):
    _, token = api_token_create(actor=None, user=world.pdg_member)
    r = client.get(
        "/api/v1/reports/pdg",
        {"from": "2026-10-01", "to": "2026-12-31"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert r.status_code == 200, r.content
    assert r.json()["total"] == 5 and r.json()["by_stage_reached"] == {"1": 2, "2": 2, "4": 1}
    _, exec_token = api_token_create(actor=None, user=world.executive)
    with clock.set_to(AFTER_THE_YEAR):  # the executive reads years that have ended
        r = client.get(
            "/api/v1/reports/pdg",
            {"from": "2026-04-01", "to": "2027-03-31"},
            HTTP_AUTHORIZATION=f"Bearer {exec_token}",
        )
    assert r.json()["by_status"] == {"open": SUPPRESSED, "resolved": SUPPRESSED}
    _, p_token = api_token_create(actor=None, user=world.practitioner_health)
    assert client.get("/api/v1/reports/pdg", HTTP_AUTHORIZATION=f"Bearer {p_token}").status_code == 403


def test_drill_down_from_a_figure_lists_the_escalations_behind_it(client, world, scene):
    sign_in(client, world.pdg_chair)
    html = client.get(
        "/reports/pdg/",
        Q4_FORM,
    ).content.decode()
    assert "reached=4" in html and "raised_from=2026-10-01" in html
    # A cell of the agency matrix drills down to that pair's escalations.
    cell = f"raised_by_agency={world.health.pk}&amp;received_by_agency={world.social.pk}&amp;raised_from=2026-10-01"
    assert cell in html
    pair = client.get(
        "/escalations/",
        {
            "raised_by_agency": world.health.pk,
            "received_by_agency": world.social.pk,
            "raised_from": "2026-10-01",
        },
    ).content.decode()
    assert scene["formal"].reference in pair  # the one of health's three the PDG may see
    listing = client.get(
        "/escalations/", {"reached": 4, "raised_from": "2026-10-01", "raised_to": "2026-12-31"}
    ).content.decode()
    assert scene["formal"].reference in listing and "1 escalation" in listing
    # Behind "stage 1" the PDG sees nothing: those are not formal (rule 7 still applies).
    assert (
        "0 escalations"
        in client.get("/escalations/", {"reached": 1, "raised_from": "2026-10-01"}).content.decode()
    )
    client.logout()
    sign_in(client, world.admin)
    admin_view = client.get(
        "/reports/pdg/", {"start-day": 1, "start-month": 10, "start-year": 2026}
    ).content.decode()
    assert "reached=4" not in admin_view and "raised_by_agency=" not in admin_view


def test_every_breakdown_drills_down(client, world, scene):
    sign_in(client, world.pdg_chair)
    html = client.get(
        "/reports/pdg/",
        Q4_FORM,
    ).content.decode()
    for fragment in (
        "area=levels-of-risk",
        "theme=neglect",
        f"raised_by_agency={world.health.pk}",
        f"received_by_agency={world.social.pk}",
        "origin=conference",
        "kind=case",
        "status=open",
    ):
        assert fragment in html, fragment
    listing = client.get(
        "/escalations/",
        {
            "raised_by_agency": world.health.pk,
            "theme": "neglect",
            "raised_from": "2026-10-01",
            "raised_to": "2026-12-31",
        },
    ).content.decode()
    assert scene["formal"].reference in listing


@given(st.lists(st.integers(0, 60), min_size=1, max_size=80))
def test_percentiles_from_a_histogram_are_percentile_cont(sample):
    from collections import Counter
    from statistics import median, quantiles

    from accord.reports.selectors import histogram_percentile

    histogram = list(Counter(sample).items())
    p90 = sample[0] if len(sample) == 1 else quantiles(sample, n=10, method="inclusive")[8]
    assert histogram_percentile(histogram, 0.5) == pytest.approx(median(sample))
    assert histogram_percentile(histogram, 0.9) == pytest.approx(p90)


def test_timeliness_from_stages_recorded_outside_the_services_after_a_rebuild(world):
    from accord.escalations import tallies
    from accord.escalations.models import StagePeriod
    from accord.reports.selectors import timeliness

    sample = [*range(37, 0, -3), 0, 0, 60]
    escalation = world.raised(at=at(2026, 10, 5))
    StagePeriod.objects.bulk_create(
        StagePeriod(
            escalation=escalation,
            stage=7,
            started_on=dt.date(2026, 10, 5),
            working_days=5,
            ended_on=dt.date(2026, 11, 2),
            working_days_taken=days,
            on_time=days <= 5,
        )
        for days in sample
    )
    assert 7 not in timeliness(world.partnership, PERIOD)  # written around the services
    tallies.rebuild(world.partnership.pk)
    row = timeliness(world.partnership, PERIOD)[7]
    assert row["completed"] == len(sample) and row["median_working_days"] == 17.5
    assert row["within_timescale_percent"] == round(100 * sum(d <= 5 for d in sample) / len(sample))


def test_low_challenge_and_trend_use_the_agencys_own_history(world):
    """Health raised 4 a quarter for the four quarters before PERIOD and none in it: flagged
    (P(0 | 4) < 5%); the trend counts each quarter."""
    for n in range(1, 5):
        earlier = PERIOD.previous(n)
        for day in range(4):
            d = earlier.start + dt.timedelta(days=1 + day)
            world.raised(at=at(d.year, d.month, d.day))
    world.raised(at=at(2026, 10, 6), raiser=world.practitioner_social, with_agency=world.health)
    f = pdg_figures(world.partnership, PERIOD)
    health = next(s for s in f.low_challenge if s.agency == world.health.name and s.direction == "raised")
    assert (
        health.observed == 0
        and health.expected == 4.0
        and health.probability == pytest.approx(0.018, abs=1e-3)
    )
    social = [s for s in f.low_challenge if s.agency == world.social.name and s.direction == "raised"]
    assert social == []  # one raised against a history of none: not low
    assert [t["raised"] for t in f.trend] == [4, 4, 4, 4, 1]
    assert [t["start"] for t in f.trend] == [PERIOD.previous(n).start for n in (4, 3, 2, 1, 0)]


def test_periods_before_the_records_begin_are_not_periods_of_none(world):
    """Records begin in the quarter before PERIOD: health raised 4 there and none in PERIOD.
    Expected is 4 (its one recorded quarter), not 1 (4 spread over four quarters, three of them
    before Accord held anything), so it is flagged; the trend shows only the two quarters
    Accord knows, never 0 for the three before."""
    earlier = PERIOD.previous(1)
    for day in range(4):
        d = earlier.start + dt.timedelta(days=1 + day)
        world.raised(at=at(d.year, d.month, d.day))
    world.raised(at=at(2026, 10, 6), raiser=world.practitioner_social, with_agency=world.health)
    f = pdg_figures(world.partnership, PERIOD)
    health = next(s for s in f.low_challenge if s.agency == world.health.name and s.direction == "raised")
    assert health.expected == 4.0 and health.observed == 0
    assert [(t["start"], t["raised"]) for t in f.trend] == [(earlier.start, 4), (PERIOD.start, 1)]


@pytest.mark.parametrize("top", [1, 2, 3])
def test_the_folded_matrix_equals_folding_every_pair(world, scene, top):
    """The page's matrix (the most involved agencies and "all other agencies") is computed from
    totals and the pairs among the shown agencies; it must equal folding the full matrix."""
    from accord.reports.views import grouped_matrix

    full = pdg_figures(world.partnership, PERIOD).matrix
    folded = pdg_figures(world.partnership, PERIOD, matrix_top=top).matrix
    shown = {a for pair in folded for a in pair} - {"All other agencies"}
    assert len(shown) == top
    assert folded == grouped_matrix(full, sorted(shown))
    assert sum(folded.values()) == sum(full.values()) == 5


def test_the_standing_item_lists_only_the_thematic_escalations_its_reader_may_see(world, client):
    """Rule 7 holds in the report's list too: a theme still at stage 1 is counted but its
    reference and summary are not shown to the PDG (it is not formal) nor to the business
    unit (which sees no escalation); a formal one is listed to the PDG."""
    with clock.set_to(at(2026, 11, 2)):
        low = world.raised(kind="theme", summary="Stage one theme only the agencies see")
        high = world.formal(kind="theme", summary="Formal theme the PDG works")
    for user, shown, hidden in (
        (world.pdg_member, [high], [low]),
        (world.admin, [], [low, high]),
    ):
        figures = pdg_figures(world.partnership, PERIOD, viewer=user)
        assert figures.themes_total == 2
        assert [t["reference"] for t in figures.themes_response] == [e.reference for e in shown]
        sign_in(client, user)
        page = client.get("/reports/pdg/", Q4_FORM).content.decode()
        for e in hidden:
            assert e.reference not in page and e.summary not in page
        for e in shown:
            assert e.reference in page
        client.logout()


def test_the_standing_item_follows_up_what_the_last_meeting_decided_and_asked_for(client, world):
    from accord.reports.models import PdgMeeting

    PdgMeeting.objects.create(
        partnership=world.partnership,
        held_on=dt.date(2026, 11, 10),
        discussed="The quarter's figures.",
        decided="Offer restorative supervision to both agencies' leads.",
        asked_for="The police to report their low challenge by January.",
    )
    sign_in(client, world.pdg_chair)
    html = client.get("/reports/pdg/").content.decode()
    assert "Following up the meeting of 10 November 2026" in html
    assert "Offer restorative supervision" in html and "report their low challenge" in html
    client.logout()
    sign_in(client, world.executive)  # the meeting's record is the PDG's working note
    assert "Following up the meeting" not in client.get("/reports/pdg/").content.decode()


def test_the_standing_item_lists_what_is_before_the_pdg_and_what_is_overdue(client, world):
    """The PDG sees its open formal escalations, soonest due first, with its latest offer and
    the facilitator appointed now; everyone who reads the report sees the overdue figures
    (small ones hidden from the executive); the page's queries do not grow with them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accord.escalations.models import PdgActionKind

    formal = world.formal()
    services.escalation_pdg_action(
        actor=world.pdg_chair,
        escalation=formal,
        action=PdgActionKind.RESTORATIVE_FACILITATOR,
        facilitator_username=world.facilitator.username,
    )
    with clock.set_to(at(2026, 11, 2)):
        world.raised()  # stage 1, overdue by today
    sign_in(client, world.pdg_chair)
    page = client.get("/reports/pdg/")
    rows, total = page.context["formal_open"]
    assert total == 1 and rows[0].reference == formal.reference
    assert rows[0].offer == "Offer a restorative facilitator"
    assert rows[0].facilitator == world.facilitator.get_full_name()
    assert dict(page.context["overdue"]) == {"Stage 1": 1}
    html = page.content.decode()
    assert formal.reference in html and "Overdue now" in html

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/reports/pdg/").status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for _ in range(3):
        world.formal()
    assert queries() == before
    client.logout()
    sign_in(client, world.executive)
    shown = client.get("/reports/pdg/")
    assert shown.context["formal_open"] is None  # the executive sees no escalation
    assert dict(shown.context["overdue"]) == {"Stage 1": "fewer than 5"}


def test_an_agency_with_no_history_is_compared_with_its_own_kind_by_size(world):
    """Two more health trusts join: one large (300 staff) that raised 12 in PERIOD, one small
    (100 staff) that raised none. Health's own trust has a history; the small one has none, so
    it is expected to raise as its kind does per head: 12 / (300) × 100 = 4, and 0 against 4
    happens by chance 1.8 % of the time: flagged, saying on what basis. Without sizes it is
    compared with its kind's average, and a kind of one is compared with the partnership."""
    from accord.partnership.models import AgencyKind, PartnershipAgency
    from accord.testing.factories import UserFactory

    p = world.partnership
    large = AgencyFactory(name="Large Trust", kind=AgencyKind.HEALTH_PROVIDER, partnerships=[p])
    small = AgencyFactory(name="Small Trust", kind=AgencyKind.HEALTH_PROVIDER, partnerships=[p])
    PartnershipAgency.objects.filter(partnership=p, agency=large).update(staff=300)
    PartnershipAgency.objects.filter(partnership=p, agency=small).update(staff=100)
    from accord.partnership.models import Role

    raiser = UserFactory(username="large.practitioner", agency=large, roles=[(p, Role.PRACTITIONER)])
    for day in range(12):
        world.raised(at=at(2026, 10, 5 + day), raiser=raiser)
    f = pdg_figures(p, PERIOD)
    flagged = next(s for s in f.low_challenge if s.agency == "Small Trust" and s.direction == "raised")
    assert (flagged.expected, flagged.basis, flagged.observed) == (4.0, "kind_by_size", 0)
    assert flagged.probability == pytest.approx(0.018, abs=1e-3)
    assert "in proportion to their size" in flagged.basis_text
    # Without its size, it is compared with its kind's average: (12 + 0) / 2 others = 6.
    PartnershipAgency.objects.filter(partnership=p, agency=small).update(staff=None)
    flagged = next(
        s
        for s in pdg_figures(p, PERIOD).low_challenge
        if s.agency == "Small Trust" and s.direction == "raised"
    )
    assert (flagged.expected, flagged.basis) == (6.0, "kind")


def test_a_whole_kind_of_agency_that_is_silent_is_flagged(client, world):
    """Four health providers (the world's trust and three more) raise and receive nothing in
    the period while social care and probation raise 6 each with one another: each trust,
    compared with its own kind (all 0), is never flagged, but the kind is: against the other
    kinds per agency ((6 + 6) / 3 agencies × 4 = 16 expected), then per head once every size
    is recorded, with a 95 % interval for its count, on the page."""
    from accord.partnership.models import AgencyKind, PartnershipAgency

    p = world.partnership
    for n in range(3):
        AgencyFactory(name=f"Trust {n}", kind=AgencyKind.HEALTH_PROVIDER, partnerships=[p])
    for day in range(6):
        world.raised(at=at(2026, 10, 5 + day), raiser=world.practitioner_social, with_agency=world.other)
        world.raised(
            at=at(2026, 11, 5 + day),
            raiser=world.practitioner_other,
            with_agency=world.social,
            with_practitioner_username="",
        )
    f = pdg_figures(p, PERIOD)
    silent = {(s.kind, s.direction): s for s in f.kind_silence}
    raised = silent[("Health provider", "raised")]
    assert (raised.agencies, raised.observed, raised.expected, raised.basis) == (4, 0, 16.0, "others")
    assert raised.probability < 0.001 and raised.interval == (0.0, 3.7)
    assert ("Health provider", "received") in silent
    assert not [s for s in f.low_challenge if s.agency.startswith("Trust") or s.agency == world.health.name]
    assert ("Children's social care", "raised") not in silent
    PartnershipAgency.objects.filter(partnership=p).update(staff=100)
    raised = next(s for s in pdg_figures(p, PERIOD).kind_silence if s.kind == "Health provider")
    # Per head: 12 raised by 300 staff (social care, probation, the IRU), times 400.
    assert (raised.expected, raised.basis) == (16.0, "others_by_size")
    assert "per head of staff" in raised.basis_text
    sign_in(client, world.pdg_chair)
    html = client.get("/reports/pdg/", Q4_FORM).content.decode()
    assert "Silence of a whole kind of agency" in html and "Health provider (4 agencies)" in html
    assert "0.0 to 3.7" in html
