"""A period before Accord's records begin has no figures, not figures of 0: the standing item
says where the records begin (page, PDF, API), most of all for the executive, whose report
covers the last reporting year that has ended, often a year before a new partnership's
records."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils.formats import date_format

from accord.api.services import api_token_create
from accord.core import clock
from accord.reports.periods import latest_year, reporting_year
from accord.reports.selectors import Period, first_recorded_day, pdg_figures
from accord.reports.views import records_notice
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db


def test_no_records_at_all_is_said_to_be_unknown(world):
    figures = pdg_figures(world.partnership, Period(dt.date(2025, 4, 1), dt.date(2026, 3, 31)))
    assert figures.records_begin is None and figures.total == 0
    assert "not known, not 0" in records_notice(figures)


def test_the_executives_year_before_the_records_begin_says_so_on_page_and_api(client, world):
    world.raised()
    first = first_recorded_day(world.partnership)
    assert first == clock.today()
    year = reporting_year(world.partnership, latest_year(world.partnership, full=False))
    assert year.end < first  # the executive's year ended before anything was recorded
    sign_in(client, world.executive)
    page = client.get("/reports/pdg/").content.decode()
    assert 'id="records-notice"' in page and date_format(first, "j F Y") in page
    assert "after this period" in page
    _, token = api_token_create(actor=None, user=world.executive)
    body = client.get("/api/v1/reports/pdg", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["records_begin"] == first.isoformat()


def test_a_period_reaching_back_before_the_records_says_what_it_counts_and_one_after_says_nothing(world):
    world.raised()
    first = first_recorded_day(world.partnership)
    before = pdg_figures(world.partnership, Period(first - dt.timedelta(days=30), first))
    assert "count nothing from before that day" in records_notice(before)
    after = pdg_figures(world.partnership, Period(first, first + dt.timedelta(days=1)))
    assert records_notice(after) == "" and after.total == 1
