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
