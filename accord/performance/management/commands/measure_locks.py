"""How long other people wait while the business unit changes the ladder, a role or a line
manager on a large database (fill it first with ``generate_scale_data``; PostgreSQL only).

Each change runs in a thread on its own connection, as the settings page or ``protocol
import`` would run it. Meanwhile this thread, on another connection, acts as the other
users do, one after another every 50 ms: it raises an escalation, records a discussion on
an open escalation the change touches, and reads the list. Printed for each change: how
long it took, and the longest and 95th-percentile time those actions took while it ran
(the wait any lock it holds imposes on them). The actions write to the benchmark
partnership; run it on a benchmark database only."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connection, connections
from django.db.models import Count

from accord.core import clock
from accord.escalations import services
from accord.escalations.models import Escalation, Status
from accord.escalations.protocol import protocol_apply
from accord.partnership.models import Partnership, Role, RoleAssignment, User
from accord.partnership.protocol import document_of
from accord.testing.factories import raise_details


class Command(BaseCommand):
    help = "Measure how long a ladder, role or line-manager change makes other users wait (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--only", default="", help="Measure only the changes whose name contains this.")

    def handle(self, *args, seed: int, only: str, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Locks are measured on PostgreSQL (SQLite lets one writer in at a time).")
        partnership = Partnership.objects.filter(slug="benchmark").first()
        if partnership is None:
            raise CommandError("Run generate_scale_data first.")
        rng = random.Random(seed)
        size = Escalation.objects.filter(partnership=partnership).count()
        open_ids = list(
            Escalation.objects.filter(partnership=partnership, status=Status.OPEN).values_list(
                "pk", flat=True
            )
        )
        self.stdout.write(f"{size:,} escalations in the benchmark partnership, {len(open_ids):,} open")
        manager = User.objects.get(username="bench.manager")
        practitioner = User.objects.get(username="bench.practitioner")
        admin = User.objects.filter(
            role_assignments__partnership=partnership, role_assignments__role=Role.BUSINESS_UNIT
        ).first()
        agencies = list(partnership.agencies.exclude(pk=practitioner.agency_id)[:1])

        def act() -> None:
            """One thing another user does."""
            choice = rng.random()
            if choice < 0.34:
                services.escalation_raise(
                    actor=practitioner,
                    partnership=partnership,
                    details=raise_details(with_agency=agencies[0], with_practitioner_username=""),
                    immediate_danger=False,
                )
            elif choice < 0.67:
                e = Escalation.objects.get(pk=rng.choice(open_ids))
                party = e.raised_by
                services.escalation_record_discussion(
                    actor=party, escalation=e, held_on=clock.today(), note="Spoke again today."
                )
            else:
                list(Escalation.objects.visible_to(manager).filter(partnership=partnership)[:25])

        document = document_of(partnership)
        longer = {**document, "stages": [dict(s) for s in document["stages"]]}
        for stage in longer["stages"]:
            stage["routine_working_days"] += 1
        who_works = {**document, "stages": [dict(s) for s in document["stages"]]}
        second = who_works["stages"][1]
        second["worked_by"] = "senior_leaders" if second["worked_by"] == "managers" else "managers"
        busiest_raiser = (
            User.objects.filter(escalations_raised__partnership=partnership)
            .exclude(line_manager__isnull=True)
            .annotate(raised=Count("escalations_raised"))
            .order_by("-raised")
            .first()
        )
        other_manager = (
            User.objects.filter(agency=busiest_raiser.agency).exclude(pk=busiest_raiser.pk).first()
        )

        changes: list[tuple[str, Callable[[], None]]] = [
            ("nothing (the same actions for 30 seconds, for comparison)", lambda: time.sleep(30)),
            (
                "every stage's timescale (due dates of every open escalation move)",
                lambda: protocol_apply(actor=admin, partnership=partnership, document=longer),
            ),
            (
                "the timescales back",
                lambda: protocol_apply(actor=admin, partnership=partnership, document=document),
            ),
            (
                "who works stage 2 (who sees every escalation past it is recounted)",
                lambda: protocol_apply(actor=admin, partnership=partnership, document=who_works),
            ),
            (
                "who works stage 2, back",
                lambda: protocol_apply(actor=admin, partnership=partnership, document=document),
            ),
            (
                "a role given to the busiest manager",
                lambda: RoleAssignment.objects.get_or_create(
                    user=manager, partnership=partnership, role=Role.SENIOR_LEADER
                ),
            ),
            (
                "that role taken away",
                lambda: RoleAssignment.objects.filter(
                    user=manager, partnership=partnership, role=Role.SENIOR_LEADER
                ).delete(),
            ),
            (
                f"a new line manager for the busiest raiser ({busiest_raiser.raised:,} raised)",
                lambda: _set_line_manager(busiest_raiser, other_manager),
            ),
        ]
        self.stdout.write(f"{'change':<70} {'took':>8} {'others: max':>12} {'p95':>8} {'n':>4}")
        for name, change in changes:
            if only and only not in name:
                continue
            took, waits = _measure(change, act)
            p95 = statistics.quantiles(waits, n=20)[-1] if len(waits) >= 20 else max(waits, default=0)
            self.stdout.write(
                f"{name:<70} {took:>7.2f}s {max(waits, default=0):>11.3f}s {p95:>7.3f}s {len(waits):>4}"
            )


def _set_line_manager(person: User, manager: User) -> None:
    person.line_manager = manager
    person.save(update_fields=["line_manager"])


def _measure(change: Callable[[], None], act: Callable[[], None]) -> tuple[float, list[float]]:
    done = threading.Event()
    took: list[float] = []
    failure: list[BaseException] = []

    def run() -> None:
        started = time.perf_counter()
        try:
            change()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failure.append(exc)
        finally:
            took.append(time.perf_counter() - started)
            connections.close_all()
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    waits = []
    while not done.is_set():
        started = time.perf_counter()
        act()
        waits.append(time.perf_counter() - started)
        time.sleep(0.05)
    thread.join()
    close_old_connections()
    if failure:
        raise failure[0]
    return took[0], waits
