"""``journey server start|status|stop`` with a real ``prefect server start`` on a free
loopback port, and flow commands reporting to it (``journey.prefect_env.apply``).

The server is started once for the module through the real CLI (a subprocess, so it
must outlive the command that started it) and stopped by the last test; the fixture's
teardown ends it by its recorded pid if a test failed before that. The other tests fake
what they need (a record of a process gone, or of a process that is no server) and never
start one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from journey import local_server
from journey.local_server import LocalServer
from journey.prefect_env import apply, flows_here
from journey.settings import Settings
from tests.smtp_server import free_port

BIN = Path(sys.executable).parent


def journey(state: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed ``journey`` with its state folder in ``state`` and no PREFECT_API_URL."""
    environ = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    environ.update(JOURNEY_STATE_DIR=str(state), **env)
    return subprocess.run(
        [str(BIN / "journey"), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=180,
        check=False,
    )


def record(state: Path, pid: int, port: int) -> Path:
    """A state file as ``start`` writes it, for process ``pid`` and ``port``."""
    state.mkdir(parents=True, exist_ok=True)
    server = LocalServer(
        pid=pid,
        api_url=f"http://127.0.0.1:{port}/api",
        ui_url=f"http://127.0.0.1:{port}",
        home=str(state / "prefect-home"),
        log=str(state / "server.log"),
        started="2026-11-30T09:00:00+00:00",
    )
    path = state / local_server.STATE_FILE
    path.write_text(json.dumps(asdict(server)))
    return path


def gone_pid() -> int:
    """The pid of a process that has ended."""
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A copy of the environment for the test to change (``apply`` sets values in it)."""
    copy = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    monkeypatch.setattr(os, "environ", copy)
    return copy


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("journey-state")


@pytest.fixture(scope="module")
def started(state: Path) -> Iterator[tuple[LocalServer, str]]:
    """``journey server start --port P``: the server it recorded, and what it printed."""
    port = free_port()
    done = journey(state, "server", "start", "--port", str(port))
    path = state / local_server.STATE_FILE
    server = LocalServer(**json.loads(path.read_text())) if path.exists() else None
    try:
        assert done.returncode == 0, done.stderr + (state / "server.log").read_text()[-2000:]
        assert server is not None
        yield server, done.stdout
    finally:
        if server is not None and local_server.is_prefect_server(server.pid):
            os.killpg(server.pid, signal.SIGTERM)  # the pid we started, never another


def test_start_waits_until_it_answers_and_remembers_it(
    started: tuple[LocalServer, str], state: Path
) -> None:
    server, printed = started
    assert f"Prefect server running: {server.ui_url}" in printed
    assert server.api_url == f"{server.ui_url}/api"
    assert local_server.answers(server.api_url)
    assert local_server.is_prefect_server(server.pid)
    assert os.getpgid(server.pid) == server.pid  # its own process group, to stop it whole
    assert Path(server.home) == state / "prefect-home"
    assert Path(server.log).exists()
    assert (Path(server.home) / "prefect.db").exists()  # its own embedded SQLite


def test_status_says_it_runs(started: tuple[LocalServer, str], state: Path) -> None:
    server, _ = started
    done = journey(state, "server", "status")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Running: {server.ui_url} (API {server.api_url}, ")
    assert f"pid {server.pid}" in done.stdout


def test_start_again_says_it_is_already_running(
    started: tuple[LocalServer, str], state: Path
) -> None:
    server, _ = started
    done = journey(state, "server", "start", "--port", str(free_port()))
    assert done.returncode == 0, done.stderr
    assert f"already running: {server.ui_url} (pid {server.pid}" in done.stdout
    assert local_server.is_prefect_server(server.pid)


def test_launch_reports_its_flow_run_to_the_server(
    started: tuple[LocalServer, str], state: Path, settings: Settings, cohort_id: str
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server, _ = started
    done = journey(
        state,
        "launch",
        cohort_id,
        "--now",
        "2026-09-01T09:00",
        JOURNEY_DATABASE_URL=settings.database_url,
        JOURNEY_OUTBOX_DIR=str(settings.outbox_dir),
    )
    assert done.returncode == 0, done.stderr
    assert f"Launching with Prefect server {server.api_url}." in done.stdout
    with (
        temporary_settings({PREFECT_API_URL: server.api_url}),
        get_client(sync_client=True) as client,
    ):
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["launch-cohort"]))
        )
    mine = [r for r in runs if r.parameters.get("cohort_id") == cohort_id]
    assert len(mine) == 1
    assert mine[0].state is not None and mine[0].state.is_completed()


def test_apply_points_prefect_at_the_remembered_server(
    started: tuple[LocalServer, str], state: Path, environ: dict[str, str]
) -> None:
    server, _ = started
    environ["JOURNEY_STATE_DIR"] = str(state)
    assert apply() == f"Prefect server {server.api_url}"
    assert environ["PREFECT_API_URL"] == server.api_url


def test_flows_run_here_on_the_remembered_server_have_no_heartbeat(
    started: tuple[LocalServer, str], state: Path, environ: dict[str, str]
) -> None:
    """Prefect joins the heartbeat thread at the end of each flow run (up to 1 s); nothing
    on the server of `journey server start` watches heartbeats."""
    from prefect.settings import get_current_settings

    server, _ = started
    environ["JOURNEY_STATE_DIR"] = str(state)
    with flows_here() as where:
        assert where == f"Prefect server {server.api_url}"
        assert get_current_settings().flows.heartbeat_frequency is None


def test_an_explicit_api_url_wins_over_the_remembered_server(
    started: tuple[LocalServer, str], state: Path, environ: dict[str, str]
) -> None:
    environ["JOURNEY_STATE_DIR"] = str(state)
    environ["PREFECT_API_URL"] = "http://127.0.0.1:9/api"
    assert apply() == "Prefect server http://127.0.0.1:9/api"
    assert environ["PREFECT_API_URL"] == "http://127.0.0.1:9/api"


def test_stop_ends_it_and_then_status_says_not_running(
    started: tuple[LocalServer, str], state: Path
) -> None:
    """Last of the tests that use the server: it stops it."""
    server, _ = started
    done = journey(state, "server", "stop")
    assert done.returncode == 0, done.stderr
    stopped = f"Stopped the Prefect server at {server.ui_url} (pid {server.pid})."
    assert done.stdout.strip() == stopped
    assert not local_server.is_prefect_server(server.pid)
    assert not local_server.answers(server.api_url)
    assert not (state / local_server.STATE_FILE).exists()
    status = journey(state, "server", "status")
    assert status.returncode == 1
    assert status.stdout.strip() == "Not running. Start one with: journey server start"
    again = journey(state, "server", "stop")
    assert again.returncode == 0
    assert "No Prefect server started by journey server start is running." in again.stdout


def test_a_stale_record_is_said_and_removed(tmp_path: Path) -> None:
    path = record(tmp_path, gone_pid(), free_port())
    done = journey(tmp_path, "server", "status")
    assert done.returncode == 1
    assert "Not running: the server recorded (pid" in done.stdout
    assert "its record was removed" in done.stdout
    assert not path.exists()
    path.write_text("{not json")
    assert journey(tmp_path, "server", "status").returncode == 1
    assert not path.exists()


def test_stop_never_signals_a_pid_that_is_not_the_server(tmp_path: Path) -> None:
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        path = record(tmp_path, other.pid, free_port())
        done = journey(tmp_path, "server", "stop")
        assert done.returncode == 0, done.stderr
        assert "No Prefect server started by journey server start is running." in done.stdout
        assert other.poll() is None  # still running: never signalled
        assert not path.exists()
    finally:
        other.kill()
        other.wait()


def test_stop_ends_a_recorded_server_that_does_not_answer(tmp_path: Path) -> None:
    """A process whose command line is ``… prefect server start`` that never listens: status
    says it does not answer (and keeps the record); stop ends its process group."""
    silent = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "prefect", "server", "start"],
        start_new_session=True,
    )
    try:
        path = record(tmp_path, silent.pid, free_port())
        status = journey(tmp_path, "server", "status")
        assert status.returncode == 1
        assert f"Not answering: the Prefect server (pid {silent.pid}) runs" in status.stdout
        assert path.exists()
        done = journey(tmp_path, "server", "stop")
        assert done.returncode == 0, done.stderr
        assert f"(pid {silent.pid})" in done.stdout
        assert silent.wait(timeout=30) == -signal.SIGTERM
        assert not path.exists()
    finally:
        if silent.poll() is None:
            silent.kill()
            silent.wait()


def test_a_taken_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = journey(tmp_path, "server", "start", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: port {port} on 127.0.0.1 is taken by another program")
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / local_server.STATE_FILE).exists()


def test_a_remembered_server_that_does_not_answer_is_said_once_then_ephemeral(
    tmp_path: Path, environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    record(tmp_path, gone_pid(), port)
    environ["JOURNEY_STATE_DIR"] = str(tmp_path)
    assert apply() == "Prefect's ephemeral API (runs are not kept)"
    assert apply() == "Prefect's ephemeral API (runs are not kept)"
    assert "PREFECT_API_URL" not in environ
    said = capsys.readouterr().err
    assert said.count(f"(http://127.0.0.1:{port}/api) does not answer") == 1


def test_no_record_costs_no_check(tmp_path: Path, environ: dict[str, str]) -> None:
    environ["JOURNEY_STATE_DIR"] = str(tmp_path / "none")
    assert local_server.remembered_api_url() is None
    assert apply() == "Prefect's ephemeral API (runs are not kept)"


def test_state_folder_follows_xdg(environ: dict[str, str], tmp_path: Path) -> None:
    environ.pop("JOURNEY_STATE_DIR", None)
    environ["XDG_STATE_HOME"] = str(tmp_path)
    assert local_server.state_dir() == tmp_path / "journey"
    environ["JOURNEY_STATE_DIR"] = str(tmp_path / "mine")
    assert local_server.state_dir() == tmp_path / "mine"


def test_waiting_has_an_end(tmp_path: Path, environ: dict[str, str]) -> None:
    """A server that does not answer in time is ended, and the error names its log."""
    environ["JOURNEY_STATE_DIR"] = str(tmp_path)
    with pytest.raises(local_server.ServerNotStarted, match=r"did not answer .* its log: "):
        local_server.start(port=free_port(), timeout=0.5)
    assert not (tmp_path / local_server.STATE_FILE).exists()
