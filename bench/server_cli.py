"""Benchmark "server": ``journey launch`` and ``journey remind`` for a cohort of 20 with a
server from ``journey server start`` running (issue 14: at most 5 s wall time each,
median of 5).

As in ``bench.cli_timing``, each command is the installed ``journey`` script run as a
subprocess, and each run gets a fresh copy of its database so every run does the same
work: ``launch`` an imported cohort of 20 not yet launched (welcomes and assignments
written to the outbox folder); ``remind`` the same cohort launched, its first notices
delivered, a week before its training (the training reminders queued and written). The
server is started once, through the CLI, in a state folder of the bench's own, and
stopped at the end. One launch on Prefect's ephemeral API (no server) is timed beside it.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from bench.context import Context
from bench.env import child_env
from bench.launch import imported, shape
from bench.measure import checkpoint, fresh_copy, median, spread
from bench.smtp_sink import free_port
from journey.db import session_scope
from journey.services.delivery import deliver_all
from journey.services.sweep import launch

TRAINEES = 20
REMIND_AT = "2026-09-18T09:00"  # a week before the training: its reminders are due
TARGET_S = 5.0
TIMEOUT = 180


def _journey(ctx: Context, args: list[str], url: str | None = None) -> tuple[float, str, float]:
    """Run ``journey ARGS`` with the bench's state folder; (wall seconds, stdout, CPU
    seconds of the command's process: on a busy machine the wall time says less)."""
    folder = ctx.folder("server")
    values = {"state_dir": str(folder / "state"), "outbox_dir": str(folder / "outbox")}
    if url is not None:
        values["database_url"] = url
    argv = [str(Path(sys.executable).with_name("journey")), *args]
    before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=child_env(**values), cwd=ctx.work, capture_output=True, text=True, timeout=TIMEOUT
    )
    seconds = time.perf_counter() - start
    cpu = _children_cpu() - before
    if done.returncode != 0:
        raise RuntimeError(f"journey {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return seconds, done.stdout, cpu


def _children_cpu() -> float:
    """User and system CPU seconds of the ended child processes so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _templates(ctx: Context) -> tuple[Path, Path]:
    """(a database with the cohort imported, the same launched and its notices delivered)."""
    folder = ctx.folder("server")
    imported_url = fresh_copy(ctx.built["empty"], folder, "imported.db")
    imported(ctx, TRAINEES, imported_url)
    checkpoint(imported_url)
    launched_url = fresh_copy(folder / "imported.db", folder, "launched.db")
    at = shape(TRAINEES).launched_at
    with session_scope(launched_url) as session:
        launch(session=session, cohort_id=shape(TRAINEES).cohort_id, now=at)
    settings = ctx.smtp_settings(launched_url, smtp_host=None, outbox_dir=folder / "outbox")
    deliver_all(url=launched_url, settings=settings, now=at)
    checkpoint(launched_url)
    return folder / "imported.db", folder / "launched.db"


def _timed_runs(
    ctx: Context, args: list[str], template: Path, runs: int, name: str
) -> dict[str, Any]:
    """Median wall time of ``journey ARGS`` over ``runs`` fresh copies of ``template``."""
    times, cpus, last = [], [], ""
    for i in range(runs):
        url = fresh_copy(template, ctx.folder("runs"), f"server-{name}-{i}.db")
        seconds, out, cpu = _journey(ctx, args, url)
        times.append(seconds)
        cpus.append(cpu)
        lines = out.strip().splitlines()
        last = " | ".join(lines[:3])[:300]
    return {"wall_s": spread(times), "cpu_s": spread(cpus), "output": last}


def run(ctx: Context) -> None:
    imported_db, launched_db = _templates(ctx)
    cid = shape(TRAINEES).cohort_id
    launch_now = f"{shape(TRAINEES).launched_at.astimezone(UTC):%Y-%m-%dT%H:%M}"
    runs = max(ctx.sizes.cli_runs, 2)
    port = free_port()
    start_s, started, _ = _journey(ctx, ["server", "start", "--port", str(port)])
    try:
        out: dict[str, Any] = {
            "server_start_s": round(start_s, 2),
            "server_start_output": started.strip().splitlines()[0],
            "runs_each": runs,
            "launch_20": _timed_runs(
                ctx, ["launch", cid, "--now", launch_now], imported_db, runs, "launch"
            ),
            "remind_20": _timed_runs(
                ctx, ["remind", "--now", REMIND_AT], launched_db, runs, "remind"
            ),
        }
    finally:
        _journey(ctx, ["server", "stop"])
    url = fresh_copy(imported_db, ctx.folder("runs"), "server-ephemeral.db")
    ephemeral_s, _, _ = _journey(ctx, ["launch", cid, "--now", launch_now], url)
    out["ephemeral_launch_20_s"] = round(ephemeral_s, 2)
    worst = max(median(out[k]["wall_s"]["runs"]) for k in ("launch_20", "remind_20"))
    out["target"] = {
        "what": f"launch and remind, {TRAINEES} trainees, server running, median of {runs}",
        "figure_s": round(worst, 2),
        "target_s": TARGET_S,
        "met": worst <= TARGET_S,
    }
    ctx.results["server"] = out
