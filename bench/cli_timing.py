"""Benchmark 4: the organiser's everyday commands, as subprocesses, and whether they
import Prefect.

Each command runs ``runs`` times (the median is reported) with the installed ``journey``
script against a database holding a launched cohort of 20 (its first notices delivered).
A ``record`` run gets a fresh copy of that database, so every run does the same work.
Two more runs per command look at imports: ``python -X importtime -m journey.cli …``
(any line naming prefect; the biggest top-level imports) and a wrapper that reports
whether ``prefect`` is in ``sys.modules`` when the command exits. In the full run,
``upcoming`` and ``status`` also run against the 10,000-trainee database.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import Context
from bench.env import child_env
from bench.launch import TRAINING_ON, imported, shape
from bench.measure import checkpoint, fresh_copy, median, spread
from bench.population import TODAY, Population
from journey.db import session_scope
from journey.services.delivery import deliver_all
from journey.services.sweep import launch

NOW = "2026-09-26T18:00"  # after the second training day (local time)
WRAPPER = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write("
    "'\\nBENCH-PREFECT-IMPORTED=%s\\n' % ('prefect' in sys.modules)))\n"
    "sys.argv = ['journey', *sys.argv[1:]]\n"
    "from journey.cli import main\n"
    "main()\n"
)
TIMEOUT = 180


def prepare(ctx: Context) -> None:
    """A launched cohort of 20 with its first notices delivered, and an attendance list."""
    folder = ctx.folder("cli")
    url = fresh_copy(ctx.built["empty"], folder, "cli.db")
    imported(ctx, 20, url)
    at = shape(20).launched_at
    with session_scope(url) as session:
        launch(session=session, cohort_id=shape(20).cohort_id, now=at)
    settings = ctx.smtp_settings(url, smtp_host=None, outbox_dir=folder / "outbox")
    deliver_all(url=url, settings=settings, now=at)
    checkpoint(url)
    ctx.built["cli-db"] = folder / "cli.db"
    emails = [f"t{j}.{shape(20).cohort_id}@example.org" for j in range(20)]
    (folder / "attendance.csv").write_text("name,email\n" + "".join(f"x,{e}\n" for e in emails))
    ctx.built["cli-emails"] = emails


def _journey() -> str:
    return str(Path(sys.executable).with_name("journey"))


def _run(ctx: Context, argv: list[str], url: str) -> subprocess.CompletedProcess[str]:
    env = child_env(database_url=url, outbox_dir=str(ctx.folder("cli") / "outbox"))
    done = subprocess.run(
        argv, env=env, cwd=ctx.work, capture_output=True, text=True, timeout=TIMEOUT
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[1:])} failed: {done.stderr.strip()[-500:]}")
    return done


def _imports(stderr: str) -> tuple[int, float, list[dict[str, Any]]]:
    """(lines naming prefect, all imports in ms, the largest top-level imports) from
    ``-X importtime``."""
    prefect = 0
    top: list[tuple[int, str]] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        prefect += "prefect" in name
        if cumulative.strip().isdigit() and not name[1:].startswith(" "):
            top.append((int(cumulative), name.strip()))
    top.sort(reverse=True)
    total = round(sum(us for us, _ in top) / 1000, 1)
    return prefect, total, [{"module": m, "ms": round(us / 1000, 1)} for us, m in top[:6]]


def measure(
    ctx: Context, args: list[str], database: Callable[[], str], runs: int, imports: bool = True
) -> dict[str, Any]:
    """Median wall time of ``journey ARGS`` over ``runs``, and (``imports``) what it imports."""
    times = []
    output = ""
    for _ in range(runs):
        url = database()
        start = time.perf_counter()
        done = _run(ctx, [_journey(), *args], url)
        times.append(time.perf_counter() - start)
        output = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    figures: dict[str, Any] = {"wall_s": spread(times), "last_line": output[:120]}
    if not imports:
        return figures
    wrapped = _run(ctx, [sys.executable, "-c", WRAPPER, *args], database())
    importtime = _run(
        ctx, [sys.executable, "-X", "importtime", "-m", "journey.cli", *args], database()
    )
    prefect_lines, import_ms, top = _imports(importtime.stderr)
    return figures | {
        "imports_ms": import_ms,
        "prefect_imported": "BENCH-PREFECT-IMPORTED=True" in wrapped.stderr,
        "importtime_prefect_lines": prefect_lines,
        "largest_imports": top,
    }


def run(ctx: Context) -> None:
    template: Path = ctx.built["cli-db"]
    shared = fresh_copy(template, ctx.folder("runs"), "cli-shared.db")
    cid = shape(20).cohort_id
    email = ctx.built["cli-emails"][0]
    attendance = ctx.folder("cli") / "attendance.csv"
    counter = iter(range(10_000))

    def fresh() -> str:
        return fresh_copy(template, ctx.folder("runs"), f"cli-{next(counter)}.db")

    commands: list[tuple[str, list[str], Callable[[], str]]] = [
        ("journey --help", ["--help"], lambda: shared),
        ("journey status (20)", ["status", cid, "--now", NOW], lambda: shared),
        ("journey upcoming (20)", ["upcoming", "--days", "14", "--now", NOW], lambda: shared),
        ("journey record (1 person)", ["record", cid, email, "training", "--now", NOW], fresh),
        (
            "journey record @file.csv (20)",
            ["record", cid, f"@{attendance}", "training", "--on", f"{TRAINING_ON}", "--now", NOW],
            fresh,
        ),
    ]
    everyday = len(commands)
    if ctx.sizes.cli_runs > 2:  # not in --quick
        commands += _at_scale(ctx)
    runs = ctx.sizes.cli_runs
    out = {  # at scale: fewer runs, and the imports are the same as the small database's
        name: measure(ctx, args, db, runs, True)
        if i < everyday
        else measure(ctx, args, db, 2, False)
        for i, (name, args, db) in enumerate(commands)
    }
    medians = [median(c["wall_s"]["runs"]) for c in list(out.values())[:everyday]]
    ctx.results["cli"] = {
        "runs_each": runs,
        "commands": out,
        "any_imports_prefect": any(c.get("prefect_imported") for c in out.values()),
        "slowest_everyday_median_s": round(max(medians), 3),
    }


def _at_scale(ctx: Context) -> list[tuple[str, list[str], Callable[[], str]]]:
    """``status`` and ``upcoming`` against the largest sweep database, if it was built."""
    largest = max(ctx.sizes.sweep_trainees)
    pop: Population | None = ctx.built.get(f"population-{largest}")
    if pop is None:
        return []
    big = fresh_copy(pop.path, ctx.folder("runs"), "cli-population.db")
    now = f"{TODAY:%Y-%m-%dT%H:%M}"
    return [
        (
            f"journey status (a cohort of {pop.trainees // pop.cohorts}, {largest:,} db)",
            ["status", "bench-000", "--now", now],
            lambda: big,
        ),
        (
            f"journey upcoming --days 7 ({largest:,} trainees)",
            ["upcoming", "--days", "7", "--now", now],
            lambda: big,
        ),
    ]
