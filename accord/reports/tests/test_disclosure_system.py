"""Disclosure control over a report as one system: whatever a reader sets beside each other
(the one-way tables, the agency matrix, the receiving agencies, the comparison with earlier
years, the Independent Reviewing Unit's figures), no withheld or small count can be worked
out. The reader here solves the published tables as linear equations (exact fractions):
a hidden cell is recovered exactly when it is a combination of the sums the tables publish."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.escalations.services import PartyDetails
from accord.reports.annual import annual_tables
from accord.reports.disclosure import Hidden, is_hidden
from accord.reports.selectors import OTHERS, AgencySignal, Figures, Period, low_challenge_shown, suppressed
from accord.reports.views import LABELS, grouped_matrix

THRESHOLD = 5
FORMAL_FROM = 3


def rank(rows: list[dict]) -> int:
    """The rank of a system of sparse rows, by plain Gaussian elimination in fractions."""
    rows = [{k: Fraction(v) for k, v in r.items() if v} for r in rows]
    found = 0
    while rows:
        row = rows.pop()
        if not row:
            continue
        found += 1
        var = next(iter(row))
        pivot = row[var]
        rest = []
        for other in rows:
            if var in other:
                factor = other[var] / pivot
                other = {k: other.get(k, 0) - factor * row.get(k, 0) for k in other.keys() | row.keys()}
                other = {k: v for k, v in other.items() if v}
            rest.append(other)
        rows = rest
    return found


def recoverable(published: dict, equations: list[dict]) -> list:
    """The hidden cells a reader can work out: those whose unit row lies in the span of the
    published equations restricted to the hidden cells (what is shown moves to the right-hand
    side and changes nothing)."""
    hidden = {k for k, v in published.items() if is_hidden(v)}
    system = [{k: c for k, c in eq.items() if k in hidden} for eq in equations]
    system = [eq for eq in system if eq]
    base = rank(system)
    return [cell for cell in sorted(hidden, key=str) if rank([*system, {cell: 1}]) == base]


def stage_number(row) -> int | None:
    """A stage row's number, as a report shows it ("3" or "3: Senior leaders"); none for a
    stage no longer on the ladder, which a report names only."""
    head = str(row).split(":")[0]
    return int(head) if head.isdigit() else None


def published_equations(report: dict) -> tuple[dict, list[dict]]:
    """What a reader knows from a report given as: ``total``, ``tables`` ({name: {item: value}},
    each adding up to the total), ``raising`` (adding up to the total), ``receiving``, ``matrix``
    ({(raiser, receiver): value}, its columns adding up to the receiving agencies and each row
    to its agency's raising count plus what the reader is taken to know of how many agencies
    its escalations named), ``formal`` (the formal stages' sum), ``iru_total`` and ``iru``
    ({name: {item: value}}, each adding up to the IRU's total, which is the conference and
    review origins' sum)."""
    cells: dict = {("total",): report["total"], ("formal",): report["formal"], ("iru",): report["iru_total"]}
    equations: list[dict] = []

    def add(name, counts, margin):
        for item, value in counts.items():
            cells[(name, item)] = value
        equations.append({margin: -1, **{(name, item): 1 for item in counts}})

    for name, counts in report["tables"].items():
        add(name, counts, ("total",))
    add("raising", report["raising"], ("total",))
    for name, counts in report["iru"].items():
        add(f"iru {name}", counts, ("iru",))
    origins = report["tables"].get("origin")
    if origins is not None:
        equations.append(
            {("iru",): -1, **{("origin", o): 1 for o in ("conference", "review") if o in origins}}
        )
    else:
        origins = {}
    for origin in report["iru"].get("origin", {}):
        if origin in origins:
            equations.append({("iru origin", origin): 1, ("origin", origin): -1})
    stages = report["tables"].get("stage", {})
    equations.append(
        {("formal",): -1, **{("stage", k): 1 for k in stages if (stage_number(k) or 0) >= FORMAL_FROM}}
    )
    for agency, value in report["receiving"].items():
        cells[("receiving", agency)] = value
    named = {a for pair in report["matrix"] for a in pair} - {OTHERS}
    for (raiser, receiver), value in report["matrix"].items():
        cells[("matrix", raiser, receiver)] = value
    for raiser in {r for r, _b in report["matrix"]}:
        eq = {("matrix", raiser, b): 1 for r, b in report["matrix"] if r == raiser}
        if raiser == OTHERS:
            eq[("total",)] = -1
            eq.update({("raising", a): 1 for a in named if a in report["raising"]})
        elif raiser in report["raising"]:
            eq[("raising", raiser)] = -1
        equations.append(eq)
    for receiver in {b for _r, b in report["matrix"]}:
        eq = {("matrix", r, receiver): 1 for r, b in report["matrix"] if b == receiver}
        agencies = [a for a in report["receiving"] if a not in named] if receiver == OTHERS else [receiver]
        eq.update({("receiving", a): -1 for a in agencies})
        equations.append(eq)
    return cells, equations


def check(shown_report: dict, full_report: dict) -> None:
    shown, equations = published_equations(shown_report)
    full, _ = published_equations(full_report)
    assert shown.keys() == full.keys()
    for key, value in shown.items():  # every hidden cell says truly what it is
        if isinstance(value, Hidden) and value.reason == "small":
            assert 1 <= full[key] < THRESHOLD, (key, full[key])
        elif isinstance(value, Hidden):
            assert full[key] >= 1, key
        else:
            assert value == full[key], key
    assert recoverable(shown, equations) == []
    # Nor from the range "fewer than 5" gives: small cells alone in a sum whose total is known
    # never add up to 1 each or 4 each.
    for eq in equations:
        hidden = [k for k in eq if is_hidden(shown.get(k))]
        if (
            len(hidden) > 1
            and all(shown[k].reason == "small" for k in hidden)
            and len({eq[k] for k in hidden}) == 1
        ):
            assert sum(full[k] for k in hidden) not in (len(hidden), len(hidden) * (THRESHOLD - 1)), hidden


# ---------------------------------------------------------------- over random histories

AGENCIES = ["Health", "Social care", "Police", "Schools", "Probation", "IRU"]
escalation = st.tuples(
    st.integers(0, 5),  # the raising agency
    st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),  # the agencies named
    st.integers(1, 4),  # the highest stage reached
    st.sampled_from(["case", "theme"]),
    st.sampled_from(["open", "resolved"]),
    st.sampled_from(["practitioner", "conference", "review"]),
    st.integers(0, 11),  # the month
)


def figures_of(history, top: int | None) -> tuple[Figures, dict]:
    def count(values):
        out: dict = {}
        for v in values:
            out[v] = out.get(v, 0) + 1
        return out

    rows = []
    for raiser, named, stage, kind, status, origin, month in history:
        receivers = [AGENCIES[i] for i in named if i != raiser] or [AGENCIES[(raiser + 1) % 6]]
        rows.append((AGENCIES[raiser], receivers, stage, kind, status, origin, f"M{month:02}"))
    matrix = count((r[0], b) for r in rows for b in r[1])
    if top is not None:
        involvement = count([a for pair, n in matrix.items() for a in pair for _ in range(n)])
        shown = sorted(sorted(involvement, key=lambda a: (-involvement[a], a))[:top])
        matrix = grouped_matrix(matrix, shown)
    iru = [r for r in rows if r[5] != "practitioner"]
    figures = Figures(
        period=Period(dt.date(2026, 4, 1), dt.date(2027, 3, 31)),
        total=len(rows),
        by_stage_reached=count(r[2] for r in rows),
        by_kind=count(r[3] for r in rows),
        # (Whom each was about: adults for odd stages, so the table varies with the others.)
        by_subject=count("adult" if r[2] % 2 else "child" for r in rows),
        by_urgency=count("routine" for _r in rows),
        by_origin=count(r[5] for r in rows),
        by_status=count(r[4] for r in rows),
        by_area={},
        by_theme={},
        by_raising_agency=count(r[0] for r in rows),
        by_receiving_agency=count(b for r in rows for b in r[1]),
        matrix=matrix,
        agencies=sorted({a for pair in matrix for a in pair}),
        outcomes={},
        follow_ups={},
        timeliness={},
        low_challenge=[],
        iru={
            "total": len(iru),
            "by_origin": count(r[5] for r in iru),
            "by_status": count(r[4] for r in iru),
            "by_stage_reached": count(r[2] for r in iru),
            "outcomes": {},
        },
        themes_response=[],
        formal_from=FORMAL_FROM,
        # Formal as the ladder was when they became so; with no review between, the sum of the
        # formal stages' counts.
        formal=sum(1 for r in rows if r[2] >= FORMAL_FROM),
        threshold=THRESHOLD,
    )
    return figures, count(r[6] for r in rows)


def as_report(data: dict, months: dict | None) -> dict:
    tables = {
        "stage": data["by_stage_reached"],
        "kind": data["by_kind"],
        "subject": data["by_subject"],
        "urgency": data["by_urgency"],
        "origin": data["by_origin"],
        "status": data["by_status"],
    }
    if months is not None:
        tables["months"] = months
    return {
        "total": data["total"],
        "formal": data["formal"],
        "tables": tables,
        "raising": data["by_raising_agency"],
        "receiving": data["by_receiving_agency"],
        "matrix": data["matrix"],
        "iru_total": data["iru_total"],
        "iru": {
            "origin": data["iru_by_origin"],
            "status": data["iru_by_status"],
            "stage": data["iru_by_stage_reached"],
        },
    }


@pytest.mark.once_on_sqlite  # (arithmetic on tables, no database: decision 16)
@settings(max_examples=300, deadline=None)
@given(st.lists(escalation, min_size=1, max_size=30), st.sampled_from([None, 1, 2, 3]))
def test_no_hidden_cell_of_a_report_can_be_worked_out_from_its_published_tables(history, top):
    figures, months = figures_of(history, top)
    # Every agency flagged as quiet, raising and receiving: the low-challenge table's counts.
    figures.low_challenge = [
        AgencySignal(a, direction, 0, 1.0, 0.01) for a in AGENCIES for direction in ("raised", "received")
    ]
    shown = suppressed(figures, months=months)
    # The low-challenge table shows a reader of hidden counts each count as the raising or
    # receiving table does: cells of the one system ``check`` solves, nothing beside it.
    for row in low_challenge_shown(figures, shown):
        table = shown["by_raising_agency" if row["direction"] == "raised" else "by_receiving_agency"]
        assert row["observed"] == table.get(row["agency"], 0)
        assert set(row) == {"agency", "direction", "observed"}  # no expectation, no chance
    full = {
        "total": figures.total,
        "formal": figures.formal,
        **{
            name: getattr(figures, name)
            for name in ("by_stage_reached", "by_kind", "by_subject", "by_urgency", "by_origin")
        },
        "by_status": figures.by_status,
        "by_raising_agency": figures.by_raising_agency,
        "by_receiving_agency": figures.by_receiving_agency,
        "matrix": figures.matrix,
        "iru_total": figures.iru["total"],
        "iru_by_origin": figures.iru["by_origin"],
        "iru_by_status": figures.iru["by_status"],
        "iru_by_stage_reached": figures.iru["by_stage_reached"],
    }
    check(as_report(shown, shown["months"]), as_report(full, months))


# ---------------------------------------------------------------- the annual report as published


def annual_as_report(data: dict) -> dict:
    tables = {key: dict(rows) for key, _t, rows in data["tables"]}
    matrix = {
        (raiser, receiver): value
        for raiser, cells in data["matrix"]
        for receiver, value in zip(data["matrix_agencies"], cells, strict=True)
        if value != 0
    }
    own = dict(data["compared"])[data["period"].start.year]
    codes = {str(label): code for code, label in LABELS["origin"].items()}
    return {
        "total": data["total"],
        "formal": own["formal"],
        "tables": {
            "stage": {k.removeprefix("Stage "): v for k, v in tables["stage"].items()},
            "kind": tables["kind"],
            "status": tables["status"],
            "origin": {codes[label]: v for label, v in tables["origin"].items()},
            "months": tables["months"],
            "compared case": {"Case escalations": own["case"], "Thematic escalations": own["theme"]},
        },
        "raising": tables["raising"],
        "receiving": tables["receiving"],
        "matrix": matrix,
        "iru_total": data["iru_total"],
        "iru": {"stage": {k.removeprefix("Stage "): v for k, v in data["iru_by_stage"]}},
    }


@pytest.mark.django_db
def test_the_annual_reports_withheld_cell_is_not_recovered_across_its_tables(world):
    """The case found: social care raised 6 with health, the conference chair 1 with health,
    health 7 with social care, probation 5 with social care. The raising table showed social
    care's 6 while the matrix withheld social care → health: its row held nothing else, so the
    6 was that cell, and health's column total of 7 then gave the IRU's 1 away. Protected
    together, neither can be worked out; and the same with multi-agency escalations."""

    def on(month, day):
        return timezone.make_aware(dt.datetime(2026, month, day, 10))

    for day in range(6):
        world.raised(at=on(5, 1 + day), raiser=world.practitioner_social, with_agency=world.health)
    world.from_conference(at=on(6, 3))
    for day in range(7):
        world.raised(at=on(7, 1 + day))
    for day in range(5):
        world.raised(at=on(8, 1 + day), raiser=world.practitioner_other, with_agency=world.social)
    shown, full = annual_tables(world.partnership, 2026), annual_tables(world.partnership, 2026, full=True)
    matrix = dict(zip([r for r, _c in shown["matrix"]], [c for _r, c in shown["matrix"]], strict=True))
    column = shown["matrix_agencies"].index(world.health.name)
    assert is_hidden(matrix[world.iru.name][column]) and is_hidden(matrix[world.social.name][column])
    check(annual_as_report(shown), annual_as_report(full))
    # Multi-agency: health raises three naming social care and probation.
    for day in range(3):
        world.raised(
            at=on(9, 1 + day),
            with_agency=world.social,
            other_parties=[PartyDetails(world.other.pk)],
        )
    check(
        annual_as_report(annual_tables(world.partnership, 2026)),
        annual_as_report(annual_tables(world.partnership, 2026, full=True)),
    )
