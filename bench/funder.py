"""Benchmark 5: the funder's report at national scale (issue 12).

A grant of ``report_cohorts`` cohorts of ``report_trainees`` trainees (100 x 100; quick
5 x 20) is seeded once (:mod:`bench.funder_seed`) into SQLite and copied into a schema
of its own in the Postgres at 127.0.0.1:5432 (database ``test``; ``BENCH_POSTGRES_URL``
names another server; none answering, Postgres is skipped with a note). On each backend:
``funder_report`` over every cohort (median of ``report_runs``, after one untimed run),
each renderer on its figures, the SQL statements for 1, 10 and every cohort (one more
query per cohort or per trainee would show as growth), and the whole
``journey report <ids> --format md --out F`` as a subprocess (wall and CPU time, and its
peak resident memory in one more run). CPU time is given beside wall time because the
report is CPU-bound: on a busy machine its wall time says more about the others.
On SQLite the report is also profiled once, by where its time goes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.context import Context
from bench.env import child_env, machine
from bench.funder_seed import REPORT_NOW, build_grant, copy_database
from bench.measure import count_sql, fresh_copy, profile, spread, timed
from journey.db import get_engine, session_scope
from journey.services.funder_report import FunderReport, funder_report

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = REPORT_NOW.isoformat()
TIMEOUT = 300
SLOW = 2.0  # seconds: a renderer this slow is not timed again
PEAK = (  # the process's own high-water mark: ru_maxrss would count the bench's, forked
    "import atexit, re, sys\n"
    "def peak():\n"
    "    hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())\n"
    "    sys.stderr.write('\\nBENCH-PEAK-KIB=%s\\n' % (hwm[1] if hwm else 0))\n"
    "atexit.register(peak)\n"
    "sys.argv = ['journey', *sys.argv[1:]]\n"
    "from journey.cli import main\n"
    "main()\n"
)
PROFILE = (
    ("evaluation (every cohort and the totals, one reading)", ["evaluation_figures_each"]),
    ("loading cohorts", ["load_cohorts"]),
    ("loading trainees", ["load_trainees"]),
    ("engine: evaluate each trainee", ["evaluate"]),
    ("notice counts", ["notice_rows"]),
    ("figures from the facts", ["_figures"]),
)


def _renderers() -> tuple[dict[str, Callable[[FunderReport], str]], str | None]:
    """Each format's renderer; html only once its module exists (else a note why not)."""
    from journey.services.funder_report_formats import to_csv, to_json
    from journey.services.funder_report_markdown import to_markdown

    found: dict[str, Callable[[FunderReport], str]] = {
        "md": to_markdown,
        "csv": to_csv,
        "json": to_json,
    }
    try:
        from journey.services import funder_report_html  # type: ignore[attr-defined,unused-ignore]
    except ImportError as exc:
        return found, f"html not measured: {exc}"
    found["html"] = funder_report_html.to_html
    return found, None


def _schema() -> tuple[str, Callable[[], None]] | None:
    """A fresh schema in Postgres, as a URL, and how to drop it; None if none answers."""
    admin = create_engine(POSTGRES)
    try:
        with admin.begin() as conn:
            schema = f"journey_bench_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception:
        admin.dispose()
        return None
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"

    def drop() -> None:
        get_engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url, drop


def prepare(ctx: Context) -> None:
    """Seed the grant in SQLite; copy it into Postgres if one answers."""
    s = ctx.sizes
    grant = build_grant(
        ctx.folder("report"), cohorts=s.report_cohorts, per=s.report_trainees, seed=ctx.seed
    )
    ctx.built["grant"] = grant
    out: dict[str, Any] = {
        "measured": {k: v for k, v in machine().items() if k != "packages"},
        "cohorts": s.report_cohorts,
        "trainees_per_cohort": s.report_trainees,
        "now": NOW,
        "records": grant.counts,
        "seed_s": round(grant.build_s, 1),
    }
    made = _schema()
    if made is None:
        out["postgres_skipped"] = f"no Postgres answered at {POSTGRES}"
    else:
        url, drop = made
        ctx.built["grant-pg"] = (url, drop)
        try:
            out["postgres_copy_s"] = round(copy_database(f"sqlite:///{grant.path}", url), 1)
        except Exception:
            drop()
            del ctx.built["grant-pg"]
            raise
    ctx.results["report"] = out


@contextmanager
def _postgres(ctx: Context) -> Iterator[str | None]:
    made = ctx.built.pop("grant-pg", None)
    try:
        yield None if made is None else made[0]
    finally:
        if made is not None:
            made[1]()


def run(ctx: Context) -> None:
    """Measure on SQLite, then on Postgres (its schema dropped afterwards)."""
    out = ctx.results["report"]
    sqlite = fresh_copy(ctx.built["grant"].path, ctx.folder("runs"), "grant.db")
    out["sqlite"] = _measure(ctx, sqlite)
    out["sqlite"]["profile"] = profile(lambda: _report(sqlite, _ids(ctx)), PROFILE)
    with _postgres(ctx) as postgres:
        if postgres is not None:
            out["postgres"] = _measure(ctx, postgres)
    _, note = _renderers()
    if note:
        out["html_note"] = note


def _ids(ctx: Context) -> list[str]:
    return list(ctx.built["grant"].cohort_ids)


def _report(url: str, ids: list[str]) -> FunderReport:
    with session_scope(url) as session:
        return funder_report(session=session, cohort_ids=ids, now=REPORT_NOW)


def _statements(url: str, ids: list[str]) -> dict[str, Any]:
    """SQL statements for a report on 1, 10 and all cohorts; the commonest for all."""
    out: dict[str, Any] = {}
    for n in sorted({1, min(10, len(ids)), len(ids)}):
        with count_sql(get_engine(url)) as counted:
            _report(url, ids[:n])
        out[str(n)] = counted.statements
    out["per_extra_cohort"] = round((out[str(len(ids))] - out["1"]) / max(len(ids) - 1, 1), 2)
    out["commonest"] = counted.top(8)
    return out


def _measure(ctx: Context, url: str) -> dict[str, Any]:
    ids = _ids(ctx)
    runs = ctx.sizes.report_runs
    first, figures = timed(lambda: _report(url, ids))
    times = [timed(lambda: _report(url, ids))[0] for _ in range(runs)]
    cpu = time.process_time()
    _report(url, ids)
    cpu = time.process_time() - cpu
    renderers, _ = _renderers()
    rendered: dict[str, Any] = {}
    for name, render in renderers.items():
        took: list[float] = []
        while len(took) < runs and sum(took) < SLOW:  # a slow renderer is timed once
            seconds, result = timed(lambda render=render: render(figures))  # type: ignore[misc]
            took.append(seconds)
        rendered[name] = {"wall_s": spread(took), "bytes": len(result.encode())}
    md = rendered["md"]["wall_s"]["median"]
    service = spread(times)
    return {
        "funder_report_first_s": round(first, 4),
        "funder_report_s": service,
        "funder_report_cpu_s": round(cpu, 3),
        "render": rendered,
        "report_and_md_s": round(service["median"] + md, 4),
        "statements": _statements(url, ids),
        "cli": _cli(ctx, url, ids, runs),
    }


def _cli(ctx: Context, url: str, ids: list[str], runs: int) -> dict[str, Any]:
    """``journey report <ids> --format md --out F``: wall time, and the peak resident
    memory of the process (``ru_maxrss`` from ``wait4``)."""
    out = ctx.folder("report") / "report.md"
    argv = [str(Path(sys.executable).with_name("journey")), "report", *ids]
    argv += ["--format", "md", "--out", str(out), "--now", NOW]
    env = child_env(database_url=url)
    errors = ctx.folder("report") / "stderr.txt"
    times, cpu = [], []
    for _ in range(runs):
        out.unlink(missing_ok=True)
        with errors.open("wb") as stderr:
            start = time.perf_counter()
            proc = subprocess.Popen(
                argv, env=env, cwd=ctx.work, stdout=subprocess.DEVNULL, stderr=stderr
            )
            _, status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - start)
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        cpu.append(usage.ru_utime + usage.ru_stime)
        if proc.returncode != 0:
            said = errors.read_text(errors="replace").strip()[-500:]
            raise RuntimeError(f"journey report failed ({proc.returncode}): {said}")
    size = out.stat().st_size
    wrapped = subprocess.run(
        [sys.executable, "-c", PEAK, *argv[1:]],
        env=env, cwd=ctx.work, capture_output=True, text=True, timeout=TIMEOUT, check=True,
    )  # fmt: skip
    peak = re.search(r"BENCH-PEAK-KIB=(\d+)", wrapped.stderr)
    return {
        "runs": runs,
        "wall_s": spread(times),
        "cpu_s": spread(cpu),
        "peak_rss_mib": round(int(peak[1]) / 1024, 1) if peak else None,
        "bytes": size,
    }
