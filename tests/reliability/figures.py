"""Print the reliability figures: ``python -m tests.reliability.figures`` (from the repo root).

Runs the scenarios on Postgres (127.0.0.1:5432, database ``test``, a schema of its own,
dropped afterwards) against a real SMTP server on loopback, and prints for each run:
notices due, delivered, duplicates, lost, retries, kills survived, wall time. The tests
run the same scenarios (``pytest -s tests/reliability`` prints the same lines). Set
``RELIABILITY_BREAK`` (see ``worker.py``) to watch a broken delivery get caught.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from tests.pg import postgres_schema
from tests.reliability.harness import (
    CrashPlan,
    Figures,
    FlakySmtpServer,
    run_concurrent,
    run_crashes,
)
from tests.reliability.outbox import build_outbox
from tests.smtp_server import free_port

CONCURRENT_NOTICES = 2000
CONCURRENT_WORKERS = 4
FAIL_EVERY = 100  # the server answers 451 to one DATA command in a hundred
CRASH_NOTICES = 550  # the seeded kills let about 250 through before the last run
CRASH_KILLS = 25
CRASH_SEED = 20260925
SKEW_NOTICES = 300
SKEW = timedelta(hours=1)  # the 08:00 run still draining when the 09:00 run starts


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


def clock_skew(url: str, server: FlakySmtpServer, folder: Path) -> Figures:
    """The known gap: two live workers whose clocks are an hour (> the lease) apart."""
    outbox = build_outbox(url, notices=SKEW_NOTICES, folder=folder)
    return run_concurrent(
        url,
        server,
        outbox,
        count=2,
        logs=folder,
        clocks=[timedelta(0), SKEW],
        scenario="clock-skew (known gap)",
    )


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
    else:
        extra += f"; sent per worker {[c['sent'] for c in figures.worker_counts]}"
    return f"{figures.line()}\n{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=CRASH_SEED, help="seed of the kill moments")
    parser.add_argument("--kills", type=int, default=CRASH_KILLS, help="SIGKILLs in the run")
    parser.add_argument(
        "--only", choices=["concurrent", "crashes", "clock-skew"], help="run one scenario"
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
    scenarios: dict[str, Callable[[str, FlakySmtpServer, Path], Figures]] = {
        "concurrent": concurrent,
        "crashes": lambda url, server, folder: crashes(url, server, folder, kills=kills, seed=seed),
        "clock-skew": clock_skew,
    }
    with tempfile.TemporaryDirectory(prefix="journey-reliability-") as temp:
        for name, scenario in scenarios.items():
            if only in (None, name):
                with postgres_schema() as url, smtp_server() as server:
                    print(report(scenario(url, server, Path(temp))), flush=True)


if __name__ == "__main__":
    main()
