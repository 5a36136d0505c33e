"""The scale-data generator: deterministic, realistic in shape, and usable by the benchmark."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accord.escalations import visibility
from accord.escalations.models import Child, Escalation, Event
from accord.partnership.models import Partnership, User

pytestmark = pytest.mark.django_db


def _generate(settings, seed):
    settings.DEBUG = True
    call_command(
        "generate_scale_data", escalations=300, users=120, agencies=12, years=2, seed=seed, batch=100
    )
    qs = Escalation.objects.filter(partnership__slug="benchmark").order_by("reference")
    return list(qs.values_list("reference", "highest_stage", "status", "raising_agency__name", "urgency"))


def test_it_generates_a_realistic_spread(settings):
    rows = _generate(settings, 7)
    assert len(rows) == 300
    stages = [r[1] for r in rows]
    assert stages.count(1) > stages.count(2) > stages.count(4) > 0  # most settle at stage 1
    assert {r[2] for r in rows} >= {"open", "resolved", "withdrawn"}
    by_agency = {}
    for r in rows:
        by_agency[r[3]] = by_agency.get(r[3], 0) + 1
    assert max(by_agency.values()) > 3 * min(by_agency.values())  # a few agencies raise most
    assert Event.objects.count() >= 3 * 300
    assert Child.objects.exists() and User.objects.filter(username="bench.manager").exists()
    # Its bulk inserts pass by what keeps the table of who may see which: it is counted at the end.
    assert visibility.differences() == (0, 0, 0)
    manager = User.objects.get(username="bench.manager")
    assert (
        visibility.count_visible(manager, manager.role_assignments.get().partnership_id)
        == (Escalation.objects.visible_to(manager).count())
        > 0
    )


def test_it_is_deterministic_for_a_seed(settings):
    first = _generate(settings, 3)
    Escalation.objects.all().delete()
    Partnership.objects.filter(slug="benchmark").delete()
    User.objects.filter(username__startswith="bench.").delete()
    from accord.partnership.models import Agency

    Agency.objects.filter(name__startswith="Benchmark agency").delete()
    second = _generate(settings, 3)
    assert [r[1:] for r in first] == [r[1:] for r in second]


def test_it_refuses_without_debug_or_twice(settings):
    with pytest.raises(CommandError):
        call_command("generate_scale_data", escalations=10)
    _generate(settings, 1)
    with pytest.raises(CommandError):
        call_command("generate_scale_data", escalations=10)


def test_the_benchmark_times_the_pages_asked_for(settings):
    import io

    _generate(settings, 5)
    out = io.StringIO()
    call_command("benchmark", requests=2, skip_pdf=True, only="api/v1", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Database: ") and "300 escalations; 2 warm requests each" in lines[0]
    timed = [line.split()[0] for line in lines[2:]]
    assert timed == ["GET"]  # only the API's list, out of a dozen pages
    name, median, p95, queries = lines[2].rsplit(None, 3)
    assert float(p95) >= float(median)
    assert name == "GET /api/v1/escalations" and float(median) > 0 and int(queries) > 0


def test_a_load_run_signs_in_as_the_busiest_people_and_a_sample_doing_ordinary_work(settings):
    import datetime as dt

    from django.utils import timezone

    from accord.escalations.models import OPEN_STATUSES
    from accord.performance.management.commands.generate_scale_data import (
        BENCH_PASSWORD,
        load_run_people,
    )

    _generate(settings, 2)
    people = load_run_people()
    assert people == load_run_people()  # the same sample from the same data
    practitioners, managers = people["practitioners"], people["managers"]
    assert practitioners[0] == "bench.practitioner" and managers[0] == "bench.manager"
    assert len(practitioners) > 1 and len(managers) > 1 and len(set(practitioners)) == len(practitioners)
    year_ago = timezone.now() - dt.timedelta(days=365)
    for name in practitioners + managers:
        user = User.objects.get(username=name)
        assert user.check_password(BENCH_PASSWORD), name
    for name in practitioners[1:]:
        user = User.objects.get(username=name)
        assert user.role_assignments.get().role == "practitioner"
        assert Escalation.objects.filter(raised_by=user, raised_at__gte=year_ago).exists(), name
    for name in managers[1:]:
        user = User.objects.get(username=name)
        assert user.role_assignments.get().role == "manager"
        assert Escalation.objects.filter(raising_agency=user.agency, status__in=OPEN_STATUSES).exists()
    # Nobody else was given a password.
    assert not [
        u.username
        for u in User.objects.filter(username__startswith="bench.user").exclude(
            username__in=practitioners + managers
        )
        if u.has_usable_password()
    ]


def test_the_benchmark_times_the_business_units_settings_pages(settings):
    import io

    _generate(settings, 5)
    out = io.StringIO()
    call_command("benchmark", requests=2, skip_pdf=True, only="people", stdout=out)
    timed = [line.rsplit(None, 3) for line in out.getvalue().splitlines()[2:]]
    assert [name.split(",")[0] for name, *_ in timed] == ["people"] * 3
    assert all(float(median) > 0 and int(queries) > 0 for _name, median, _p95, queries in timed)
