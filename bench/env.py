"""The benchmark's process environment: offline Prefect, no JOURNEY_* leaking in, the machine.

:func:`prepare` must run before anything imports Prefect (Prefect reads its settings once,
at import). It also removes every ``JOURNEY_*`` variable, so only what a benchmark sets
counts, and works in a temporary folder so that no ``.env`` file is picked up.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OFFLINE = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
}
PACKAGES = (
    "prefect",
    "sqlalchemy",
    "aiosmtplib",
    "aiosmtpd",
    "jinja2",
    "icalendar",
    "pydantic",
    "typer",
    "rich",
    "pyinstrument",
    "leadership-journey",
)


def prepare() -> Path:
    """Set the offline environment and return a fresh work folder (removed by the caller)."""
    work = Path(tempfile.mkdtemp(prefix="journey-bench-"))
    home = work / "prefect-home"
    home.mkdir()
    os.environ["PREFECT_HOME"] = str(home)
    os.environ.update(OFFLINE)
    os.environ.pop("PREFECT_API_URL", None)
    for key in [k for k in os.environ if k.startswith("JOURNEY_")]:
        del os.environ[key]
    os.chdir(work)  # no .env file from the repository is read by the settings
    return work


def child_env(**journey: str) -> dict[str, str]:
    """The environment for a subprocess: this one's (offline), plus ``JOURNEY_*`` values."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    env.update({f"JOURNEY_{k.upper()}": v for k, v in journey.items()})
    return env


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return out.stdout.strip() + ("+uncommitted changes" if dirty else "")


def source_fingerprint() -> str:
    """A hash of the product's code and templates, to notice edits made during a run."""
    digest = hashlib.sha256()
    root = REPO / "src" / "journey"
    for folder, _dirs, files in sorted(os.walk(root, followlinks=True)):
        for name in sorted(files):
            if name.endswith((".py", ".html", ".txt", ".yaml")):
                path = Path(folder) / name
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load() -> float:
    """The one-minute load average (other work on the machine skews every figure)."""
    return round(os.getloadavg()[0], 2)


def _busy_ticks() -> int:
    """CPU ticks spent busy on the whole machine since boot (``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return user + nice + system + irq + softirq + steal


def _own_ticks() -> int:
    """CPU ticks of this process and its descendants (the sink, subprocesses, Prefect's
    server), including children already reaped."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        ticks[pid] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    mine = {os.getpid()}
    grew = True
    while grew:
        before = len(mine)
        mine |= {pid for pid, parent in parents.items() if parent in mine}
        grew = len(mine) > before
    return sum(ticks.get(pid, 0) for pid in mine)


class OtherWork:
    """How much of the machine other processes used while a step ran (0 to 1)."""

    def __init__(self) -> None:
        self.available = Path("/proc/stat").exists()
        self._start = (0, 0, 0.0)

    def start(self) -> None:
        if self.available:
            self._start = (_busy_ticks(), _own_ticks(), time.monotonic())

    def share(self) -> float | None:
        if not self.available:
            return None
        busy, own, began = self._start
        elapsed = time.monotonic() - began
        hz = os.sysconf("SC_CLK_TCK")
        others = (_busy_ticks() - busy) - (_own_ticks() - own)
        return round(max(others, 0) / hz / (elapsed * (os.cpu_count() or 1)), 3)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) // 1024} MiB"
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: _version(name) for name in PACKAGES},
        "commit": _git_commit(),
        "load_average_at_start": load(),
    }
