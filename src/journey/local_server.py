"""The organiser's own Prefect server: ``journey server start|stop|status``.

``start`` runs ``prefect server start`` in the background (a session of its own, so it
outlives the command; its output goes to a log file) on Prefect's embedded SQLite, with a
``PREFECT_HOME`` of its own under the journey state folder, and remembers it in a small
JSON file there. Later flow commands find it through :func:`remembered_api_url` (called by
:func:`journey.prefect_env.apply`), so their runs are kept and browsable in its UI and
they skip the 13-20 s start of Prefect's ephemeral API.

``stop`` only ever signals the process recorded by ``start``, and only while it still is
a Prefect server (its command line says so): a pid reused by another program is never
signalled. Nothing here imports Prefect: ``apply`` runs on every flow command.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from journey.errors import JourneyError

STATE_FILE = "server.json"
START_TIMEOUT = 90.0  # seconds for a cold `prefect server start` on a busy 2-core machine
STOP_TIMEOUT = 20.0  # seconds after SIGTERM before SIGKILL
QUICK_CHECK = 1.0  # seconds a flow command waits for a remembered server's health check
OFFLINE = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
}


class ServerNotStarted(JourneyError):
    """``journey server start`` could not start the server: the port is taken, or the
    server stopped or stayed silent at start-up (the message names its log)."""


@dataclass(frozen=True)
class LocalServer:
    """What ``start`` remembers about the server it started."""

    pid: int
    api_url: str  # http://127.0.0.1:4200/api
    ui_url: str  # http://127.0.0.1:4200
    home: str  # its PREFECT_HOME (database, settings)
    log: str  # its output
    started: str  # ISO 8601, UTC


def state_dir() -> Path:
    """``$JOURNEY_STATE_DIR``, else ``${XDG_STATE_HOME:-~/.local/state}/journey``."""
    explicit = os.environ.get("JOURNEY_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg).expanduser() / "journey"


def state_file() -> Path:
    return state_dir() / STATE_FILE


def remembered() -> LocalServer | None:
    """The server ``start`` recorded, or None (no file, or one that cannot be read)."""
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
        return LocalServer(**{k: data[k] for k in LocalServer.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget() -> None:
    """Remove the state file (it is fine if it is already gone)."""
    state_file().unlink(missing_ok=True)


def _remember(server: LocalServer) -> None:
    """Write the state file atomically, readable by its owner only."""
    path = state_file()
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(asdict(server), indent=2) + "\n", encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(path)


def answers(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers ``GET <api_url>/health`` with 200."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as response:  # noqa: S310  (our own http URL)
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def is_prefect_server(pid: int) -> bool:
    """Whether process ``pid`` is alive and is ``prefect server start`` (so a pid the
    system has since given to another program is never signalled)."""
    words = _command_line(pid)
    return (
        any(Path(w).name == "prefect" or w == "prefect" for w in words)
        and "server" in words
        and "start" in words
    )


def _command_line(pid: int) -> list[str]:
    """The process's arguments (none for a process gone or a zombie): /proc on Linux,
    else ``ps``."""
    proc = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():
        try:
            return [w for w in proc.read_bytes().decode(errors="replace").split("\0") if w]
        except OSError:
            return []
    done = subprocess.run(  # noqa: S603  (fixed arguments)
        ["ps", "-o", "command=", "-p", str(pid)],  # noqa: S607  (ps from the PATH)
        capture_output=True,
        text=True,
        check=False,
    )
    text = done.stdout.strip()
    return [] if done.returncode or "<defunct>" in text else text.split()


def running() -> tuple[LocalServer | None, str]:
    """The remembered server and how it is: ``"running"`` (alive and answering),
    ``"silent"`` (its process is a Prefect server that does not answer: still starting,
    or hung; the record is kept so ``stop`` can end it), ``"stale"`` (its process is gone
    or is another program now: the record is removed) or ``"none"`` (no record)."""
    server = remembered()
    if server is None:
        if state_file().exists():  # unreadable: nothing can be done with it
            forget()
            return None, "stale"
        return None, "none"
    if not is_prefect_server(server.pid):
        forget()
        return server, "stale"
    return server, "running" if answers(server.api_url) else "silent"


def _url_host(host: str) -> str:
    """The address to reach a server listening on ``host`` (any address: loopback)."""
    reach = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104
    return f"[{reach}]" if ":" in reach else reach


def _check_port_free(host: str, port: int) -> None:
    """One-line error when something already listens on ``host:port``."""
    try:
        info = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServerNotStarted(f"cannot listen on {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = info[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServerNotStarted(
                f"port {port} on {host} is taken by another program ({exc.strerror}); "
                "choose another with --port"
            ) from None


def server_env(home: Path, host: str, port: int) -> dict[str, str]:
    """The server's environment: this one without any ``PREFECT_*`` (so it runs on its own
    home's SQLite, whatever the shell says), offline and quiet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(OFFLINE)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_API_HOST=host,
        PREFECT_SERVER_API_PORT=str(port),  # the UI's address of the API
    )
    return env


def _prefect_command() -> list[str]:
    """``prefect`` from this interpreter's environment (its script, else ``-m prefect``)."""
    script = Path(sys.executable).with_name("prefect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "prefect"]


def start(
    host: str = "127.0.0.1",
    port: int = 4200,
    timeout: float = START_TIMEOUT,
    waiting: Callable[[], None] | None = None,
) -> tuple[LocalServer, bool]:
    """Start the server, wait until it answers, remember it; returns it and whether it
    was already running (then nothing is started). ``waiting`` is called while waiting."""
    current, how = running()
    if current is not None and how == "running":
        return current, True
    if current is not None and how == "silent":
        raise ServerNotStarted(
            f"the Prefect server started before (pid {current.pid}) runs but does not "
            f"answer at {current.api_url}; its log: {current.log}. "
            "End it with: journey server stop"
        )
    _check_port_free(host, port)
    folder = state_dir()
    home, log = folder / "prefect-home", folder / "server.log"
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ServerNotStarted(
            f"cannot create the state folder {folder}: {exc.strerror} (set JOURNEY_STATE_DIR)"
        ) from None
    base = f"http://{_url_host(host)}:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603  (our own arguments)
            [*_prefect_command(), "server", "start", "--host", host, "--port", str(port)],
            env=server_env(home, host, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=home,
            start_new_session=True,  # its own process group; outlives this command
        )
    server = LocalServer(
        pid=process.pid,
        api_url=f"{base}/api",
        ui_url=base,
        home=str(home),
        log=str(log),
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _await_health(process, server, timeout, waiting)
    _remember(server)
    process.returncode = 0  # detached on purpose: no "still running" warning at exit
    return server, False


def _await_health(
    process: subprocess.Popen[bytes],
    server: LocalServer,
    timeout: float,
    waiting: Callable[[], None] | None,
) -> None:
    """Wait until the server answers; if it exits or stays silent, end it and say why."""
    deadline = time.monotonic() + timeout
    while not answers(server.api_url, timeout=2.0):
        if process.poll() is not None:
            raise ServerNotStarted(
                f"the Prefect server stopped at start-up (exit code {process.returncode}): "
                f"{_last_line(Path(server.log))}; its log: {server.log}"
            )
        if time.monotonic() > deadline:
            _end_group(process.pid, lambda: process.poll() is None)
            raise ServerNotStarted(
                f"the Prefect server did not answer at {server.api_url} within "
                f"{timeout:.0f} s; its log: {server.log}"
            )
        if waiting is not None:
            waiting()
        time.sleep(0.5)


def _last_line(log: Path) -> str:
    """The log's last non-empty line, for a one-line error."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no output"
    return lines[-1][:200] if lines else "no output"


def stop(timeout: float = STOP_TIMEOUT) -> LocalServer | None:
    """Stop the remembered server and forget it; returns it, or None when none was
    running (a record whose pid is not a Prefect server any more is just removed)."""
    server = remembered()
    if server is None:
        forget()
        return None
    if not is_prefect_server(server.pid):
        forget()
        return None
    _end_group(server.pid, lambda: _alive(server.pid), timeout)
    forget()
    return server


def _alive(pid: int) -> bool:
    """Whether the server process still runs (reaping it first if it is our child, as
    when ``start`` and ``stop`` ran in the same process)."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return is_prefect_server(pid)


def _end_group(pid: int, alive: Callable[[], bool], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group led by ``pid`` (just ``pid`` if it leads none), then
    SIGKILL if it is still alive after ``timeout`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        _signal(pid, sig)
        deadline = time.monotonic() + timeout
        while alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        else:
            return


def _signal(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


_warned: set[str] = set()


def remembered_api_url(timeout: float = QUICK_CHECK) -> str | None:
    """The API URL of the remembered server if it answers within ``timeout``, for flow
    commands. One that does not answer is said once on stderr; the caller falls back to
    Prefect's ephemeral API. Cheap without a state file: one failed ``stat``."""
    server = remembered()
    if server is None:
        return None
    if answers(server.api_url, timeout=timeout):
        return server.api_url
    if server.api_url not in _warned:
        _warned.add(server.api_url)
        import click

        click.secho(
            f"The Prefect server started by `journey server start` ({server.api_url}) does "
            "not answer; using Prefect's ephemeral API. `journey server status` says more.",
            err=True,
            fg="yellow",
        )
    return None
