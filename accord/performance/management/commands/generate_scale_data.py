"""Generate a large, realistic, deterministic data set for benchmarks, by bulk inserts.

Not for production databases: it writes a separate partnership ("Benchmark") with its
own agencies and people, whose password is unusable, and a benchmark user of each kind
(bench.manager, bench.practitioner, bench.pdg) with the password ``bench-password``.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, reset_queries, transaction
from django.db.models import Exists, OuterRef
from django.test.utils import override_settings
from django.utils import timezone

from accord.core.crypto import encrypt_text, lookup_hash
from accord.escalations import tallies, visibility
from accord.escalations.models import (
    OPEN_STATUSES,
    Child,
    Discussion,
    Escalation,
    Event,
    EventType,
    Origin,
    Outcome,
    Resolution,
    StagePeriod,
    Status,
    Urgency,
)
from accord.escalations.services.closing import working_days_to_resolution
from accord.partnership.calendar import calendar_for
from accord.partnership.defaults import install_defaults
from accord.partnership.models import (
    Agency,
    AgencyKind,
    Partnership,
    PartnershipAgency,
    Role,
    RoleAssignment,
    User,
)

BENCH_PASSWORD = "bench-password"
# The two-step key of the benchmark's PDG users, so that a load run can sign them in.
BENCH_TOTP_SECRET = "BENCHTWOSTEPSECRETKEYFORLOADRUNS"
LOAD_RUN_PDG_USERS = 4
# The other people a load run signs in as, beside the busiest practitioner and manager:
# practitioners who raised an escalation in the last year, and managers of agencies with
# open escalations, drawn with a fixed seed.
LOAD_RUN_PRACTITIONERS = 40
LOAD_RUN_MANAGERS = 10
KINDS = [k for k in AgencyKind.values if k != AgencyKind.PARTNERSHIP_BUSINESS_UNIT]
STAGE_WEIGHTS = [70, 18, 8, 4]  # most settle at stage 1, few reach the PDG
OUTCOMES = list(Outcome.values)


def load_run_users() -> list[str]:
    """PDG users for a load run, each with its own authenticator (a code is accepted once per
    device): bench.pdg and bench.pdg2 onwards, sharing the key ``BENCH_TOTP_SECRET``. Idempotent."""
    import base64

    from django_otp.plugins.otp_totp.models import TOTPDevice

    partnership = Partnership.objects.get(slug="benchmark")
    first = User.objects.get(username="bench.pdg")
    names = ["bench.pdg"] + [f"bench.pdg{i}" for i in range(2, LOAD_RUN_PDG_USERS + 1)]
    for name in names:
        user, created = User.objects.get_or_create(
            username=name,
            defaults={
                "agency": first.agency,
                "password": first.password,
                "first_name": "Bench",
                "last_name": "PDG",
            },
        )
        if created:
            RoleAssignment.objects.create(user=user, partnership=partnership, role=Role.PDG_MEMBER)
        TOTPDevice.objects.update_or_create(
            user=user,
            name="Benchmark authenticator",
            defaults={"key": base64.b32decode(BENCH_TOTP_SECRET).hex(), "confirmed": True},
        )
    return names


def load_run_people() -> dict[str, list[str]]:
    """Who a load run's practitioners and managers sign in as: the busiest of each (the
    worst case: ``bench.practitioner`` raised 30% of the busiest agency's escalations,
    ``bench.manager`` manages that agency) first, then a sample of the generated people
    doing ordinary work, given the benchmark password. The same database gives the same
    sample. Idempotent."""
    partnership = Partnership.objects.get(slug="benchmark")
    bench_practitioner = User.objects.get(username="bench.practitioner")
    year_ago = timezone.now() - dt.timedelta(days=365)
    practitioners = sorted(
        User.objects.filter(
            username__startswith="bench.user",
            role_assignments__partnership=partnership,
            role_assignments__role=Role.PRACTITIONER,
        )
        .filter(
            Exists(Escalation.objects.filter(raised_by=OuterRef("pk"), raised_at__gte=year_ago)),
        )
        .values_list("username", flat=True)
    )
    managers = sorted(
        User.objects.filter(
            username__startswith="bench.user",
            role_assignments__partnership=partnership,
            role_assignments__role=Role.MANAGER,
        )
        .filter(
            Exists(Escalation.objects.filter(raising_agency=OuterRef("agency"), status__in=OPEN_STATUSES)),
        )
        .values_list("username", flat=True)
    )
    rng = random.Random(1)
    chosen = {
        "practitioners": rng.sample(practitioners, min(LOAD_RUN_PRACTITIONERS, len(practitioners))),
        "managers": rng.sample(managers, min(LOAD_RUN_MANAGERS, len(managers))),
    }
    User.objects.filter(username__in=chosen["practitioners"] + chosen["managers"]).update(
        password=bench_practitioner.password
    )
    return {
        "practitioners": ["bench.practitioner", *chosen["practitioners"]],
        "managers": ["bench.manager", *chosen["managers"]],
    }


class Command(BaseCommand):
    help = "Bulk-generate escalations, agencies and people for benchmarks (deterministic for a seed)."

    def add_arguments(self, parser):
        parser.add_argument("--escalations", type=int, default=10_000)
        parser.add_argument("--years", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--agencies", type=int, default=200)
        parser.add_argument("--users", type=int, default=50_000)
        parser.add_argument("--batch", type=int, default=2_000)
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, escalations, years, seed, agencies, users, batch, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "generate_scale_data writes test data; it runs only with DEBUG on, or with --force."
            )
        if Partnership.objects.filter(slug="benchmark").exists():
            raise CommandError("A benchmark partnership already exists: use a fresh database.")
        started = time.monotonic()
        rng = random.Random(seed)
        partnership, agency_ids, people, bench = self._people(rng, agencies, users)
        self.stdout.write(
            f"{len(agency_ids)} agencies and {sum(len(v) for v in people.values())} people in {time.monotonic() - started:.0f}s"
        )
        self._escalations(rng, partnership, agency_ids, people, bench, escalations, years, batch, started)
        load_run_users()
        # The tallies are counted by joins over the tables just filled: without statistics
        # PostgreSQL may plan them as nested loops over every pair of rows (a count that
        # takes minutes instead of seconds, unless autovacuum happened to analyse first).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        # Counting the tallies writes thousands of batch inserts too: with DEBUG on their SQL
        # would fill Django's query log as above (a further 116 MB at 1,000,000).
        with override_settings(DEBUG=False):
            tally_rows = tallies.rebuild(partnership.pk)
        self.stdout.write(f"{tally_rows} daily tallies counted ({time.monotonic() - started:.0f}s)")
        # Bulk inserts bypass what keeps the table of who may see which escalation: count it.
        seen = visibility.rebuild()
        self.stdout.write(f"{seen} pairs of who may see which escalation ({time.monotonic() - started:.0f}s)")
        # Bulk inserts leave the planner without statistics until autovacuum comes round;
        # without them PostgreSQL picks nested loops over millions of rows. VACUUM also
        # marks the pages all-visible, so counts can be answered from indexes alone.
        with connection.cursor() as cursor:
            vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
            cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
        self.stdout.write(self.style.SUCCESS(f"Done in {time.monotonic() - started:.0f}s"))

    # ------------------------------------------------------------------ people

    def _people(self, rng, n_agencies, n_users):
        with transaction.atomic():
            partnership = Partnership.objects.create(
                name="Benchmark Safeguarding Children Partnership",
                slug="benchmark",
                reference_prefix="BEN",
                front_door_phone="0300 000 0000",
                emergency_wording="",
            )
            install_defaults(partnership)
            agencies = Agency.objects.bulk_create(
                [
                    Agency(name=f"Benchmark agency {i:03d}", kind=KINDS[i % len(KINDS)])
                    for i in range(n_agencies)
                ]
            )
            PartnershipAgency.objects.bulk_create(
                [PartnershipAgency(partnership=partnership, agency=a) for a in agencies]
            )
            unusable = make_password(None)
            rows = []
            for i in range(n_users):
                agency = agencies[i % len(agencies)]
                rows.append(
                    User(
                        username=f"bench.user{i:06d}",
                        first_name="Bench",
                        last_name=f"User {i}",
                        email=f"bench.user{i}@bench.invalid",
                        agency=agency,
                        password=unusable,
                    )
                )
            created = []
            for start in range(0, len(rows), 5000):
                created += User.objects.bulk_create(rows[start : start + 5000])
            roles = []
            managers, seniors = {}, {}
            for user in created:
                if user.agency_id not in seniors:
                    seniors[user.agency_id] = user
                    roles.append(RoleAssignment(user=user, partnership=partnership, role=Role.SENIOR_LEADER))
                elif user.agency_id not in managers:
                    managers[user.agency_id] = user
                    roles.append(RoleAssignment(user=user, partnership=partnership, role=Role.MANAGER))
                else:
                    roles.append(RoleAssignment(user=user, partnership=partnership, role=Role.PRACTITIONER))
            RoleAssignment.objects.bulk_create(roles, batch_size=5000)
            password = make_password(BENCH_PASSWORD)
            bench = {}
            for username, role, agency in (
                ("bench.manager", Role.MANAGER, agencies[0]),
                ("bench.practitioner", Role.PRACTITIONER, agencies[0]),
                ("bench.pdg", Role.PDG_CHAIR, agencies[1]),
            ):
                user = User.objects.create(
                    username=username, agency=agency, password=password, first_name="Bench", last_name=role
                )
                RoleAssignment.objects.create(user=user, partnership=partnership, role=role)
                bench[username] = user
            # The busy manager manages the first agency's practitioners.
            User.objects.filter(agency=agencies[0], role_assignments__role=Role.PRACTITIONER).update(
                line_manager=bench["bench.manager"]
            )
        by_agency = {}
        for user in created:
            by_agency.setdefault(user.agency_id, []).append(user.pk)
        return partnership, [a.pk for a in agencies], by_agency, bench

    # ------------------------------------------------------------------ escalations

    def _escalations(self, rng, partnership, agency_ids, people, bench, n, years, batch, started):
        calendar = calendar_for(partnership)
        stages = {s.number: s for s in partnership.stages.all()}
        area_ids = list(partnership.areas_of_disagreement.values_list("pk", flat=True))
        theme_ids = list(partnership.practice_themes.values_list("pk", flat=True))
        now = timezone.now()
        today = timezone.localdate()
        span = dt.timedelta(days=365 * years)
        # A few agencies raise most escalations (Zipf-like weights).
        weights = [1 / (i + 1) ** 0.9 for i in range(len(agency_ids))]
        encrypted_names = [encrypt_text(f"Child {i}") for i in range(500)]
        theme_through = Escalation.themes.through
        counter = 0
        for chunk_start in range(0, n, batch):
            size = min(batch, n - chunk_start)
            with transaction.atomic():
                rows = []
                plans = []
                for _ in range(size):
                    counter += 1
                    raiser_agency, with_agency = rng.choices(agency_ids, weights=weights, k=2)
                    if with_agency == raiser_agency:
                        with_agency = agency_ids[(agency_ids.index(raiser_agency) + 1) % len(agency_ids)]
                    raised_at = now - span * (rng.random() ** 1.3)
                    age_days = (now - raised_at).days
                    highest = rng.choices([1, 2, 3, 4], weights=STAGE_WEIGHTS)[0]
                    urgent = rng.random() < 0.08
                    if age_days > 60:
                        status = rng.choices(
                            [Status.RESOLVED, Status.WITHDRAWN, Status.OPEN], weights=[88, 10, 2]
                        )[0]
                    else:
                        status = rng.choices(
                            [Status.OPEN, Status.RESOLVED, Status.PAUSED], weights=[60, 37, 3]
                        )[0]
                    raiser = rng.choice(people[raiser_agency])
                    if raiser_agency == agency_ids[0] and rng.random() < 0.3:
                        raiser = bench["bench.practitioner"].pk
                    origin = (
                        Origin.PRACTITIONER
                        if rng.random() > 0.1
                        else rng.choice([Origin.CONFERENCE, Origin.CARE_REVIEW])
                    )
                    stage_start = (raised_at + dt.timedelta(days=3 * (highest - 1))).date()
                    days = stages[highest].working_days(Urgency.URGENT if urgent else Urgency.ROUTINE)
                    due = calendar.add_working_days(stage_start, days) if status == Status.OPEN else None
                    closed = (
                        raised_at + dt.timedelta(days=rng.randint(2, 40))
                        if status in (Status.RESOLVED, Status.WITHDRAWN)
                        else None
                    )
                    if closed and closed > now:
                        closed = now
                    rows.append(
                        Escalation(
                            partnership=partnership,
                            reference=f"BEN-{counter:07d}",
                            kind="case" if rng.random() < 0.95 else "theme",
                            status=status,
                            stage=highest,
                            highest_stage=highest,
                            urgency=Urgency.URGENT if urgent else Urgency.ROUTINE,
                            origin=origin,
                            raised_by_id=raiser,
                            raising_agency_id=raiser_agency,
                            with_agency_id=with_agency,
                            summary=f"Generated difference {counter}",
                            decision_challenged="Generated.",
                            concern="Generated.",
                            evidence="Generated.",
                            tried_so_far="Generated.",
                            desired_outcome="Generated.",
                            area_of_disagreement_id=rng.choice(area_ids),
                            raised_at=raised_at,
                            stage_started_on=stage_start,
                            due_date=due,
                            closed_at=closed,
                            # (the working days it took, as resolving records them; the rng untouched)
                            resolved_working_days=(
                                working_days_to_resolution(partnership, raised_at, closed)
                                if status == Status.RESOLVED
                                else None
                            ),
                            formal_at=raised_at + dt.timedelta(days=9) if highest >= 4 else None,
                        )
                    )
                    plans.append((highest, raised_at, closed, status, rng.randint(1, 3)))
                created = Escalation.objects.bulk_create(rows)
                children, periods, events, discussions, resolutions, themes = [], [], [], [], [], []
                for e, (highest, raised_at, closed, status, n_children) in zip(created, plans, strict=True):
                    if e.kind == "case":
                        for c in range(n_children):
                            reference = f"REF-{e.pk}-{c}"
                            children.append(
                                Child(
                                    escalation_id=e.pk,
                                    name=rng.choice(encrypted_names),
                                    agency_reference=encrypt_text(reference),
                                    agency_reference_hash=lookup_hash(reference),
                                )
                            )
                    themes.append(theme_through(escalation_id=e.pk, practicetheme_id=rng.choice(theme_ids)))
                    events.append(
                        Event(
                            escalation_id=e.pk,
                            type=EventType.RAISED,
                            at=raised_at,
                            actor_id=e.raised_by_id,
                            stage=1,
                            summary="",
                        )
                    )
                    for stage in range(1, highest + 1):
                        start = (raised_at + dt.timedelta(days=3 * (stage - 1))).date()
                        ended = start + dt.timedelta(days=3) if stage < highest or closed else None
                        taken = rng.randint(0, stages[stage].routine_working_days * 2) if ended else None
                        periods.append(
                            StagePeriod(
                                escalation_id=e.pk,
                                stage=stage,
                                started_on=start,
                                working_days=stages[stage].routine_working_days,
                                due_date=e.due_date if stage == highest else None,
                                ended_on=ended,
                                working_days_taken=taken,
                                on_time=(taken <= stages[stage].routine_working_days) if ended else None,
                            )
                        )
                        for d in range(rng.randint(1, 3)):
                            at = raised_at + dt.timedelta(days=3 * (stage - 1), hours=d + 1)
                            discussions.append(
                                Discussion(
                                    escalation_id=e.pk,
                                    stage=stage,
                                    recorded_by_id=e.raised_by_id,
                                    held_on=at.date(),
                                    with_manager=(stage == 1 and d == 0),
                                    note="Generated discussion.",
                                )
                            )
                            events.append(
                                Event(
                                    escalation_id=e.pk,
                                    type=EventType.DISCUSSION,
                                    at=at,
                                    actor_id=e.raised_by_id,
                                    stage=stage,
                                )
                            )
                        if stage > 1:
                            events.append(
                                Event(
                                    escalation_id=e.pk,
                                    type=EventType.FORMALLY_ESCALATED if stage == 4 else EventType.ESCALATED,
                                    at=raised_at + dt.timedelta(days=3 * (stage - 1)),
                                    actor_id=e.raised_by_id,
                                    stage=stage,
                                )
                            )
                    if status == Status.RESOLVED:
                        resolutions.append(
                            Resolution(
                                escalation_id=e.pk,
                                outcome=rng.choice(OUTCOMES),
                                agreed_way_forward="Generated.",
                                child_centred_outcome_achieved=rng.choice(["yes", "yes", "partly", "no"]),
                                stage=highest,
                                resolved_by_id=e.raised_by_id,
                                resolved_at=closed,
                                # A third record learning (the standing item lists and counts it).
                                learning="Generated learning." if e.pk % 3 == 0 else "",
                            )
                        )
                        events.append(
                            Event(
                                escalation_id=e.pk,
                                type=EventType.RESOLVED,
                                at=closed,
                                actor_id=e.raised_by_id,
                                stage=highest,
                            )
                        )
                    elif status == Status.WITHDRAWN:
                        events.append(
                            Event(
                                escalation_id=e.pk,
                                type=EventType.WITHDRAWN,
                                at=closed,
                                actor_id=e.raised_by_id,
                                stage=highest,
                            )
                        )
                Child.objects.bulk_create(children)
                StagePeriod.objects.bulk_create(periods)
                Event.objects.bulk_create(events)
                Discussion.objects.bulk_create(discussions)
                Resolution.objects.bulk_create(resolutions)
                theme_through.objects.bulk_create(themes)
            # With DEBUG on, Django keeps the last 9,000 statements' SQL; each batch insert is
            # megabytes of it, so without this the generator's memory grew to gigabytes.
            reset_queries()
            done = chunk_start + size
            if done % (batch * 10) == 0 or done == n:
                self.stdout.write(f"{done} escalations ({time.monotonic() - started:.0f}s)")
        self.stdout.write(
            f"today is {today}; {Escalation.objects.filter(partnership=partnership, status=Status.OPEN, due_date__lt=today).count()} open escalations are overdue"
        )
