"""Print the reliability figures: ``python -m tests.reliability.figures`` (from the repo root).

Runs the scenarios on Postgres (127.0.0.1:5432, database ``test``, a schema of its own,
dropped afterwards) against a real SMTP server on loopback, and prints for each run:
notices due, delivered, duplicates, lost, retries, kills survived, wall time, and the
counts behind them. The tests run the same scenarios (``pytest -s tests/reliability``
prints the same lines). Set ``RELIABILITY_BREAK`` (see ``worker.py``) to watch a broken
delivery get caught.
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

from tests.pg import postgres_schema
from tests.reliability.harness import (
    CrashPlan,
    Figures,
    FlakySmtpServer,
    run_concurrent,
    run_crashes,
    run_staggered,
)
from tests.reliability.outbox import build_outbox
from tests.smtp_server import free_port

CONCURRENT_NOTICES = 2000
CONCURRENT_WORKERS = 4
FAIL_EVERY = 100  # the server answers 451 to one DATA command in a hundred
CRASH_NOTICES = 550  # the seeded kills let about 250 through before the last run
CRASH_KILLS = 25
CRASH_SEED = 20260925
LONG_NOTICES = 300
SHORT_LEASE = 10  # seconds: the shortest lease Settings allows
SLOW_REPLY = 0.12  # seconds the server takes over each DATA reply (a slow relay)
SLOW_BATCH = 100  # 100 messages at SLOW_REPLY take longer than SHORT_LEASE to send
LONG_LATER = 15.0  # worker 2 starts 15 s (more than a lease) after worker 1
SKEW_NOTICES = 300
SKEW = timedelta(hours=1)  # two hosts' clocks an hour apart: far more than any lease
# The clock-skew runs: (lease seconds, server's delay per DATA reply, batch size, seconds
# before the run ahead starts). The first is the old scenario: both start at once.
SKEW_CASES = {
    "default lease": (600, 0.0, 50, 0.0),
    "short lease": (SHORT_LEASE, SLOW_REPLY, SLOW_BATCH, 2.0),
}


@contextmanager
def smtp_server() -> Iterator[FlakySmtpServer]:
    """A real SMTP server on 127.0.0.1, stopped afterwards."""
    server = FlakySmtpServer(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def concurrent(url: str, server: FlakySmtpServer, folder: Path) -> Figures:
    """Four worker processes drain 2,000 due notices at once; 1 DATA in 100 gets a 451."""
    server.fail_every = FAIL_EVERY
    outbox = build_outbox(url, notices=CONCURRENT_NOTICES, folder=folder)
    return run_concurrent(url, server, outbox, count=CONCURRENT_WORKERS, logs=folder)


def crashes(url: str, server: FlakySmtpServer, folder: Path, *, kills: int, seed: int) -> Figures:
    """One worker, killed ``kills`` times at seeded random moments, restarted each time."""
    outbox = build_outbox(url, notices=CRASH_NOTICES, folder=folder)
    plan = CrashPlan(kills=kills, seed=seed)
    return run_crashes(url, server, outbox, plan=plan, logs=folder)


def long_run(url: str, server: FlakySmtpServer, folder: Path) -> Figures:
    """A run draining 300 notices through a slow server (120 ms a message), in batches
    that take longer than the lease (10 s) to send; a second run joins it 15 s in, on the
    same timeline."""
    server.data_delay = SLOW_REPLY
    outbox = build_outbox(url, notices=LONG_NOTICES, folder=folder)
    scenario = (
        f"long run: lease {SHORT_LEASE} s, batches of {SLOW_BATCH}, "
        f"{SLOW_REPLY * 1000:.0f} ms per DATA reply, 2nd run {LONG_LATER:.0f} s later"
    )
    return run_staggered(
        url,
        server,
        outbox,
        lease_seconds=SHORT_LEASE,
        batch_size=SLOW_BATCH,
        later=LONG_LATER,
        logs=folder,
        scenario=scenario,
    )


def clock_skew(
    url: str,
    server: FlakySmtpServer,
    folder: Path,
    *,
    lease_seconds: int,
    delay: float,
    batch_size: int,
    later: float,
) -> Figures:
    """The limit: two live workers whose clocks are an hour (more than the lease) apart;
    the one ahead starts ``later`` seconds after the one behind."""
    server.data_delay = delay
    outbox = build_outbox(url, notices=SKEW_NOTICES, folder=folder)
    slow = f", {delay * 1000:.0f} ms per DATA reply" if delay else ""
    return run_staggered(
        url,
        server,
        outbox,
        lease_seconds=lease_seconds,
        batch_size=batch_size,
        later=later,
        logs=folder,
        scenario=f"clock-skew 1 h: lease {lease_seconds} s, batches of {batch_size}{slow}",
        skew=SKEW,
    )


def copies_per_takeover(lease_seconds: int, delay: float, batch_size: int) -> int:
    """The most messages a run can send after another run took over its batch, before it
    notices: the rest of the batch, but no more than it can send until its next renewal.

    Its claims are checked against the database when they are renewed, at most half a
    lease after the last renewal. So after a takeover it sends at most the messages it
    starts in the remaining half lease, each taking at least ``delay`` (the server's),
    plus the one in flight: ``floor(lease / 2 / delay) + 2``.
    """
    if not delay:
        return batch_size
    return min(batch_size, math.floor(lease_seconds / 2 / delay) + 2)


def report(figures: Figures) -> str:
    """The figures line, then the counts behind it."""
    extra = (
        f"  received {figures.received} messages: {figures.distinct_message_ids} distinct "
        f"Message-IDs, {figures.distinct_keys} distinct X-Journey-Keys, "
        f"{figures.unrecognisable} with a Message-ID not derived from their key; "
        f"outbox {figures.statuses}; 451 replies {figures.refusals}"
    )
    if figures.kills:
        extra += (
            f"; claims a killed worker held, taken up after its lease lapsed "
            f"{figures.claims_reclaimed}; most copies added by one kill "
            f"{figures.worst_copies_per_kill}"
        )
        return f"{figures.line()}\n{extra}"
    extra += (
        f"\n  per worker: sent {figures.per_worker('sent')}, unrecorded "
        f"{figures.per_worker('unrecorded')}, batches {figures.per_worker('batches')}, "
        f"retry (lost claim or 4xx) {figures.per_worker('retry')}; lease "
        f"{figures.lease_seconds} s; longest batch {figures.longest_batch:.1f} s"
    )
    if figures.started_later > 0.1:
        extra += (
            f"; 2nd run started {figures.started_later:.1f} s after the 1st, which was "
            f"{'still' if figures.overlapped else 'no longer'} running"
        )
    return f"{figures.line()}\n{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=CRASH_SEED, help="seed of the kill moments")
    parser.add_argument("--kills", type=int, default=CRASH_KILLS, help="SIGKILLs in the run")
    parser.add_argument(
        "--only",
        choices=["concurrent", "crashes", "long-run", "clock-skew"],
        help="run one scenario (clock-skew: both of its runs)",
    )
    args = parser.parse_args()
    broken = os.environ.get("RELIABILITY_BREAK")
    if broken:
        print(f"RELIABILITY_BREAK={broken}: delivery is broken on purpose")
    try:
        run(only=args.only, kills=args.kills, seed=args.seed)
    except (pytest.skip.Exception, pytest.fail.Exception) as exc:  # no Postgres
        raise SystemExit(f"Error: {exc.msg}") from None


def run(*, only: str | None, kills: int, seed: int) -> None:
    """Run the scenarios (``only`` one of them, if given) and print their figures."""
    scenarios: list[tuple[str, Callable[[str, FlakySmtpServer, Path], Figures]]] = [
        ("concurrent", concurrent),
        ("crashes", partial(crashes, kills=kills, seed=seed)),
        ("long-run", long_run),
    ]
    for lease, delay, batch, later in SKEW_CASES.values():
        skew = partial(clock_skew, lease_seconds=lease, delay=delay, batch_size=batch, later=later)
        scenarios.append(("clock-skew", skew))
    with tempfile.TemporaryDirectory(prefix="journey-reliability-") as temp:
        for name, scenario in scenarios:
            if only in (None, name):
                with postgres_schema() as url, smtp_server() as server:
                    print(report(scenario(url, server, Path(temp))), flush=True)


if __name__ == "__main__":
    main()
