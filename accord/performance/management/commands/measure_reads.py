"""Eight readers at once (PostgreSQL): how many reads of an escalation through the API they
make in a second, and how long each takes, with the reads audited as Accord audits them (a
sealed entry each, chained later by the worker), audited as they were before (each entry
appended to the chain under its lock as it was read), and not audited at all.

Each reader is a process of its own with its own connection and its own API token, asking
``GET /api/v1/escalations/{id}`` in-process through the whole middleware stack for
escalations its user may see, as fast as it can, for ``--seconds``. The rate limit is
lifted for the measurement (it counts as before in each mode). Run it on a benchmark
database (``generate_scale_data``; it reads as ``bench.manager``) or the demo (``--user``);
it writes audit entries and tokens there.
"""

from __future__ import annotations

import multiprocessing
import random
import statistics
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.test import Client

from accord.api.services import api_token_create
from accord.audit import services as audit_services
from accord.audit.models import PendingRead
from accord.escalations.models import Escalation
from accord.partnership.models import User

MODES = {
    "unaudited": "not audited",
    "chained": "audited, each entry chained under the lock as it is read (before)",
    "queued": "audited, each entry sealed and chained later by the worker (now)",
}


def _reader(mode: str, token: str, ids: list[int], seconds: float, seed: int, out) -> None:
    """One reader's loop, in a process of its own: its latencies in ms, sent back."""
    from accord.api import endpoints

    connections.close_all()  # (inherited closed before the fork; this process opens its own)
    settings.API_RATE_LIMIT_PER_MINUTE = 10**9
    entries: list[float] = []  # how long each read's audit entry took, waits included
    if mode == "unaudited":
        endpoints.audit_record = lambda **kwargs: None
    else:
        if mode == "chained":
            audit_services.READ_VERBS = frozenset()
        record = endpoints.audit_record

        def timed(**kwargs):
            started = time.perf_counter()
            try:
                return record(**kwargs)
            finally:
                entries.append((time.perf_counter() - started) * 1000)

        endpoints.audit_record = timed
    client = Client(SERVER_NAME="localhost")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    rng = random.Random(seed)
    for pk in ids[:5]:  # warm: the code, the connection, the token's minute
        client.get(f"/api/v1/escalations/{pk}", **headers)
    entries.clear()
    times: list[float] = []
    began = time.monotonic()
    end = began + seconds
    while time.monotonic() < end:
        started = time.perf_counter()
        response = client.get(f"/api/v1/escalations/{rng.choice(ids)}", **headers)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            out.send(("error", response.status_code))
            return
    out.send(("ok", (times, time.monotonic() - began, entries)))
    connections.close_all()


def _waiting_for_the_chain(stop: threading.Event, samples: list[int]) -> None:
    """Every 20 ms, how many connections wait for the audit chain's lock (on a connection of
    this thread's own): a count that does not depend on how busy the machine is."""
    try:
        with connection.cursor() as cursor:
            while not stop.is_set():
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
                    [audit_services._CHAIN_LOCK_KEY],
                )
                samples.append(cursor.fetchone()[0])
                stop.wait(0.02)
    finally:
        connection.close()


def _spread(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)
    return f"{statistics.median(ordered):.1f} / {ordered[max(int(len(ordered) * 0.95) - 1, 0)]:.1f}"


class Command(BaseCommand):
    help = (
        "Measure eight concurrent API readers with reads audited now, as before, and not at all (PostgreSQL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--readers", type=int, default=8)
        parser.add_argument("--seconds", type=float, default=20.0)
        parser.add_argument("--user", default="bench.manager", help="Who the readers read as.")
        parser.add_argument("--modes", default=",".join(MODES), help="Which of unaudited, chained, queued.")
        parser.add_argument(
            "--rounds",
            type=int,
            default=1,
            help="Measure the modes in turn this many times (a busy machine).",
        )

    def handle(self, *args, readers: int, seconds: float, user: str, modes: str, rounds: int, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "Concurrent readers are measured on PostgreSQL (SQLite lets one writer in at a time)."
            )
        reader_user = User.objects.filter(username=user).first()
        if reader_user is None:
            raise CommandError(f"No user {user}: run generate_scale_data first, or name one with --user.")
        ids = list(
            Escalation.objects.visible_to(reader_user).order_by("-pk").values_list("pk", flat=True)[:500]
        )
        if not ids:
            raise CommandError(f"{user} may see no escalation.")
        tokens = [api_token_create(actor=None, user=reader_user, expires_days=1)[1] for _ in range(readers)]
        self.stdout.write(
            f"{readers} readers, {seconds:g} s each mode, GET /api/v1/escalations/{{id}} over {len(ids)} "
            f"escalations {user} may see"
        )
        self.stdout.write(
            "| reads | reads a second | a read, median / p95 ms | its audit entry, median / p95 ms "
            "| readers waiting for the chain's lock: of the time, and at most |"
        )
        self.stdout.write("|---|---|---|---|---|")
        wanted = [m.strip() for m in modes.split(",") if m.strip()] * rounds
        for mode in wanted:
            if mode not in MODES:
                raise CommandError(f"No mode {mode}: choose from {', '.join(MODES)}.")
            audit_services.chain_pending_reads()  # each mode starts with nothing waiting
            connections.close_all()
            context = multiprocessing.get_context("fork")
            pipes, processes = [], []
            stop, samples = threading.Event(), []
            sampler = threading.Thread(target=_waiting_for_the_chain, args=(stop, samples))
            sampler.start()
            for n in range(readers):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_reader, args=(mode, tokens[n], ids, seconds, n, send))
                process.start()
                pipes.append(receive)
                processes.append(process)
            times: list[float] = []
            entries: list[float] = []
            rate = 0.0  # the readers' reads a second, each over its own measured time
            for receive in pipes:
                status, value = receive.recv()
                if status != "ok":
                    raise CommandError(f"A reader was answered {value} in mode {mode}.")
                theirs, took, their_entries = value
                times.extend(theirs)
                entries.extend(their_entries)
                rate += len(theirs) / took
            for process in processes:
                process.join()
            stop.set()
            sampler.join()
            waiting = sum(1 for n in samples if n) / max(len(samples), 1)
            self.stdout.write(
                f"| {MODES[mode]} | {rate:,.0f} | {_spread(times)} | {_spread(entries)} | "
                f"{waiting:.0%}, at most {max(samples, default=0)} |"
            )
            if mode == "queued":
                waiting = PendingRead.objects.count()
                started = time.monotonic()
                chained = audit_services.chain_pending_reads()
                self.stdout.write(
                    f"(then {chained:,} of the {waiting:,} reads waiting chained, as the worker's pass "
                    f"would, in {time.monotonic() - started:.2f} s)"
                )
