"""The scenarios, run against a real SMTP server on loopback, and what they add up to.

``run_concurrent``: several worker processes drain one outbox at once.
``run_staggered``: a long run, and a second one started while the first is still
draining: on the same timeline (more than a lease later), or on a clock set apart.
``run_crashes``: one worker at a time, killed with SIGKILL at seeded random moments and
restarted with a clock moved past the lease, until a last run finishes the outbox.
All return :class:`Figures`, counted from what the server received and what the outbox
says; the tests assert on them and ``figures`` prints them.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from journey.mail.render import message_id_for
from journey.models import NoticeStatus
from journey.settings import Settings
from tests.reliability.outbox import Outbox, count_status, rows
from tests.reliability.processes import RUN_TIMEOUT, Worker, workers
from tests.smtp_server import TRY_LATER, SmtpServer


@dataclass
class FlakySmtpServer(SmtpServer):
    """The test server, answering ``451 try later`` to every ``fail_every``-th DATA, and
    taking ``data_delay`` seconds over each DATA reply (a slow relay; other connections
    go on meanwhile). ``arrivals`` holds (``time.monotonic()``, connection) per message
    accepted."""

    fail_every: int = 0
    refusals: int = 0
    data_delay: float = 0.0
    arrivals: list[tuple[float, Any]] = field(default_factory=list)
    _seen: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self._seen += 1
            refuse = self.fail_every > 0 and self._seen % self.fail_every == 0
            self.refusals += refuse
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if refuse:
            return TRY_LATER
        reply = await super().handle_DATA(server, session, envelope)
        with self._lock:
            self.arrivals.append((time.monotonic(), session.peer))
        return reply

    def longest_connection(self) -> float:
        """Seconds from the first to the last message accepted on one connection (one
        delivery batch), for the longest of them."""
        spans: dict[Any, list[float]] = {}
        for at, peer in list(self.arrivals):
            spans.setdefault(peer, []).append(at)
        return max((max(times) - min(times) for times in spans.values()), default=0.0)


BATCH_SIZE = 50  # a worker's batch_size, unless a scenario says otherwise
SETTLE_EVERY: int = Settings.model_fields["settle_every"].default  # as shipped
CONNECTIONS: int = Settings.model_fields["smtp_connections"].default  # as shipped
# Outcomes a kill can leave unrecorded: a group not yet committed, and one in flight on
# each connection. Each is sent again after the restart, with the same Message-ID.
UNRECORDED_AT_MOST = SETTLE_EVERY - 1 + CONNECTIONS


@dataclass
class Figures:
    """One run, counted. ``lost``: due notices not ``sent`` in the outbox or never received."""

    scenario: str
    due: int
    delivered: int  # distinct due notices the server received
    received: int  # messages the server received, copies included
    duplicates: int  # received - distinct Message-IDs
    lost: int
    retries: int  # SMTP tries beyond the first, as recorded in the outbox
    kills: int
    wall_seconds: float
    workers: int
    distinct_message_ids: int = 0
    distinct_keys: int = 0
    unrecognisable: int = 0  # Message-ID not derived from the X-Journey-Key
    misrecorded: int = 0  # sent rows whose message_id is not the one derived from the key
    claimed_left: int = 0  # rows still claimed at the end
    claims_reclaimed: int = 0  # rows a killed worker held, taken up after the lease
    worst_copies_per_kill: int = 0
    refusals: int = 0  # 451 replies the server gave
    lease_seconds: int = 600
    batch_size: int = BATCH_SIZE
    longest_batch: float = 0.0  # seconds one batch (SMTP connection) took to send
    started_later: float = 0.0  # run_staggered: seconds after the first run the second began
    overlapped: bool = False  # run_staggered: the first run was still going then
    statuses: dict[str, int] = field(default_factory=dict)
    worker_counts: list[dict[str, Any]] = field(default_factory=list)

    def per_worker(self, name: str) -> list[int]:
        """One count (``sent``, ``unrecorded``, ``batches``, ``retry``…) for each worker."""
        return [int(counts[name]) for counts in self.worker_counts]

    def line(self) -> str:
        return (
            f"{self.scenario}: due {self.due}, delivered {self.delivered}, duplicates "
            f"{self.duplicates}, lost {self.lost}, retries {self.retries}, kills survived "
            f"{self.kills}, wall {self.wall_seconds:.1f} s ({self.workers} worker processes)"
        )


def _config(
    url: str,
    server: SmtpServer,
    now: datetime,
    name: str,
    lease_seconds: int,
    batch_size: int = BATCH_SIZE,
    connections: int = CONNECTIONS,
) -> dict[str, Any]:
    return {
        "url": url,
        "smtp_host": server.host,
        "smtp_port": server.port,
        "now": now.isoformat(),
        "worker": name,
        "batch_size": batch_size,
        "lease_seconds": lease_seconds,
        "settle_every": SETTLE_EVERY,
        "smtp_connections": connections,
    }


def run_concurrent(
    url: str,
    server: SmtpServer,
    outbox: Outbox,
    *,
    count: int,
    logs: Path,
    scenario: str = "concurrent",
) -> Figures:
    """``count`` workers, all started, then all told to go at once; wait for every one."""
    with workers() as started:
        for i in range(count):
            config = _config(url, server, outbox.at, f"worker-{i + 1}", lease_seconds=600)
            started.append(Worker(config, logs / f"worker-{i + 1}.log"))
        for worker in started:
            worker.wait_ready()
        began = time.perf_counter()
        for worker in started:
            worker.go()
        counts = [worker.finish() for worker in started]
        wall = time.perf_counter() - began
    figures = count_up(url, server, outbox, scenario, wall=wall, workers=count, kills=0)
    figures.worker_counts = counts
    return figures


def run_staggered(
    url: str,
    server: FlakySmtpServer,
    outbox: Outbox,
    *,
    lease_seconds: int,
    batch_size: int,
    later: float,
    logs: Path,
    scenario: str = "long run",
    skew: timedelta = timedelta(0),
) -> Figures:
    """Worker 1 starts at ``outbox.at``; ``later`` seconds on, while it is still draining,
    worker 2 starts with ``outbox.at`` plus the seconds that have really passed: the same
    timeline, as two well-synchronised hosts would have (the 09:00 run starting while the
    08:00 one is still going), or ``skew`` ahead of it. Both use ``lease_seconds`` and
    ``batch_size``, and one SMTP connection each, so that a batch takes as long to send
    as the scenario's sums say (messages x the server's delay).
    """
    with workers() as started:
        for name in ("worker-1", "worker-2"):
            config = _config(url, server, outbox.at, name, lease_seconds, batch_size, 1)
            started.append(Worker(config, logs / f"{name}.log"))
        first, second = started
        for worker in started:
            worker.wait_ready()
        began = time.perf_counter()
        first.go()
        time.sleep(later)
        elapsed = time.perf_counter() - began
        second.go(now=outbox.at + skew + timedelta(seconds=elapsed))
        overlapped = first.alive()
        counts = [worker.finish() for worker in started]
        wall = time.perf_counter() - began
    figures = count_up(url, server, outbox, scenario, wall=wall, workers=2, kills=0)
    figures.worker_counts = counts
    figures.lease_seconds, figures.batch_size = lease_seconds, batch_size
    figures.started_later = elapsed
    figures.overlapped = overlapped
    return figures


@dataclass(frozen=True)
class CrashPlan:
    """How to crash: ``kills`` SIGKILLs at moments drawn from ``random.Random(seed)``.

    Each moment is either ``by_time`` of the runs: a delay of up to ``latest`` seconds
    after the worker is told to go (claiming, gating, rendering or sending), or else just
    after the server has received 1 to ``most_messages`` more messages, plus up to
    ``jitter`` seconds: anywhere in the worker's send, record, send-next cycle. The second
    kind bounds how far each run gets, so the outbox outlasts the kills on any machine.
    """

    kills: int
    seed: int
    by_time: float = 0.2
    latest: float = 0.5
    most_messages: int = 25
    jitter: float = 0.02
    lease_seconds: int = 600

    def moments(self) -> list[tuple[int, float]]:
        """(messages to wait for, then seconds to wait) for each kill."""
        rng = random.Random(self.seed)
        out = []
        for _ in range(self.kills):
            if rng.random() < self.by_time:
                out.append((0, rng.uniform(0.0, self.latest)))
            else:
                out.append((rng.randint(1, self.most_messages), rng.uniform(0.0, self.jitter)))
        return out


def _wait_for_messages(server: SmtpServer, target: int, worker: Worker) -> None:
    """Until the server has received ``target`` messages in all, or the worker is done."""
    deadline = time.perf_counter() + RUN_TIMEOUT
    while len(server.messages) < target and worker.alive():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{worker.name} is stuck before message {target}")
        time.sleep(0.0005)


def _settle(server: SmtpServer, quiet: float = 0.05) -> None:
    """Wait until the server has received nothing new for ``quiet`` seconds (a message
    the dead worker finished sending may still be on its way through the server)."""
    seen = -1
    while seen != len(server.messages):
        seen = len(server.messages)
        time.sleep(quiet)


def run_crashes(
    url: str, server: SmtpServer, outbox: Outbox, *, plan: CrashPlan, logs: Path
) -> Figures:
    """Kill the worker at each of ``plan``'s moments, restart it each time, let the last
    run finish. Each run's clock is one lease later than the last, so the dead worker's
    claims have lapsed. The next worker is started before the kill, so it is ready at once.

    Between runs (nobody sending), ``received - recorded as sent`` counts messages that went
    out but were never recorded; ``worst_copies_per_kill`` is its largest rise over a kill.
    """
    step = timedelta(seconds=plan.lease_seconds + 1)
    moments = plan.moments()
    unrecorded = [0]
    reclaimed = kills = 0
    counts: dict[str, Any] = {}

    def spawn(run: int) -> Worker:
        config = _config(url, server, outbox.at + run * step, f"run-{run}", plan.lease_seconds)
        worker = Worker(config, logs / f"run-{run}.log")
        started.append(worker)
        return worker

    with workers() as started:
        began = time.perf_counter()
        worker = spawn(0)
        worker.wait_ready()
        for run, (messages, delay) in enumerate(moments):
            upcoming = spawn(run + 1)  # imports while this run works
            worker.go()
            _wait_for_messages(server, len(server.messages) + messages, worker)
            time.sleep(delay)
            if worker.alive():
                worker.kill()
                kills += 1
                _settle(server)
                unrecorded.append(len(server.messages) - count_status(url, NoticeStatus.SENT))
                reclaimed += count_status(url, NoticeStatus.CLAIMED)
            else:  # it finished the outbox first: no kill this time
                counts = worker.finish()
            worker = upcoming
            worker.wait_ready()
        worker.go()
        counts = worker.finish()
        wall = time.perf_counter() - began
    figures = count_up(url, server, outbox, "crashes", wall=wall, workers=1, kills=kills)
    figures.claims_reclaimed = reclaimed
    figures.worst_copies_per_kill = max(
        (b - a for a, b in itertools.pairwise(unrecorded)), default=0
    )
    figures.worker_counts = [counts]
    return figures


def count_up(
    url: str,
    server: SmtpServer,
    outbox: Outbox,
    scenario: str,
    *,
    wall: float,
    workers: int,
    kills: int,
) -> Figures:
    """Compare what the server received with what the outbox says."""
    received = list(server.messages)
    ids = Counter(str(r.message["Message-ID"]) for r in received)
    keys = Counter(str(r.message["X-Journey-Key"]) for r in received)
    outbox_rows = rows(url)
    statuses = Counter(r.status for r in outbox_rows)
    sent = {r.key for r in outbox_rows if r.status == NoticeStatus.SENT}
    expected_ids = {r.key: message_id_for(r.key, "example.org") for r in outbox_rows}  # sender
    unrecognisable = sum(
        1
        for r in received
        if expected_ids.get(str(r.message["X-Journey-Key"])) != str(r.message["Message-ID"])
    )
    delivered = {r.key for r in outbox_rows} & set(keys)
    return Figures(
        scenario=scenario,
        due=outbox.due,
        delivered=len(delivered),
        received=len(received),
        duplicates=len(received) - len(ids),
        lost=sum(1 for r in outbox_rows if r.key not in sent or r.key not in delivered),
        retries=sum(r.attempts for r in outbox_rows) - len(sent),
        kills=kills,
        wall_seconds=wall,
        workers=workers,
        distinct_message_ids=len(ids),
        distinct_keys=len(keys),
        unrecognisable=unrecognisable,
        misrecorded=sum(1 for r in outbox_rows if r.message_id != expected_ids[r.key]),
        claimed_left=statuses.get(NoticeStatus.CLAIMED.value, 0),
        refusals=getattr(server, "refusals", 0),
        longest_batch=server.longest_connection() if isinstance(server, FlakySmtpServer) else 0,
        statuses=dict(statuses),
    )
