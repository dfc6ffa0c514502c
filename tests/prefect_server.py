"""A real ``prefect server start`` on a free loopback port, for the tests that need the
server itself (deployments served by ``journey serve``, the UI in a browser).

Started once per test session on first use; stopped by its process id at the end.
``served`` adds ``journey serve`` on top, for one test, with the test's database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, temporary_settings

from journey.local_server import answers
from journey.settings import Settings
from tests.smtp_server import free_port

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class PrefectServer:
    api_url: str  # http://127.0.0.1:PORT/api
    ui_url: str  # http://127.0.0.1:PORT
    home: Path
    log: Path


def quiet_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a Prefect process of the tests: offline, quiet, own home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT="false",
        PREFECT_LOGGING_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """End a process group we started: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """``prefect server start --host 127.0.0.1`` on a free port, for the whole session."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=quiet_env(home, PREFECT_SERVER_API_PORT=str(port)),  # the UI's API address
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrefectServer(f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}", home, log)
    try:
        deadline = time.monotonic() + 120
        while not answers(server.api_url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"prefect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield server
    finally:
        stop(process)


@pytest.fixture
def served(
    settings: Settings, cohort_id: str, prefect_server: PrefectServer, tmp_path: Path
) -> Iterator[PrefectServer]:
    """``journey serve`` running against the server, stopped by its pid afterwards."""
    env = quiet_env(
        tmp_path / "prefect-home",
        PREFECT_API_URL=prefect_server.api_url,
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        JOURNEY_DATABASE_URL=settings.database_url,
        JOURNEY_OUTBOX_DIR=str(settings.outbox_dir),
    )
    with (tmp_path / "serve.log").open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "journey"), "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with (
            temporary_settings({PREFECT_API_URL: prefect_server.api_url}),
            events_to(prefect_server.api_url),
        ):
            yield prefect_server
    finally:
        stop(process)


@contextmanager
def events_to(api_url: str) -> Iterator[None]:
    """Send this process's Prefect events (and so its task runs) to ``api_url``.

    The events worker is one per process and keyed without the API's address, so after
    the session's test harness has used it, it would keep sending there: task runs of
    flows run here would never reach this server. Drain it and point a fresh one here.
    """
    from prefect.events.clients import PrefectEventsClient
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all()
    EventsWorker.set_client_override(PrefectEventsClient, api_url=api_url)
    try:
        yield
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
