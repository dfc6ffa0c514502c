"""Benchmark 1: one ``send-reminders`` run over 1,000 and 10,000 active trainees.

Figures per size, each run on a fresh copy of the same seeded database:

- ``direct``: the queueing service alone, ``journey.services.sweep.sweep`` (what the
  flow's ``queue-due-notices`` task calls), wall time and SQL statements;
- ``direct_dry``: the same with ``dry_run`` (computes, writes nothing);
- ``direct_equivalent``: everything the flow does, called directly, each part timed:
  sweep, ``deliver_all`` to the SMTP sink, and the cohort report that ``publish-cohort``
  turns into artifacts, for every cohort swept;
- ``flow_to_queued``: the run as the issue scopes it, "due computation and queueing":
  the real ``send_reminders`` flow, warm, with its delivery and publishing steps patched
  out (in this process only), so it ends once the day's notices are queued. Compared
  with ``direct`` (the same service called directly): the issue's target, at most 1.5x
  at 10,000 trainees;
- ``flow``: ``send_reminders(now=…)``, the whole Prefect flow (queue, deliver to the
  sink, events, and three artifacts per cohort swept), warm; compared with
  ``direct_equivalent``;
- ``flow_dry``: ``send_reminders(now=…, dry_run=True)``: due computation only, in Prefect;
- ``direct_profile`` (largest size) and ``flow_profile`` (smallest): pyinstrument,
  seconds by cost (the innermost matching function wins; the rest is ``other``).
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import func, select

from bench.context import Context, process_settings, to_queued
from bench.measure import count_sql, fresh_copy, profile, settled, spread, timed
from bench.population import TODAY, Population, build_population
from journey.db import get_engine, session_scope
from journey.models import Notice, NoticeStatus
from journey.services.delivery import deliver_all
from journey.services.report import cohort_report
from journey.services.sweep import sweep

SWEEP_COSTS = [
    ("load cohorts and trainees", ["load_cohorts", "load_trainees", "mentor_people"]),
    ("engine: due notices per trainee", ["due"]),
    ("existing keys query + bookkeeping", ["queue_for_cohort"]),
    ("build rows", ["planned_row", "notice_row", "recipient_id"]),
    ("insert (multi-row VALUES)", ["insert_new"]),
    ("adopt rules", ["adopt_rules"]),
    ("commit", ["commit"]),
]
FLOW_COSTS = [
    ("queue: sweep service", ["sweep"]),
    ("deliver: claim", ["claim_batch"]),
    ("deliver: gate (load world, judge)", ["judge"]),
    ("deliver: render + build message", ["render_notice", "build_message"]),
    ("deliver: commit per group of outcomes", ["_settle"]),
    ("deliver: SMTP", ["_run_async"]),
    ("deliver: other (prepare, load rows)", ["deliver_batch"]),
    ("events (failures per batch, sends per run)", ["emit_failures", "emit_sent"]),
    ("publish: cohort report (DB + engine)", ["cohort_report"]),
    (
        "publish: artifact API calls",
        ["create_table_artifact", "create_progress_artifact", "create_markdown_artifact"],
    ),
    ("flow tags API call", ["add_tags"]),
]


def prepare(ctx: Context) -> None:
    """Build the seeded databases (once per run; each figure copies them)."""
    folder = ctx.folder("populations")
    for n in ctx.sizes.sweep_trainees:
        ctx.built[f"population-{n}"] = build_population(
            folder, trainees=n, cohorts=ctx.sizes.cohorts_for(n), seed=ctx.seed
        )


def _copy(ctx: Context, pop: Population, tag: str) -> str:
    return fresh_copy(pop.path, ctx.folder("runs"), f"sweep-{pop.trainees}-{tag}.db")


def _today(url: str) -> dict[str, Any]:
    """What today's sweep added: notices queued and skipped, and trainees concerned."""
    with session_scope(url) as session:
        new = select(Notice).where(Notice.created_at == TODAY).subquery()
        queued = session.scalar(
            select(func.count()).select_from(new).where(new.c.status != NoticeStatus.SKIPPED)
        )
        people = session.scalar(select(func.count(func.distinct(new.c.enrolment_id))))
        cohorts = session.scalar(select(func.count(func.distinct(new.c.cohort_id))))
    return {
        "queued_today": queued or 0,
        "trainees_with_a_notice_today": people or 0,
        "cohorts_with_a_notice_today": cohorts or 0,
    }


def _sweep_once(url: str, now: datetime, dry_run: bool) -> dict[str, Any]:
    engine = get_engine(url)
    with count_sql(engine) as sql:

        def run() -> Any:
            with session_scope(url) as session:
                return sweep(session=session, now=now, dry_run=dry_run)

        seconds, result = timed(run)
    return {
        "seconds": seconds,
        "statements": sql.statements,
        "commits": sql.commits,
        "top_statements": sql.top(),
        "queued": result.queued,
        "skipped": result.skipped,
        "known": result.known,
        "cohorts": len(result.cohort_ids),
    }


def _runs(
    ctx: Context, pop: Population, tag: str, dry_run: bool, repeats: int
) -> tuple[dict[str, Any], str]:
    """Median of ``repeats`` sweeps, each on a fresh copy; and the last copy's URL."""
    runs, url = [], ""
    for i in range(repeats):
        url = _copy(ctx, pop, f"{tag}{i}")
        runs.append(_sweep_once(url, TODAY, dry_run))
    figures = {"wall_s": spread([r["seconds"] for r in runs])}
    figures |= {k: v for k, v in runs[-1].items() if k != "seconds"}
    return figures, url


def _cohort_ids(url: str) -> list[str]:
    from journey.models import Cohort

    with session_scope(url) as session:
        return list(session.scalars(select(Cohort.id).where(Cohort.launched_at.is_not(None))))


def _direct_equivalent(ctx: Context, pop: Population) -> dict[str, Any]:
    """What the flow does, without Prefect: sweep, deliver to the sink, cohort reports."""
    url = _copy(ctx, pop, "equivalent")
    settings = ctx.smtp_settings(url)
    cohort_ids = _cohort_ids(url)
    with count_sql(get_engine(url)) as sql:
        swept = _sweep_once(url, TODAY, dry_run=False)
        deliver_s, delivered = timed(lambda: deliver_all(url=url, settings=settings, now=TODAY))

        def reports() -> None:
            for cohort_id in cohort_ids:
                with session_scope(url) as session:
                    cohort_report(session=session, cohort_id=cohort_id, now=TODAY)

        report_s, _ = timed(reports)
    return {
        "wall_s": round(swept["seconds"] + deliver_s + report_s, 3),
        "sweep_s": round(swept["seconds"], 3),
        "deliver_s": round(deliver_s, 3),
        "cohort_reports_s": round(report_s, 3),
        "cohort_reports": len(cohort_ids),
        "sent": delivered.sent,
        "statements": sql.statements,
        "commits": sql.commits,
    }


def _today_figures(url: str, trainees: int) -> dict[str, Any]:
    today = _today(url)
    today["share_of_trainees"] = round(today["trainees_with_a_notice_today"] / trainees, 4)
    return today


def direct(ctx: Context) -> None:
    """The figures without Prefect (taken before Prefect starts in this process)."""
    out = ctx.results.setdefault("sweep", {})
    largest = max(ctx.sizes.sweep_trainees)
    smallest: Population = ctx.built[f"population-{min(ctx.sizes.sweep_trainees)}"]
    _sweep_once(_copy(ctx, smallest, "warm-up"), TODAY, True)  # imports, caches: untimed
    for n in ctx.sizes.sweep_trainees:
        pop: Population = ctx.built[f"population-{n}"]
        figures: dict[str, Any] = {"population": pop.describe()}
        figures["direct"], url = _runs(ctx, pop, "direct", False, ctx.sizes.repeats)
        figures["today"] = _today_figures(url, pop.trainees)
        figures["direct_dry"], _ = _runs(ctx, pop, "dry", True, 1)
        figures["direct_equivalent"] = _direct_equivalent(ctx, pop)
        if n == largest:
            url = _copy(ctx, pop, "profile")
            figures["direct_profile"] = profile(
                partial(_sweep_once, url, TODAY, False), SWEEP_COSTS
            )
        out[str(n)] = figures


# With Prefect (after the warm-up flow).


def _flow_once(
    ctx: Context, pop: Population, tag: str, dry_run: bool, queued_only: bool = False
) -> dict[str, Any]:
    """One ``send-reminders`` run on a fresh copy. ``queued_only``: with its delivery and
    publishing steps patched out (in this process only), so it ends once the day's
    notices are queued."""
    from journey.flows import send_reminders as module

    url = _copy(ctx, pop, tag)
    settled()  # the server has stored the last run's events and artifacts
    with ExitStack() as stack:
        stack.enter_context(process_settings(ctx.smtp_settings(url)))
        sql = stack.enter_context(count_sql(get_engine(url)))
        if queued_only:
            stack.enter_context(to_queued(module))
        seconds, summary = timed(lambda: module.send_reminders(now=TODAY, dry_run=dry_run))
    delivery = summary.delivery
    cohorts = 0 if dry_run or queued_only else len(summary.queued.cohorts)
    batches = delivery.batches if delivery else 0
    return {
        "seconds": seconds,
        "statements": sql.statements,
        "commits": sql.commits,
        "queued": summary.queued.queued,
        "sent": delivery.sent if delivery else 0,
        "delivery_batches": batches,
        "task_runs": 1 + (0 if dry_run or queued_only else batches + 1 + cohorts),
        "artifacts_published": 3 * cohorts,
    }


def _flow_profile(ctx: Context, pop: Population) -> dict[str, Any]:
    return profile(lambda: _flow_once(ctx, pop, "flow-profile", False), FLOW_COSTS)


def flows(ctx: Context) -> None:
    """The flow's figures (Prefect warm: the warm-up flow has run in this process)."""
    out = ctx.results["sweep"]
    smallest = min(ctx.sizes.sweep_trainees)
    for n in ctx.sizes.sweep_trainees:
        pop: Population = ctx.built[f"population-{n}"]
        figures = out[str(n)]
        for key, queued_only in (("flow_to_queued", True), ("flow", False)):
            runs = [
                _flow_once(ctx, pop, f"{key}{i}", False, queued_only)
                for i in range(ctx.sizes.flow_repeats)
            ]
            figures[key] = {"wall_s": spread([r["seconds"] for r in runs])}
            figures[key] |= {k: v for k, v in runs[-1].items() if k != "seconds"}
        dry = _flow_once(ctx, pop, "flow-dry", True)
        figures["flow_dry"] = {"wall_s": spread([dry.pop("seconds")]), **dry}
        if n == smallest:  # the shares of Prefect's own costs; the cheapest size to profile
            figures["flow_profile"] = _flow_profile(ctx, pop)
        flow_s = figures["flow"]["wall_s"]["median"]
        queued_s = figures["flow_to_queued"]["wall_s"]["median"]
        figures["ratios"] = {
            "flow_to_queued_over_direct_sweep": round(
                queued_s / figures["direct"]["wall_s"]["median"], 2
            ),
            "flow_over_direct_sweep": round(flow_s / figures["direct"]["wall_s"]["median"], 2),
            "flow_over_direct_equivalent": round(
                flow_s / figures["direct_equivalent"]["wall_s"], 2
            ),
            "flow_dry_over_direct_dry": round(
                figures["flow_dry"]["wall_s"]["median"] / figures["direct_dry"]["wall_s"]["median"],
                2,
            ),
        }
