"""The production layout on one machine (issue 14): a Prefect server on Postgres, two
process workers on one work pool, the project's database on Postgres, a real SMTP server.

2,000 welcome notices (a cohort of 2,000 trainees, launched: one each) are due; four
deliver-notices runs are started at once, from the deployments ``journey deploy --pool``
registers. All must complete; the SMTP server must receive each notice exactly once (by
Message-ID) and never have more sessions open at once than the global limit
(``JOURNEY_SMTP_GLOBAL_LIMIT``), though the four runs would want twice as many.

Select it with ``pytest -m workers``; it runs in ``make test`` with the rest (on the
SQLite pass: it brings its own Postgres databases). ``-s`` prints its timings: the
stages, and what each flow run's subprocess took to start on its worker (Pending to
Running in the run's state history).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, func, select, text

from journey.db import session_scope, upgrade
from journey.local_server import answers
from journey.models import Notice, NoticeStatus
from tests.conftest import BACKEND
from tests.pg import SERVER, postgres_schema
from tests.prefect_server import BIN, quiet_env, stop
from tests.reliability.figures import smtp_server as timed_smtp_server
from tests.reliability.harness import FlakySmtpServer
from tests.reliability.outbox import LAUNCHED, launch_example
from tests.smtp_server import SmtpServer, free_port

pytestmark = [
    pytest.mark.workers,
    pytest.mark.skipif(BACKEND != "sqlite", reason="runs once, in the SQLite pass"),
]

NOTICES = 2000
RUNS = 4
WORKERS = 2
GLOBAL_LIMIT = 3
PER_BATCH = 2  # JOURNEY_SMTP_CONNECTIONS: four runs would want 8 connections
POOL = "journey-test"

TERMINAL_WAIT = 600.0  # seconds: a bound for a hung run, never a speed assertion


@dataclass(frozen=True)
class Server:
    api_url: str
    home: Path
    started_in: float  # seconds from `prefect server start` to healthy


def _admin_url() -> str:
    """The Postgres server (database ``test``), or a skip/failure as tests/pg.py does."""
    admin = create_engine(SERVER)
    try:
        with admin.connect():
            pass
    except Exception as exc:
        if os.environ.get("JOURNEY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"Postgres at 127.0.0.1:5432 is required here: {exc}")
        pytest.skip(f"no Postgres at 127.0.0.1:5432 ({type(exc).__name__})")
    finally:
        admin.dispose()
    return SERVER


@pytest.fixture(scope="module")
def pg_prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``prefect server start`` on a Postgres database of its own, created here and
    dropped afterwards."""
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    database = f"prefect_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    home = tmp_path_factory.mktemp("prefect-pg")
    port = free_port()
    env = quiet_env(
        home,
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_API_DATABASE_CONNECTION_URL=(
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
        ),
    )
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log = home / "server.log"
    try:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            api_url, began = f"http://127.0.0.1:{port}/api", time.perf_counter()
            deadline = time.monotonic() + 180
            while not answers(api_url):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"prefect server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            yield Server(api_url, home, time.perf_counter() - began)
        finally:
            stop(process)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def queue_welcomes(url: str, folder: Path, trainees: int) -> int:
    """Import a cohort of ``trainees`` trainees and launch it: one welcome each, due at
    launch; the few mentor and facilitator notices are deleted. How many are due."""
    launch_example(url, folder, trainees)
    with session_scope(url) as session:
        session.execute(delete(Notice).where(Notice.template != "welcome"))
        return session.scalar(select(func.count(func.distinct(Notice.person_id)))) or 0


def prefect_env(home: Path, api_url: str) -> dict[str, str]:
    """A worker's environment: the Prefect server, and nothing of the project's. Its flow
    runs get the JOURNEY_* settings from the deployments' job variables alone, as a
    worker on another machine would."""
    return quiet_env(
        home,
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PREFECT_API_URL=api_url,
        PREFECT_WORKER_QUERY_SECONDS="1",
    )


def journey_env(home: Path, api_url: str, db_url: str, smtp: SmtpServer) -> dict[str, str]:
    """``journey deploy``'s environment: the Prefect server, the database, the SMTP server
    (plain, no TLS), the limits; it hands the JOURNEY_* ones to the workers."""
    return quiet_env(
        home,
        PREFECT_API_URL=api_url,
        JOURNEY_DATABASE_URL=db_url,
        JOURNEY_SMTP_HOST=smtp.host,
        JOURNEY_SMTP_PORT=str(smtp.port),
        JOURNEY_SMTP_STARTTLS="false",
        JOURNEY_SMTP_RETRY_DELAYS="1,2",
        JOURNEY_SMTP_CONNECTIONS=str(PER_BATCH),
        JOURNEY_SMTP_GLOBAL_LIMIT=str(GLOBAL_LIMIT),
        JOURNEY_SENDER="Leadership Journey <journey@example.org>",
    )


def start_workers(env: dict[str, str], folder: Path) -> list[subprocess.Popen[bytes]]:
    """``prefect worker start --pool POOL --type process``, ``WORKERS`` times, each in a
    folder and process group of its own."""
    workers = []
    for n in range(1, WORKERS + 1):
        cwd = folder / f"worker-{n}"
        cwd.mkdir()
        command = [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process"]
        with (cwd / "worker.log").open("wb") as out:
            workers.append(
                subprocess.Popen(
                    [*command, "--name", f"worker-{n}"],
                    cwd=cwd,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    return workers


def wait_terminal(run_ids: list[uuid.UUID]) -> list[Any]:
    """Poll the server until every run is in a final state; the runs."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + TERMINAL_WAIT
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=run_ids))
            )
            if len(runs) == len(run_ids) and all(r.state and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline:
                states = [(str(r.id), r.state_name) for r in runs]
                pytest.fail(f"runs not finished after {TERMINAL_WAIT:.0f} s: {states}")
            time.sleep(1)


def stage_seconds(run_ids: list[uuid.UUID]) -> tuple[list[float], list[float]]:
    """Per run, from its state history: seconds from Pending (a worker took it and starts
    its process) to Running (that process has begun the flow), and from Running to the
    end."""
    from prefect.client.orchestration import get_client

    starting, running = [], []
    with get_client(sync_client=True) as client:
        for run_id in run_ids:
            states = client.read_flow_run_states(run_id)
            at = {s.type.value: s.timestamp for s in states}
            starting.append((at["RUNNING"] - at["PENDING"]).total_seconds())
            running.append((states[-1].timestamp - at["RUNNING"]).total_seconds())
    return starting, running


@pytest.fixture
def smtp_sink() -> Iterator[FlakySmtpServer]:
    """The test SMTP server, noting when each message arrived (it never refuses here)."""
    with timed_smtp_server() as server:
        yield server


def spread_of_connections(server: FlakySmtpServer) -> dict[Any, tuple[float, float, int]]:
    """Each connection's first and last message, and how many it carried."""
    spans: dict[Any, list[float]] = {}
    for at, peer in server.arrivals:
        spans.setdefault(peer, []).append(at)
    return {peer: (min(times), max(times), len(times)) for peer, times in spans.items()}


def slot_use(server: FlakySmtpServer, sending: float) -> float:
    """Connection-seconds spent carrying messages over the limit's slot-seconds, from the
    first message to the last: how well the waiting connections took up freed slots."""
    spans = spread_of_connections(server).values()
    return sum(last - first for first, last, _ in spans) / (GLOBAL_LIMIT * sending)


def spread(values: list[float]) -> str:
    return f"median {median(values):.1f} s (min {min(values):.1f}, max {max(values):.1f})"


def test_two_workers_four_runs_2000_notices_exactly_once_within_the_limit(
    pg_prefect_server: Server, smtp_sink: FlakySmtpServer, tmp_path: Path
) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    timings: dict[str, float] = {}
    began = time.perf_counter()
    with postgres_schema() as db_url:
        upgrade(db_url)
        home = tmp_path / "prefect-home"
        deployed = subprocess.run(
            [str(BIN / "journey"), "deploy", "--pool", POOL],
            cwd=tmp_path,  # no developer's .env
            env=journey_env(home, pg_prefect_server.api_url, db_url, smtp_sink),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "deliver-notices/organiser" in deployed.stdout
        timings["journey deploy (a migrated, empty database)"] = time.perf_counter() - began

        workers = start_workers(prefect_env(home, pg_prefect_server.api_url), tmp_path)
        try:
            step = time.perf_counter()  # the workers start meanwhile
            assert queue_welcomes(db_url, tmp_path, NOTICES) == NOTICES
            timings["queue 2,000 notices"] = time.perf_counter() - step
            with temporary_settings({PREFECT_API_URL: pg_prefect_server.api_url}):
                step = time.perf_counter()
                started = [
                    run_deployment(
                        "deliver-notices/organiser",
                        parameters={"now": LAUNCHED.isoformat()},
                        timeout=0,
                        as_subflow=False,
                    )
                    for _ in range(RUNS)
                ]
                run_ids = [run.id for run in started]
                runs = wait_terminal(run_ids)
                timings["4 runs, started to all finished"] = time.perf_counter() - step
                starting, running = stage_seconds(run_ids)
        finally:
            for worker in workers:
                stop(worker)

        with session_scope(db_url) as session:
            statuses = Counter(str(status) for status in session.scalars(select(Notice.status)))
    timings["whole test (after the server is up)"] = time.perf_counter() - began

    print(f"\n  Prefect server on Postgres, start to healthy: {pg_prefect_server.started_in:.1f} s")
    for what, seconds in timings.items():
        print(f"  {what}: {seconds:.1f} s")
    arrivals = [at for at, _ in smtp_sink.arrivals]
    print(f"  a flow run's process on a worker, Pending to Running: {spread(starting)}")
    print(f"  a flow run, Running to Completed: {spread(running)}")
    sending = max(arrivals) - min(arrivals)
    print(f"  first to last message at the SMTP server: {sending:.1f} s")
    print(f"  the limit's slots in use while sending: {slot_use(smtp_sink, sending):.0%}")
    print(f"  peak SMTP connections at once: {smtp_sink.peak_connections} (limit {GLOBAL_LIMIT})")

    assert [run.state_name for run in runs] == ["Completed"] * RUNS, [
        (run.state_name, run.state.message if run.state else None) for run in runs
    ]
    ids = Counter(str(received.message["Message-ID"]) for received in smtp_sink.messages)
    duplicates = sum(copies - 1 for copies in ids.values())
    assert (len(ids), duplicates) == (NOTICES, 0)
    recipients = {received.rcpt_tos[0] for received in smtp_sink.messages}
    assert len(recipients) == NOTICES  # 2,000 distinct trainees, none lost
    assert statuses == {str(NoticeStatus.SENT): NOTICES}
    assert 1 <= smtp_sink.peak_connections <= GLOBAL_LIMIT
