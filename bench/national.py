"""Benchmark 6 (issue 14): national scale, SQLite and Postgres side by side.

Populations of 100 cohorts x 100 trainees and 1,000 x 100 (``--quick``: 10 x 50 and
20 x 50), seeded once on SQLite as :mod:`bench.population` builds them, then copied row
for row into a Postgres database of their own (:mod:`bench.national_pg`). "Yesterday's"
publishing is seeded too: each cohort's picture at ``YESTERDAY`` is recorded as published
to the bench's Prefect API, as the previous day's sweep would have left it, so today's
sweep publishes only the cohorts whose picture changed overnight. Every figure runs on a
fresh copy (a file copy; ``CREATE DATABASE … TEMPLATE`` on Postgres).

Figures, per backend and size:

- ``direct``: everything the ``send-reminders`` flow does, called directly: the sweep
  (time and SQL statements: the statements must not grow with trainees), ``deliver_all``
  to the bench's SMTP sink, and each swept cohort's report and picture digest, compared
  with what was last published (``journey.services.published``);
- ``flow``: the whole ``send-reminders`` flow, warm (queue, deliver, publish the cohorts
  whose picture changed); its ratio to ``direct`` (target: at most 1.2x);
- ``cli``: ``journey status`` (one cohort) and ``journey upcoming`` (``--days 7``: every
  cohort, and one) at the largest size, as subprocesses (target: 2 s or less).

Once per backend, on an outbox of ``WORKER_NOTICES`` notices: the ``deliver-notices``
flow in one worker process against the same in two (target: two at least 1.6x one's
rate), and the flow against raw aiosmtplib over the same three connections (target: at
least 0.9x), with the CPU each used (two cores are the ceiling here). And on SQLite at the
smallest size, what each way of knowing the last published picture costs: one query of
``published_pictures`` against asking Prefect for the latest artifacts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from bench.context import SENDER, Context, process_settings
from bench.env import REPO, child_env
from bench.measure import checkpoint, count_sql, fresh_copy, median, settled, spread, timed
from bench.national_pg import Databases
from bench.population import (
    TODAY,
    YESTERDAY,
    Outbox,
    Population,
    build_outbox,
    build_population,
)
from journey.db import get_engine, session_scope
from journey.models import Cohort, PublishedPicture
from journey.services.delivery import deliver_all
from journey.services.published import changed, last_published, picture_digest, record_published
from journey.services.report import cohort_report
from journey.services.sweep import sweep

FULL = ((100, 100), (1_000, 100))  # (cohorts, trainees each)
QUICK = ((10, 50), (20, 50))
WORKER_NOTICES = {"full": 4_000, "quick": 600}
BACKENDS = ("sqlite", "postgres")
QUIET_WAIT = 20  # seconds, at most, waiting for a quiet machine before a timed run
TARGETS = {
    "flow_over_direct": 1.2,  # at most
    "two_workers_over_one": 1.6,  # at least
    "flow_over_raw_same_connections": 0.9,  # at least (rates)
    "cli_s": 2.0,  # at most
}


@dataclass
class Built:
    """What :func:`prepare` made: SQLite templates, Postgres templates, the outbox."""

    mode: str
    api: str
    pops: dict[int, Population] = field(default_factory=dict)
    pg: Databases | None = None
    outbox: Outbox | None = None
    counter: int = 0


def _mode(ctx: Context) -> str:
    return "quick" if ctx.sizes.cli_runs <= 2 else "full"


def _sizes(ctx: Context) -> tuple[tuple[int, int], ...]:
    return QUICK if _mode(ctx) == "quick" else FULL


def _out(ctx: Context) -> dict[str, Any]:
    found: dict[str, Any] = ctx.results.setdefault("national", {})
    return found


def _built(ctx: Context) -> Built:
    built: Built = ctx.built["national"]
    return built


# Building.


def launched_ids(url: str) -> list[str]:
    with session_scope(url) as session:
        query = select(Cohort.id).where(Cohort.launched_at.is_not(None)).order_by(Cohort.id)
        return list(session.scalars(query))


def digests_at(url: str, at: datetime) -> dict[str, str]:
    """Each launched cohort's picture digest at ``at``."""
    ids = launched_ids(url)
    with session_scope(url) as session:
        return {c: picture_digest(cohort_report(session=session, cohort_id=c, now=at)) for c in ids}


def prime(url: str, api: str) -> float:
    """Record every cohort's picture at ``YESTERDAY`` as published to ``api``; seconds."""
    start = time.perf_counter()
    digests = digests_at(url, YESTERDAY)
    with session_scope(url) as session:
        record_published(session, api, digests, YESTERDAY)
    return time.perf_counter() - start


def prepare(ctx: Context) -> None:
    """Seed each size on SQLite (with yesterday's publishing), copy it to Postgres; and a
    full outbox for the workers, on both."""
    from bench import national_pg
    from journey.tasks.publish import prefect_api

    out = _out(ctx)
    built = Built(_mode(ctx), prefect_api())
    ctx.built["national"] = built
    out["prefect_api"] = built.api.split(" ")[0]
    folder = ctx.folder("national")
    reason = national_pg.available()
    if reason is None:
        built.pg = Databases(f"{os.getpid()}")
    else:
        out["postgres_skipped"] = reason
    seeding: dict[str, Any] = {}
    for cohorts, per in _sizes(ctx):
        n = cohorts * per
        pop = build_population(folder, trainees=n, cohorts=cohorts, seed=ctx.seed)
        primed = prime(f"sqlite:///{pop.path}", built.api)
        checkpoint(f"sqlite:///{pop.path}")
        built.pops[n] = pop
        seeding[str(n)] = {**pop.describe(), "prime_yesterday_s": round(primed, 1)}
        if built.pg is not None:
            _, seconds = built.pg.template(f"t{n}", pop.path)
            seeding[str(n)]["postgres_copy_s"] = round(seconds, 1)
    notices = WORKER_NOTICES[built.mode]
    built.outbox = build_outbox(folder, notices=notices, seed=ctx.seed)
    if built.pg is not None:
        built.pg.template("outbox", built.outbox.path)
    out["seeding"] = seeding


def fresh(ctx: Context, backend: str, label: str) -> str:
    """A fresh copy of template ``label`` (``t<trainees>`` or ``outbox``) on ``backend``."""
    built = _built(ctx)
    if backend == "postgres":
        assert built.pg is not None
        return built.pg.fresh(label)
    built.counter += 1
    source = built.outbox.path if label == "outbox" and built.outbox else None
    if source is None:
        source = built.pops[int(label[1:])].path
    return fresh_copy(source, ctx.folder("national-runs"), f"{label}-{built.counter}.db")


def done_with(ctx: Context, url: str) -> None:
    """Drop a copy (Postgres) or delete it (SQLite)."""
    built = _built(ctx)
    get_engine(url).dispose()
    if url.startswith("postgresql") and built.pg is not None:
        built.pg.drop(url)
        return
    path = Path(url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def backends(ctx: Context) -> list[str]:
    return [b for b in BACKENDS if b == "sqlite" or _built(ctx).pg is not None]


# Without Prefect.


def direct_once(ctx: Context, url: str) -> dict[str, Any]:
    """The flow's work called directly: sweep, deliver to the sink, reports and digests."""
    api = _built(ctx).api
    settings = ctx.smtp_settings(url)
    engine = get_engine(url)
    with count_sql(engine) as sql:

        def run_sweep() -> Any:
            with session_scope(url) as session:
                return sweep(session=session, now=TODAY)

        sweep_s, swept = timed(run_sweep)
    statements = sql.statements
    deliver_s, delivered = timed(lambda: deliver_all(url=url, settings=settings, now=TODAY))

    def pictures() -> list[str]:
        with session_scope(url) as session:
            digests = {
                c: picture_digest(cohort_report(session=session, cohort_id=c, now=TODAY))
                for c in swept.cohort_ids
            }
            return changed(session, api, digests)

    report_s, stale = timed(pictures)
    return {
        "wall_s": round(sweep_s + deliver_s + report_s, 3),
        "sweep_s": round(sweep_s, 3),
        "sweep_statements": statements,
        "sweep_top_statements": sql.top(4),
        "queued": swept.queued,
        "deliver_s": round(deliver_s, 3),
        "sent": delivered.sent,
        "reports_and_digests_s": round(report_s, 3),
        "cohorts_swept": len(swept.cohort_ids),
        "cohorts_changed": len(stale),
    }


def direct(ctx: Context) -> None:
    """Per backend and size, the direct work (before Prefect starts in this process)."""
    out = _out(ctx)
    for backend in backends(ctx):
        figures = out.setdefault(backend, {})
        for n in _built(ctx).pops:
            url = fresh(ctx, backend, f"t{n}")
            try:
                figures.setdefault(str(n), {})["direct"] = direct_once(ctx, url)
            finally:
                done_with(ctx, url)
        sizes = sorted(_built(ctx).pops)
        counts = [figures[str(n)]["direct"]["sweep_statements"] for n in sizes]
        figures["sweep_statements_by_trainees"] = dict(zip(map(str, sizes), counts, strict=True))
    cli(ctx)


def cli(ctx: Context) -> None:
    """``status`` and ``upcoming`` at the largest size, as subprocesses, on each backend."""
    from bench.cli_timing import measure

    largest = max(_built(ctx).pops)
    now = f"{TODAY:%Y-%m-%dT%H:%M}"
    runs = 2 if _mode(ctx) == "full" else 1
    commands = [
        ("status (one cohort)", ["status", "bench-000", "--now", now]),
        ("upcoming --days 7 (one cohort)", ["upcoming", "--cohort", "bench-000", "--now", now]),
        ("upcoming --days 7 (every cohort)", ["upcoming", "--days", "7", "--now", now]),
    ]
    for backend in backends(ctx):
        url = fresh(ctx, backend, f"t{largest}")
        try:
            found = {
                name: measure(ctx, args, lambda url=url: url, runs, imports=False)  # type: ignore[misc]
                for name, args in commands
            }
        finally:
            done_with(ctx, url)
        _out(ctx).setdefault(backend, {})["cli"] = {"trainees": largest, **found}


# With Prefect (warm, in this process).


def flow_once(ctx: Context, url: str) -> dict[str, Any]:
    """One whole ``send-reminders`` run; the cohorts it published (``published_pictures``
    rows it wrote)."""
    from journey.flows.send_reminders import send_reminders

    settled(QUIET_WAIT)
    with ExitStack() as stack:
        stack.enter_context(process_settings(ctx.smtp_settings(url)))
        sql = stack.enter_context(count_sql(get_engine(url)))
        seconds, summary = timed(lambda: send_reminders(now=TODAY))
    with session_scope(url) as session:
        published = session.scalar(
            select(func.count()).where(PublishedPicture.published_at == TODAY)
        )
    delivery = summary.delivery
    return {
        "wall_s": round(seconds, 3),
        "statements": sql.statements,
        "queued": summary.queued.queued,
        "sent": delivery.sent if delivery else 0,
        "cohorts_published": published or 0,
        "artifacts_published": 3 * (published or 0),
        "task_runs": 1 + (delivery.batches if delivery else 0) + 1,
    }


def flows(ctx: Context) -> None:
    out = _out(ctx)
    for backend in backends(ctx):
        for n in _built(ctx).pops:
            url = fresh(ctx, backend, f"t{n}")
            try:
                figures = out[backend][str(n)]
                figures["flow"] = flow_once(ctx, url)
                figures["flow_over_direct"] = round(
                    figures["flow"]["wall_s"] / figures["direct"]["wall_s"], 2
                )
            finally:
                done_with(ctx, url)
    out["digest_store"] = digest_store(ctx)


def digest_store(ctx: Context) -> dict[str, Any]:
    """SQLite, smallest size: publish every cohort (as every sweep did before), then what
    knowing the last picture costs: a query of ``published_pictures`` against Prefect's
    latest artifacts for the same keys (each the median of 5)."""
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    from journey.tasks.publish import artifact_keys, publish_cohorts

    @flow(name="bench-publish-all")
    def publish_all(ids: list[str]) -> dict[str, Any]:
        return publish_cohorts(ids, TODAY)

    built = _built(ctx)
    n = min(built.pops)
    url = fresh(ctx, "sqlite", f"t{n}")
    try:
        ids = launched_ids(url)
        with session_scope(url) as session:
            session.execute(delete(PublishedPicture))
        settled(QUIET_WAIT)
        with process_settings(ctx.smtp_settings(url)):
            every_s, result = timed(lambda: publish_all(ids))
        keys = [k for c in ids for k in artifact_keys(c).values()]

        def ask_db() -> int:
            with session_scope(url) as session:
                return len(last_published(session, built.api, ids))

        def ask_prefect() -> int:
            wanted = ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=keys))
            with get_client(sync_client=True) as client:
                return len(client.read_latest_artifacts(artifact_filter=wanted))

        db = [timed(ask_db) for _ in range(5)]
        prefect = [timed(ask_prefect) for _ in range(5)]
    finally:
        done_with(ctx, url)
    return {
        "cohorts": len(ids),
        "publish_every_cohort_s": round(every_s, 3),
        "published": len(result["published"]),
        "db_query_ms": round(1000 * median([s for s, _ in db]), 2),
        "db_rows": db[0][1],
        "prefect_latest_artifacts_ms": round(1000 * median([s for s, _ in prefect]), 2),
        "prefect_artifacts": prefect[0][1],
    }


# Delivery workers: processes of their own.


def _ticks(pid: int) -> int:
    """CPU ticks of ``pid`` and its living descendants (and children they reaped)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            ticks[int(entry.name)] = sum(int(f) for f in fields[11:15])
    mine, grew = {pid}, True
    while grew:
        before = len(mine)
        mine |= {p for p, parent in parents.items() if parent in mine}
        grew = len(mine) > before
    return sum(ticks.get(p, 0) for p in mine)


def _sink_pid() -> int | None:
    """The bench's SMTP sink process (a child of this one), if found."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if parent == os.getpid() and b"bench.smtp_sink" in line:
                return int(entry.name)
    return None


def _machine_ticks() -> int:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return user + nice + system + irq + softirq + steal


class Worker:
    """One ``bench.national_worker`` process, warm, taking commands."""

    def __init__(self, ctx: Context, name: str) -> None:
        home = ctx.folder(f"prefect-{name}")
        env = child_env() | {"PREFECT_HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.national_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )

    def ready(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"a delivery worker did not start (said {line!r})")

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        found: dict[str, Any] = json.loads(self.process.stdout.readline())
        if "error" in found:
            raise RuntimeError(f"a delivery worker failed: {found['error']}")
        return found

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _command(ctx: Context, url: str) -> dict[str, Any]:
    outbox = _built(ctx).outbox
    assert outbox is not None
    return {
        "url": url,
        "now": outbox.at.isoformat(),
        "smtp_host": ctx.sink.host,
        "smtp_port": ctx.sink.port,
        "sender": SENDER,
        "outbox_dir": str(ctx.folder("national-eml")),
    }


def _deliver(ctx: Context, workers: list[Worker], backend: str) -> dict[str, Any]:
    """Every worker given runs ``deliver-notices`` on one fresh outbox at once."""
    url = fresh(ctx, backend, "outbox")
    try:
        settled(QUIET_WAIT)
        pids = [w.process.pid for w in workers]
        sink_pid = _sink_pid()
        before = (_machine_ticks(), sum(map(_ticks, pids)), _ticks(sink_pid) if sink_pid else 0)
        for w in workers:
            w.send(_command(ctx, url))
        answers = [w.answer() for w in workers]
        after = (_machine_ticks(), sum(map(_ticks, pids)), _ticks(sink_pid) if sink_pid else 0)
    finally:
        done_with(ctx, url)
    notices = _built(ctx).outbox.notices  # type: ignore[union-attr]
    sent = sum(a["sent"] for a in answers)
    if sent != notices:
        raise RuntimeError(f"{len(workers)} workers sent {sent} of {notices}")
    wall = max(a["end"] for a in answers) - min(a["start"] for a in answers)
    hz = os.sysconf("SC_CLK_TCK")
    cpu = [(b - a) / hz for a, b in zip(before, after, strict=True)]
    return {
        "wall_s": round(wall, 3),
        "messages_per_s": round(notices / wall, 1),
        "ms_per_message": round(1000 * wall / notices, 3),
        "sent_each": [a["sent"] for a in answers],
        "sent_total": sent,
        "cpu_ms_per_message": {
            "machine": round(1000 * cpu[0] / notices, 3),
            "workers_and_their_prefect": round(1000 * cpu[1] / notices, 3),
            "sink": round(1000 * cpu[2] / notices, 3),
        },
        "machine_busy_share": round(cpu[0] / (wall * (os.cpu_count() or 1)), 3),
    }


def _rates(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = max(runs, key=lambda r: r["messages_per_s"])
    return {
        "messages_per_s": spread([r["messages_per_s"] for r in runs]),
        "ms_per_message": median([r["ms_per_message"] for r in runs]),
        "last": runs[-1],
        "fastest": best,
    }


def _raw(ctx: Context) -> dict[str, Any]:
    """Raw aiosmtplib on the outbox's messages, rendered beforehand: 1, 2 and 3 connections."""
    from bench import delivery

    saved = ctx.built.get("outbox")
    ctx.built["outbox"] = _built(ctx).outbox
    try:
        delivery.warm_templates(ctx)
        _, messages = delivery.prerender(ctx)
        found = {}
        for connections in (1, 2, 3):
            runs = []
            for _ in range(2):
                settled(QUIET_WAIT)
                one = delivery._raw(ctx, messages, connections)
                runs.append(1000 * one["seconds"] / one["sent"])
            found[f"{connections}_connections_ms_per_message"] = round(median(runs), 3)
    finally:
        if saved is None:
            ctx.built.pop("outbox", None)
        else:
            ctx.built["outbox"] = saved
    return found


def workers(ctx: Context) -> None:
    """One worker against two, per backend; the flow against raw over three connections."""
    out = _out(ctx)
    repeats = 2 if _mode(ctx) == "full" else 1
    pool = [Worker(ctx, "worker-a"), Worker(ctx, "worker-b")]
    try:
        for w in pool:
            w.ready()
        for w in pool:  # each renders and connects once, untimed
            url = fresh(ctx, "sqlite", "outbox")
            w.send(_command(ctx, url))
            w.answer()
            done_with(ctx, url)
        for backend in backends(ctx):
            one: list[dict[str, Any]] = []
            two: list[dict[str, Any]] = []
            for _ in range(repeats):  # interleaved, so drift hits both alike
                one.append(_deliver(ctx, pool[:1], backend))
                two.append(_deliver(ctx, pool, backend))
            rate_one, rate_two = _rates(one), _rates(two)
            figures: dict[str, Any] = {"notices": one[0]["sent_total"], "one": rate_one}
            figures["two"] = rate_two
            figures["two_over_one"] = round(
                rate_two["messages_per_s"]["median"] / rate_one["messages_per_s"]["median"], 2
            )
            out.setdefault(backend, {})["workers"] = figures
    finally:
        for w in pool:
            w.stop()
    out["raw"] = _raw(ctx)
    raw3 = out["raw"]["3_connections_ms_per_message"]
    for backend in backends(ctx):
        flow_ms = out[backend]["workers"]["one"]["ms_per_message"]
        out[backend]["workers"]["flow_over_raw_3_connections"] = round(raw3 / flow_ms, 2)
    out["targets"] = targets(ctx)


def targets(ctx: Context) -> dict[str, Any]:
    """Each target per backend: the figure and whether it is met."""
    out = _out(ctx)
    largest = str(max(_built(ctx).pops))
    found: dict[str, Any] = {}
    for backend in backends(ctx):
        b = out.get(backend, {})
        counts = list(b.get("sweep_statements_by_trainees", {}).values())
        w = b.get("workers", {})
        cli_s = {k: v["wall_s"]["median"] for k, v in b.get("cli", {}).items() if k != "trainees"}
        ratios = {n: b[n]["flow_over_direct"] for n in b if n.isdigit() and "flow" in b[n]}
        found[backend] = {
            "sweep_statements_constant": {"figure": counts, "met": len(set(counts)) == 1},
            "flow_over_direct": {
                "figure": ratios,
                "met": bool(ratios) and max(ratios.values()) <= TARGETS["flow_over_direct"],
            },
            "two_workers_over_one": {
                "figure": w.get("two_over_one"),
                "met": w.get("two_over_one", 0) >= TARGETS["two_workers_over_one"],
            },
            "flow_over_raw_same_connections": {
                "figure": w.get("flow_over_raw_3_connections"),
                "met": w.get("flow_over_raw_3_connections", 0)
                >= TARGETS["flow_over_raw_same_connections"],
            },
            f"cli_at_{largest}_s": {
                "figure": cli_s,
                "met": bool(cli_s) and max(cli_s.values()) <= TARGETS["cli_s"],
            },
        }
    return found


def finish(ctx: Context) -> None:
    """Drop the Postgres databases made for the run."""
    built: Built | None = ctx.built.get("national")
    if built is not None and built.pg is not None:
        built.pg.drop_all()


def merge(into: Path, source: Path) -> None:
    """Put ``source``'s national section (and its run's facts) into ``into``, keeping the
    other sections' figures: ``python -m bench.national MERGE-FROM [INTO]``."""
    found = json.loads(source.read_text())
    results = json.loads(into.read_text()) if into.exists() else {}
    national = found["national"]
    national["run"] = {
        k: found.get(k) for k in ("machine", "mode", "steps", "warnings", "errors", "duration_s")
    }
    results["national"] = national
    into.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


if __name__ == "__main__":
    merge(
        Path(sys.argv[2]) if len(sys.argv) > 2 else REPO / "bench" / "results.json",
        Path(sys.argv[1]),
    )
