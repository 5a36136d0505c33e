"""Daily tallies: the reports' pre-aggregated counts, kept exact in the same transaction as
every change the escalation services make, and rebuildable from the records.

Dimensions counted on the day an escalation was raised (local date):
``total``, ``stage`` (highest stage reached), ``kind``, ``subject`` (whom it is about: a child,
an adult at risk or a family), ``urgency``, ``origin``,
``status``, ``area`` (each of its areas), ``theme``, ``raising``, ``receiving`` and ``pair`` ("raising:receiving",
once for each agency the difference is with),
``iru_status`` and ``iru_stage`` (conference and review escalations only: where they stand,
the highest stage they reached) and ``iru_outcome``, and ``formal`` (``reached``: it entered a
formal stage, formal as the ladder was then, so a later review that makes a stage formal or
not leaves the past's count as it was).
On the day of a resolution: ``outcome``, and where it recorded learning, ``learning`` (``all``)
and ``learning_theme`` (each of the escalation's practice themes; themes never change after
raising), taken back when retention removes the learning's words. On the day a follow-up is answered: ``held``
(whether the agreed way forward held) and, where it did not, ``after`` (what followed:
``none`` until a party reopens it or raises it again, when the count moves to ``reopened``
or ``raised_again``; so ``after`` always adds up to ``held`` ``not_held``). On the day a stage ended: ``taken<stage>`` (a
histogram of working days taken) and ``ontime`` (stages finished within their timescale).
On the day an escalation was resolved, while it stands resolved: ``resolved_days`` (key
``<language raised in>:<working days from raising to resolution>``, reckoned on the
partnership's calendar as it was then: ``Escalation.resolved_working_days``; moved back when
it is reopened).

Each is also rolled up by month (dimension ``m:<name>``, dated the first of the month), so a
period reads whole months from the roll-ups and only its partial months day by day.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Case, CharField, Count, F, Sum, Value, When
from django.db.models.functions import Cast, Concat, TruncDate, TruncMonth
from django.utils import timezone

from accord.partnership.models import Stage

from .models import (
    IRU_ORIGINS,
    AfterNotHeld,
    DailyTally,
    Escalation,
    FollowUp,
    Held,
    OtherParty,
    Resolution,
    StagePeriod,
    Status,
)

DIMENSIONS = (
    "total",
    "kind",
    "subject",
    "urgency",
    "origin",
    "raising",
    "receiving",
    "pair",
    "area",
    "theme",
    "status",
    "stage",
    "formal",
    "iru_status",
    "iru_stage",
    "iru_outcome",
    "outcome",
    "learning",
    "learning_theme",
    "held",
    "after",
    "ontime",
    *(f"taken{n}" for n in range(1, 10)),
    "takenx",
    "resolved_days",
)
Key = tuple[str, str]
RESOLVED_DAYS = "resolved_days"


def _day(moment: dt.datetime) -> dt.date:
    return timezone.localdate(moment)


def fixed_keys(escalation, theme_ids: Iterable[int], area_ids: Iterable[int] | None = None) -> list[Key]:
    """What never changes after an escalation is raised."""
    keys = [
        ("total", "all"),
        ("kind", escalation.kind),
        ("subject", escalation.subject),
        ("urgency", escalation.urgency),
        ("origin", escalation.origin),
        ("raising", str(escalation.raising_agency_id)),
    ]
    # One receiving count and one pair for each agency the difference is with.
    for agency_id in escalation.receiving_agency_ids():
        keys += [("receiving", str(agency_id)), ("pair", f"{escalation.raising_agency_id}:{agency_id}")]
    # Each of its areas of disagreement (several, or none where none was asked for): the
    # first, and the others once each.
    first = [escalation.area_of_disagreement_id] if escalation.area_of_disagreement_id else []
    keys += [("area", str(pk)) for pk in dict.fromkeys([*first, *(area_ids or ())])]
    keys += [("theme", str(pk)) for pk in theme_ids]
    return keys


GONE = "was:"  # a stage no longer on the ladder, by its key: ``was:<key>``


def reached_key(escalation) -> str:
    """The highest stage it reached, as the tallies count it: the stage's number on the ladder
    now, or ``was:<key>`` for a stage a review removed (its past keeps its own row)."""
    gone = getattr(escalation, "highest_stage_gone", "")
    return GONE + gone if gone else str(escalation.highest_stage)


def changing_keys(escalation) -> list[Key]:
    """What the lifecycle changes: where the escalation stands and the highest stage it reached."""
    reached = reached_key(escalation)
    keys = [("status", escalation.status), ("stage", reached)]
    if escalation.formal_at is not None:
        keys.append(("formal", "reached"))
    if escalation.origin in IRU_ORIGINS:
        keys += [("iru_status", escalation.status), ("iru_stage", reached)]
    return keys


def resolved_days_key(escalation) -> tuple[dt.date, str, str] | None:
    """What a resolved escalation counts as in ``resolved_days``: on the day it was resolved,
    its language and the working days it took (``resolved_working_days``, fixed when it was
    resolved); nothing while it is not resolved."""
    if escalation.status != Status.RESOLVED or escalation.resolved_working_days is None:
        return None
    key = f"{escalation.raised_language}:{escalation.resolved_working_days}"
    return _day(escalation.closed_at), RESOLVED_DAYS, key


def _dated_keys(escalation) -> list[tuple[dt.date, str, str]]:
    """Everything the lifecycle changes, each on its own day: ``changing_keys`` on the day
    it was raised, ``resolved_days`` on the day it was resolved."""
    day = _day(escalation.raised_at)
    keys = [(day, dim, key) for dim, key in changing_keys(escalation)]
    resolved = resolved_days_key(escalation)
    return [*keys, resolved] if resolved else keys


MONTHLY = "m:"  # a dimension's monthly roll-up: the same counts on the first day of each month


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def apply(partnership_id: int, deltas: Counter[tuple[dt.date, str, str]]) -> None:
    """Add each delta to its day's tally and to its month's roll-up."""
    both: Counter = Counter()
    for (day, dim, key), n in deltas.items():
        both[(day, dim, key)] += n
        both[(month_of(day), MONTHLY + dim, key)] += n
    _add(partnership_id, both)


def _add(partnership_id: int, counts: Counter[tuple[dt.date, str, str]]) -> None:
    """Add these counts to the tallies, in one statement (each key once)."""
    rows = [(partnership_id, day.isoformat(), dim, key, n) for (day, dim, key), n in counts.items() if n]
    if not rows:
        return
    # One statement for every row (each key appears once, as ON CONFLICT requires): row by
    # row, the round trips cost tens of milliseconds on every change.
    table = DailyTally._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (partnership_id, day, dimension, key, n) VALUES {values} "  # noqa: S608 - our own table name and placeholders
            f"ON CONFLICT (partnership_id, dimension, key, day) DO UPDATE SET n = {table}.n + EXCLUDED.n",
            [value for row in rows for value in row],
        )


def escalation_raised(escalation, theme_ids: Iterable[int], area_ids: Iterable[int] | None = None) -> None:
    day = _day(escalation.raised_at)
    keys = [(day, dim, key) for dim, key in fixed_keys(escalation, theme_ids, area_ids)]
    apply(escalation.partnership_id, Counter(dict.fromkeys(keys + _dated_keys(escalation), 1)))


def escalation_removed(
    escalation, theme_ids: Iterable[int], resolutions: Iterable, area_ids: Iterable[int] | None = None
) -> None:
    """Take back everything an escalation counted (when an imported one is removed): what it
    was raised as, where it stood, its outcomes and its learning. (It had no stages timed in Accord.)"""
    day = _day(escalation.raised_at)
    theme_ids = list(theme_ids)
    keys = [(day, dim, key) for dim, key in fixed_keys(escalation, theme_ids, area_ids)]
    deltas = Counter({dated: -1 for dated in keys + _dated_keys(escalation)})
    for resolution in resolutions:
        deltas[(_day(resolution.resolved_at), "outcome", resolution.outcome)] -= 1
        if escalation.origin in IRU_ORIGINS:
            deltas[(day, "iru_outcome", resolution.outcome)] -= 1
        deltas.subtract(_learning_keys(resolution, theme_ids))
    apply(escalation.partnership_id, deltas)


def remember(escalation) -> None:
    """Note what the escalation counts as now, before a service changes it."""
    escalation._tally_keys = _dated_keys(escalation)


def escalation_changed(escalation) -> None:
    """Move the escalation's counts from what it was (see ``remember``) to what it is."""
    before = getattr(escalation, "_tally_keys", None)
    if before is None:
        raise RuntimeError("escalation_changed needs remember() first")  # a programming error
    after = _dated_keys(escalation)
    if before == after:
        return
    deltas: Counter = Counter(after)
    deltas.subtract(before)
    apply(escalation.partnership_id, deltas)
    escalation._tally_keys = after


STAGE_KEYED = ("stage", "iru_stage", "ontime")
TAKEN_GONE = "takenx"  # working days taken at stages no longer on the ladder: key ``<key>:<days>``


def renumber_stages(partnership_id: int, changed: dict[int, int], gone: dict[int, str] | None = None) -> None:
    """After a review renumbered the ladder's stages (``changed``: old number → new): the
    counts by stage move with their stage, so each stage's figures stay its own. A stage the
    review removed (``gone``: old number → its key) keeps its past counts under its key
    (``was:<key>``; its working days taken in ``takenx``), never folded into another's."""
    gone = gone or {}
    if not changed and not gone:
        return
    dims = [*STAGE_KEYED, *(f"taken{n}" for n in range(1, 10))]
    dims += [MONTHLY + d for d in dims]
    rows = list(DailyTally.objects.filter(partnership_id=partnership_id, dimension__in=dims))
    if not rows:
        return
    moved: Counter = Counter()
    for row in rows:
        base = row.dimension.removeprefix(MONTHLY)
        prefix = MONTHLY if row.dimension.startswith(MONTHLY) else ""
        if base.startswith("taken"):
            number = int(base.removeprefix("taken"))
            if number in gone:
                dimension, key = prefix + TAKEN_GONE, f"{gone[number]}:{row.key}"
            else:
                dimension, key = f"{prefix}taken{changed.get(number, number)}", row.key
        elif row.key.startswith(GONE):
            dimension, key = row.dimension, row.key
        else:
            number = int(row.key)
            key = GONE + gone[number] if number in gone else str(changed.get(number, number))
            dimension = row.dimension
        moved[(row.day, dimension, key)] += row.n
    DailyTally.objects.filter(pk__in=[row.pk for row in rows]).delete()
    DailyTally.objects.bulk_create(
        DailyTally(partnership_id=partnership_id, day=day, dimension=dim, key=key, n=n)
        for (day, dim, key), n in moved.items()
        if n
    )


def _learning_keys(resolution, theme_ids: Iterable[int]) -> list[tuple[dt.date, str, str]]:
    """What a resolution's learning counts as: once, and once under each of its escalation's
    themes, on the day of the resolution (nothing where it recorded none)."""
    if not resolution.learning:
        return []
    day = _day(resolution.resolved_at)
    return [(day, "learning", "all"), *((day, "learning_theme", str(pk)) for pk in theme_ids)]


def _theme_ids(escalation) -> list[int]:
    return list(
        Escalation.themes.through.objects.filter(escalation_id=escalation.pk).values_list(
            "practicetheme_id", flat=True
        )
    )


def resolution_recorded(resolution, escalation) -> None:
    deltas = Counter({(_day(resolution.resolved_at), "outcome", resolution.outcome): 1})
    if escalation.origin in IRU_ORIGINS:
        deltas[(_day(escalation.raised_at), "iru_outcome", resolution.outcome)] += 1
    if resolution.learning:  # (the themes read only where there is learning to count)
        deltas.update(_learning_keys(resolution, _theme_ids(escalation)))
    apply(escalation.partnership_id, deltas)


def learning_removed(escalation_ids: Iterable[int]) -> None:
    """Take back what these escalations' resolutions counted as learning, before retention
    removes its words (the reports count learning that is still recorded)."""
    resolutions = list(
        Resolution.objects.filter(escalation_id__in=list(escalation_ids))
        .exclude(learning="")
        .values_list("escalation_id", "escalation__partnership_id", "resolved_at")
    )
    if not resolutions:
        return
    themes: dict[int, list[int]] = {}
    for escalation_id, theme_id in Escalation.themes.through.objects.filter(
        escalation_id__in={r[0] for r in resolutions}
    ).values_list("escalation_id", "practicetheme_id"):
        themes.setdefault(escalation_id, []).append(theme_id)
    by_partnership: dict[int, Counter] = {}
    for escalation_id, partnership_id, resolved_at in resolutions:
        day = _day(resolved_at)
        deltas = by_partnership.setdefault(partnership_id, Counter())
        deltas[(day, "learning", "all")] -= 1
        for theme_id in themes.get(escalation_id, []):
            deltas[(day, "learning_theme", str(theme_id))] -= 1
    for partnership_id, deltas in sorted(by_partnership.items()):
        apply(partnership_id, deltas)


def follow_up_answered(follow_up, partnership_id: int) -> None:
    day = _day(follow_up.answered_at)
    deltas = Counter({(day, "held", follow_up.held): 1})
    if follow_up.held == Held.NOT_HELD:
        deltas[(day, "after", AfterNotHeld.NONE)] += 1
    apply(partnership_id, deltas)


def follow_up_acted_on(follow_up, partnership_id: int) -> None:
    """A party acted on an agreed way forward that did not hold: counted on the answer's day."""
    day = _day(follow_up.answered_at)
    apply(
        partnership_id,
        Counter({(day, "after", AfterNotHeld.NONE): -1, (day, "after", follow_up.followed_by): 1}),
    )


def stage_ended(period, partnership_id: int) -> None:
    """A stage period ended. One at a stage no longer on the ladder (``period.stage_gone``:
    a review removed it while open escalations stood at it) counts under the stage's key."""
    if period.ended_on is None or period.working_days_taken is None:
        return
    days = str(period.working_days_taken)
    if getattr(period, "stage_gone", False):
        taken, stage = (TAKEN_GONE, f"{period.stage_key}:{days}"), GONE + period.stage_key
    else:
        taken, stage = (f"taken{period.stage}", days), str(period.stage)
    deltas = Counter({(period.ended_on, *taken): 1})
    if period.on_time:
        deltas[(period.ended_on, "ontime", stage)] += 1
    apply(partnership_id, deltas)


# ------------------------------------------------------------------ rebuilding from the records


def _text(expression):
    return Cast(expression, output_field=CharField())


def _reached():
    """The highest stage reached as ``reached_key`` gives it, in SQL."""
    return Case(
        When(highest_stage_gone="", then=_text(F("highest_stage"))),
        default=Concat(Value(GONE), F("highest_stage_gone"), output_field=CharField()),
        output_field=CharField(),
    )


def _sources(partnership_id: int):
    """(dimension, queryset of rows with day, key and n) for every dimension."""

    escalations = Escalation.objects.filter(partnership_id=partnership_id).annotate(
        day=TruncDate("raised_at")
    )
    columns = {
        "total": Value("all", output_field=CharField()),
        "kind": F("kind"),
        "subject": F("subject"),
        "urgency": F("urgency"),
        "origin": F("origin"),
        "raising": _text(F("raising_agency_id")),
        "receiving": _text(F("with_agency_id")),
        "pair": Concat(
            _text(F("raising_agency_id")), Value(":"), _text(F("with_agency_id")), output_field=CharField()
        ),
        "status": F("status"),
        "stage": _reached(),
    }
    for dimension, expression in columns.items():
        yield dimension, escalations.annotate(k=expression)
    others = OtherParty.objects.filter(escalation__partnership_id=partnership_id).annotate(
        day=TruncDate("escalation__raised_at")
    )
    yield "receiving", others.annotate(k=_text(F("agency_id")))
    yield (
        "pair",
        others.annotate(
            k=Concat(
                _text(F("escalation__raising_agency_id")),
                Value(":"),
                _text(F("agency_id")),
                output_field=CharField(),
            )
        ),
    )
    # The first area (``area_of_disagreement``), then any others (the same once each).
    yield (
        "area",
        escalations.filter(area_of_disagreement__isnull=False).annotate(
            k=_text(F("area_of_disagreement_id"))
        ),
    )
    others_areas = (
        Escalation.areas_of_disagreement.through.objects.filter(escalation__partnership_id=partnership_id)
        .exclude(areaofdisagreement_id=F("escalation__area_of_disagreement_id"))
        .annotate(day=TruncDate("escalation__raised_at"), k=_text(F("areaofdisagreement_id")))
    )
    yield "area", others_areas
    yield "theme", escalations.filter(themes__isnull=False).annotate(k=_text(F("themes__id")))
    yield (
        "formal",
        escalations.filter(formal_at__isnull=False).annotate(k=Value("reached", output_field=CharField())),
    )
    iru = escalations.filter(origin__in=IRU_ORIGINS)
    yield "iru_status", iru.annotate(k=F("status"))
    yield "iru_stage", iru.annotate(k=_reached())
    resolutions = Resolution.objects.filter(escalation__partnership_id=partnership_id)
    yield "outcome", resolutions.annotate(day=TruncDate("resolved_at"), k=F("outcome"))
    yield (
        "iru_outcome",
        resolutions.filter(escalation__origin__in=IRU_ORIGINS).annotate(
            day=TruncDate("escalation__raised_at"), k=F("outcome")
        ),
    )
    learned = resolutions.exclude(learning="").annotate(day=TruncDate("resolved_at"))
    yield "learning", learned.annotate(k=Value("all", output_field=CharField()))
    yield (
        "learning_theme",
        learned.filter(escalation__themes__isnull=False).annotate(k=_text(F("escalation__themes__id"))),
    )
    answered = FollowUp.objects.filter(escalation__partnership_id=partnership_id, answered_at__isnull=False)
    yield "held", answered.annotate(day=TruncDate("answered_at"), k=F("held"))
    yield (
        "after",
        answered.filter(held=Held.NOT_HELD).annotate(
            day=TruncDate("answered_at"),
            k=Case(
                When(followed_by="", then=Value(AfterNotHeld.NONE.value)),
                default=F("followed_by"),
                output_field=CharField(),
            ),
        ),
    )
    yield (
        RESOLVED_DAYS,
        Escalation.objects.filter(
            partnership_id=partnership_id, status=Status.RESOLVED, resolved_working_days__isnull=False
        ).annotate(
            day=TruncDate("closed_at"),
            k=Concat(
                F("raised_language"), Value(":"), _text(F("resolved_working_days")), output_field=CharField()
            ),
        ),
    )
    yield from _period_sources(partnership_id)


def _period_sources(partnership_id: int):
    """The stages finished: working days taken and whether within the timescale."""
    periods = StagePeriod.objects.filter(
        escalation__partnership_id=partnership_id, ended_on__isnull=False, working_days_taken__isnull=False
    )
    # A stage no longer on the ladder counts under its key (``renumber_stages``).
    keys = set(Stage.objects.filter(partnership_id=partnership_id).values_list("key", flat=True))
    gone = periods.exclude(stage_key="").exclude(stage_key__in=keys)
    kept = periods.exclude(pk__in=gone.values("pk"))
    for stage in sorted(set(kept.values_list("stage", flat=True).distinct())):
        yield (
            f"taken{stage}",
            kept.filter(stage=stage).annotate(day=F("ended_on"), k=_text(F("working_days_taken"))),
        )
    yield (
        TAKEN_GONE,
        gone.annotate(
            day=F("ended_on"),
            k=Concat(F("stage_key"), Value(":"), _text(F("working_days_taken")), output_field=CharField()),
        ),
    )
    yield "ontime", kept.filter(on_time=True).annotate(day=F("ended_on"), k=_text(F("stage")))
    yield (
        "ontime",
        gone.filter(on_time=True).annotate(
            day=F("ended_on"), k=Concat(Value(GONE), F("stage_key"), output_field=CharField())
        ),
    )


def _write(rows: Iterable[DailyTally], batch: int) -> int:
    """Insert rows in batches as they come, so memory does not grow with the data."""
    written, pending = 0, []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            DailyTally.objects.bulk_create(pending)
            written, pending = written + len(pending), []
    DailyTally.objects.bulk_create(pending)
    return written + len(pending)


ADD_BATCH = 1000  # counts added to tallies already written, in one statement


def rebuild(partnership_id: int, *, batch: int = 5000) -> int:
    """Recount every tally of the partnership from its records, then its monthly roll-ups."""
    written = 0
    with transaction.atomic():
        DailyTally.objects.filter(partnership_id=partnership_id).delete()
        # A dimension counted from more than one source (the first agency and the others a
        # difference is with) is written from the first and added to from the rest (one
        # row a day and key), a batch at a time: memory does not grow with the data.
        seen: set[str] = set()
        for dimension, qs in _sources(partnership_id):
            counts = qs.values("day", "k").annotate(n=Count("id")).order_by().iterator(chunk_size=batch)
            if dimension in seen:
                pending: Counter = Counter()
                for r in counts:
                    pending[(r["day"], dimension, r["k"])] += r["n"]
                    if len(pending) >= ADD_BATCH:
                        _add(partnership_id, pending)
                        pending = Counter()
                _add(partnership_id, pending)
                continue
            seen.add(dimension)
            written += _write(
                (
                    DailyTally(
                        partnership_id=partnership_id, day=r["day"], dimension=dimension, key=r["k"], n=r["n"]
                    )
                    for r in counts
                ),
                batch,
            )
        monthly = (
            DailyTally.objects.filter(partnership_id=partnership_id)
            .exclude(dimension__startswith=MONTHLY)  # never the roll-ups being written alongside
            .annotate(month=TruncMonth("day"))
            .values("dimension", "month", "key")
            .annotate(total=Sum("n"))
            .order_by()
            .iterator(chunk_size=batch)
        )
        written += _write(
            (
                DailyTally(
                    partnership_id=partnership_id,
                    day=r["month"],
                    dimension=MONTHLY + r["dimension"],
                    key=r["key"],
                    n=r["total"],
                )
                for r in monthly
            ),
            batch,
        )
    return written
