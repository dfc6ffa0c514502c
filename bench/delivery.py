"""Benchmark 2: delivering 2,000 queued notices to an SMTP sink on 127.0.0.1.

- ``ours``: ``journey.services.delivery.deliver_all`` with SMTP settings as shipped
  (batches of 200 over 3 connections; claim, gate, render, send, one commit per group
  of 20 outcomes);
- ``ours_eml``: the same into an .eml folder (no SMTP host);
- ``ours_gc_frozen``: ``ours`` with the heap frozen first (``gc.freeze()``), to show
  what the garbage collector's full passes cost;
- ``flow``: the ``deliver-notices`` flow (the same, one task per batch, plus its events:
  one ``journey.notices.sent`` per cohort for the run), warm, run as the CLI runs flows;
- ``raw``: a bare aiosmtplib loop sending the same messages, rendered and built
  beforehand (``sendmail`` of their bytes), over one connection: the baseline the issue
  names; ``raw_two_connections`` is the same over two connections, which shows whether
  the client or the sink limits one connection here;
- ``unit_costs``: per message, the send-time gate, rendering, and building the message's
  bytes (measured 200 at a time, as delivery batches them);
- ``commit_probe``: recording one outcome on its own with the product's ``_settle``, as
  it is and with ``synchronous=NORMAL``, against one commit for a whole batch.
Target (the issue's): the ``deliver-notices`` flow at least 0.8 x raw, in messages per second;
the same ratio for ``deliver_all`` (the service without Prefect) is reported beside it.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from contextlib import ExitStack
from email.utils import parseaddr
from time import perf_counter
from typing import Any, TypeVar
from unittest.mock import patch

import aiosmtplib
from sqlalchemy import func, select

from bench.context import SENDER, Context, process_settings
from bench.measure import count_sql, fresh_copy, profile, settled, spread, timed
from bench.population import Outbox, build_outbox
from bench.probes import settle_probe
from journey.db import get_engine, session_scope
from journey.mail.render import build_message, render_notice
from journey.models import Notice
from journey.services.compose import judge
from journey.services.delivery import deliver_all

T = TypeVar("T")
TARGET = 0.8
DELIVERY_COSTS = [
    ("claim (UPDATE … RETURNING)", ["claim_batch"]),
    ("gate: load world + judge", ["judge"]),
    ("render (Jinja2 + .ics)", ["render_notice"]),
    ("build message bytes", ["build_message"]),
    ("commit per group of outcomes (_settle)", ["_settle"]),
    ("SMTP (aiosmtplib, sink round trips)", ["_run_async"]),
    ("prepare: load claimed rows, other", ["_prepare"]),
    ("events (failures per batch, sends per run)", ["emit_failures", "emit_sent"]),
]


def prepare(ctx: Context) -> None:
    ctx.built["outbox"] = build_outbox(
        ctx.folder("outbox"), notices=ctx.sizes.delivery_notices, seed=ctx.seed
    )


def _copy(ctx: Context, tag: str) -> str:
    outbox: Outbox = ctx.built["outbox"]
    return fresh_copy(outbox.path, ctx.folder("runs"), f"delivery-{tag}.db")


def _ours(ctx: Context, tag: str, smtp: bool) -> dict[str, Any]:
    outbox: Outbox = ctx.built["outbox"]
    url = _copy(ctx, tag)
    overrides: dict[str, Any] = {} if smtp else {"smtp_host": None}
    overrides["outbox_dir"] = ctx.folder(f"eml-{tag}")
    settings = ctx.smtp_settings(url, **overrides)
    with count_sql(get_engine(url)) as sql:
        seconds, result = timed(lambda: deliver_all(url=url, settings=settings, now=outbox.at))
    if result.sent != outbox.notices:
        raise RuntimeError(f"{tag}: sent {result.sent} of {outbox.notices} ({result.summary()})")
    return {
        "seconds": seconds,
        "sent": result.sent,
        "batches": result.batches,
        "statements": sql.statements,
        "commits": sql.commits,
    }


def _rate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    sent = runs[-1]["sent"]
    rates = [r["sent"] / r["seconds"] for r in runs]
    figures = {"messages_per_s": spread(rates), "wall_s": spread([r["seconds"] for r in runs])}
    figures |= {k: v for k, v in runs[-1].items() if k != "seconds"}
    figures["ms_per_message"] = round(1000 / figures["messages_per_s"]["median"], 2)
    figures["sent"] = sent
    return figures


Wire = tuple[list[str], bytes]  # a message as the raw loop sends it: recipients, bytes


def prerender(ctx: Context, chunk: int = 200) -> tuple[dict[str, Any], list[Wire]]:
    """The outbox's messages, gated and rendered as delivery does (200 at a time, each
    batch in a session of its own); and each step's cost per message."""
    outbox: Outbox = ctx.built["outbox"]
    url = _copy(ctx, "prerender")
    with session_scope(url) as session:
        ids = list(session.scalars(select(Notice.id).order_by(Notice.id)))
    spent = dict.fromkeys(("gate", "render", "build"), 0.0)
    messages: list[Wire] = []
    for start in range(0, len(ids), chunk):
        with session_scope(url) as session:
            notices = list(
                session.scalars(select(Notice).where(Notice.id.in_(ids[start : start + chunk])))
            )
            t0 = perf_counter()
            verdicts = judge(session, notices, outbox.at)
            spent["gate"] += perf_counter() - t0
            for verdict in verdicts:
                assert verdict.context is not None, verdict
                t0 = perf_counter()
                rendered = render_notice(verdict.context, stamp=outbox.at)
                t1 = perf_counter()
                mail = build_message(verdict.context, rendered, sender=SENDER, date=outbox.at)
                t2 = perf_counter()
                spent["render"] += t1 - t0
                spent["build"] += t2 - t1
                messages.append((list(mail.recipients), mail.data))
    per = {f"{k}_ms": round(1000 * v / len(messages), 3) for k, v in spent.items()}
    return {"messages": len(messages), **per}, messages


async def _raw_send(ctx: Context, messages: list[Wire], connections: int = 1) -> int:
    """Send every message; ``connections`` clients take the next message in turn."""
    envelope_from = parseaddr(SENDER)[1]
    todo = iter(messages)
    sent = 0

    async def one_connection() -> None:
        nonlocal sent
        client = aiosmtplib.SMTP(
            hostname=ctx.sink.host, port=ctx.sink.port, start_tls=False, use_tls=False, timeout=10
        )
        await client.connect()
        for recipients, data in todo:
            await client.sendmail(envelope_from, recipients, data)
            sent += 1
        await client.quit()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    return sent


def _raw(ctx: Context, messages: list[Wire], connections: int = 1) -> dict[str, Any]:
    seconds, sent = timed(lambda: asyncio.run(_raw_send(ctx, messages, connections)))
    return {"seconds": seconds, "sent": sent}


def _gc_frozen(fn: Callable[[], T]) -> T:
    """Run ``fn`` with every object alive now frozen (``gc.freeze``): a proposal's effect,
    the collector no longer rescanning the process's long-lived heap on each full pass."""
    gc.collect()
    gc.freeze()
    try:
        return fn()
    finally:
        gc.unfreeze()


def warm_templates(ctx: Context) -> None:
    """Render one notice of each kind first, so no timed run pays Jinja2's compilation."""
    outbox: Outbox = ctx.built["outbox"]
    url = _copy(ctx, "warm")
    with session_scope(url) as session:
        first = select(func.min(Notice.id)).group_by(Notice.template)
        notices = list(session.scalars(select(Notice).where(Notice.id.in_(first))))
        for verdict in judge(session, notices, outbox.at):
            assert verdict.context is not None
            rendered = render_notice(verdict.context, stamp=outbox.at)
            build_message(verdict.context, rendered, sender=SENDER, date=outbox.at)


def direct(ctx: Context) -> None:
    outbox: Outbox = ctx.built["outbox"]
    out: dict[str, Any] = {"notices": outbox.notices, "target_ratio": TARGET}
    warm_templates(ctx)
    out["unit_costs"], messages = prerender(ctx)  # bytes: nothing for the collector to scan
    raw, ours = [], []
    for i in range(ctx.sizes.repeats):  # interleaved, so drift hits both alike
        raw.append(_raw(ctx, messages))
        ours.append(_ours(ctx, f"ours{i}", smtp=True))
    out["raw_two_connections"] = _rate([_raw(ctx, messages, connections=2)])
    del messages
    out["ours"], out["raw"] = _rate(ours), _rate(raw)
    out["ours_gc_frozen"] = _rate([_gc_frozen(lambda: _ours(ctx, "ours-frozen", smtp=True))])
    out["unit_costs"]["smtp_raw_ms"] = out["raw"]["ms_per_message"]
    out["ours_eml"] = _rate([_ours(ctx, "eml", smtp=False)])
    copies = (_copy(ctx, "settle-a"), _copy(ctx, "settle-b"), _copy(ctx, "settle-c"))
    out["commit_probe"] = settle_probe(copies)
    ours_rate = out["ours"]["messages_per_s"]["median"]
    raw_rate = out["raw"]["messages_per_s"]["median"]
    out["ratio_ours_over_raw"] = round(ours_rate / raw_rate, 3)
    out["target_met"] = out["ratio_ours_over_raw"] >= TARGET
    url = _copy(ctx, "profile")
    settings = ctx.smtp_settings(url)
    out["profile"] = profile(  # five batches (1,000 notices) are enough for the shares
        lambda: deliver_all(url=url, settings=settings, now=outbox.at, max_batches=5),
        DELIVERY_COSTS,
    )
    ctx.results["delivery"] = out


def _flow_once(ctx: Context, tag: str, events: bool = True) -> dict[str, Any]:
    """One ``deliver-notices`` run; with ``events=False`` delivery's events (failures per
    batch, sends per cohort per run) are left out (patched in this process only), to see
    what they cost."""
    from journey.flows.deliver_notices import deliver_notices

    outbox: Outbox = ctx.built["outbox"]
    url = _copy(ctx, tag)
    with ExitStack() as stack:
        stack.enter_context(process_settings(ctx.smtp_settings(url)))
        sql = stack.enter_context(count_sql(get_engine(url)))
        if not events:
            for name in ("emit_failures", "emit_sent"):
                stack.enter_context(patch(f"journey.tasks.deliver.{name}", lambda outcomes: 0))
        seconds, summary = timed(lambda: deliver_notices(now=outbox.at))
    if summary.sent != outbox.notices:
        raise RuntimeError(f"{tag}: sent {summary.sent} of {outbox.notices}")
    return {
        "seconds": seconds,
        "sent": summary.sent,
        "batches": summary.batches,
        "task_runs": summary.batches + 1,
        "statements": sql.statements,
        "commits": sql.commits,
    }


def events_probe(count: int) -> dict[str, Any]:
    """What one event costs the emitting process: a flow emitting ``count`` of them (one
    per failed notice, through ``emit_failures`` as each delivery batch does) and waiting
    until they are sent, against the same flow emitting none. The server's work on each
    is not in it."""
    from prefect import flow
    from prefect.events.worker import EventsWorker

    from journey.services.delivery import NoticeOutcome
    from journey.tasks.publish import emit_failures

    @flow(name="bench-events")
    def emit(n: int) -> int:
        outcomes = [NoticeOutcome(i, "bench-outbox", "welcome", "failed") for i in range(n)]
        return emit_failures(outcomes)

    def run(n: int) -> float:
        def go() -> None:
            emit(n)
            EventsWorker.drain_all(at_exit=False)

        return timed(go)[0]

    none, many = run(0), run(count)
    return {"events": count, "ms_per_event": round(1000 * (many - none) / count, 2)}


def flows(ctx: Context) -> None:
    """The flow's runs, each once the server is idle; the events probe last, since the
    server goes on storing its events after it returns."""
    out = ctx.results["delivery"]
    runs = []
    for i in range(ctx.sizes.repeats):
        settled()
        runs.append(_flow_once(ctx, f"flow{i}"))
    out["flow"] = _rate(runs)
    raw = out["raw"]["messages_per_s"]["median"]
    out["ratio_flow_over_raw"] = round(out["flow"]["messages_per_s"]["median"] / raw, 3)
    out["flow_target_met"] = out["ratio_flow_over_raw"] >= TARGET
    extra = out["flow"]["wall_s"]["median"] - out["ours"]["wall_s"]["median"]
    out["flow_extra_ms_per_message"] = round(1000 * extra / out["notices"], 2)
    settled()
    out["flow_without_events"] = _rate([_flow_once(ctx, "flow-no-events", events=False)])
    settled()
    out["events_probe"] = events_probe(out["notices"])
