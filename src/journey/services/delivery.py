"""Delivering the outbox: claim a batch with a lease, gate, render, send, mark.

Claims are atomic (``FOR UPDATE SKIP LOCKED`` on Postgres; SQLite has one writer), so
concurrent workers never hold the same notice; a crashed worker's claims lapse with
their lease and become claimable again. Outcomes are committed in small groups while the
batch is sent (every ``settle_every`` outcomes, or sooner: on the next outcome once the
oldest has waited a second), so a crash re-sends at most a group and the messages in
flight, each with the same Message-ID. One commit per message cost more than sending
it (docs/PERFORMANCE.md); ``settle_every=1`` brings it back.

A batch claims no more than a provider's limit leaves (:func:`~._leases.pace`); then the
run stops, not waiting for the window to move (a big launch would hold the terminal, and
the next sweep, for many minutes), and counts what it held back (``held_back``): pending
for the next sweep, not a fault. A server's 4.7.x "slow down" holds back the same way.

Nothing is left claimed by a run that stops: when the mail server cannot be reached or
the outbox folder cannot be written, or sending raises, the batch's unsent notices go
back to pending at once with the reason in ``last_error``, and the result says why
(:meth:`DeliveryResult.incomplete`).

The run's result is :class:`journey.services.outcomes.DeliveryResult`; the claims and
settlements of a batch live in :mod:`journey.services._leases`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from journey.db import session_scope
from journey.mail.outbox_folder import OutboxUnavailable, write_eml_batch
from journey.mail.outgoing import Outgoing
from journey.mail.redact import redact
from journey.mail.render import (
    Mail,
    NoticeContext,
    build_message,
    message_id_for,
    render_notice,
    sender_domain,
)
from journey.mail.transport import SmtpUnavailable, send_batch
from journey.models import Notice, NoticeStatus
from journey.services._leases import Claims, RunClock, Settlements, pace, release
from journey.services.compose import Verdict, judge
from journey.services.outcomes import DeliveryResult, NoticeOutcome
from journey.settings import Settings

T = TypeVar("T")
logger = logging.getLogger(__name__)


def destination(settings: Settings) -> str:
    """Where notices go, in words."""
    if settings.smtp_host:
        return f"SMTP {settings.smtp_server}"
    return f"outbox folder {settings.outbox_dir.resolve()}"


def worker_name() -> str:
    """Who holds a claim: host, process and thread (flows may deliver from threads)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def claim_batch(
    session: Session, *, worker: str, now: datetime, limit: int, lease_seconds: int
) -> list[int]:
    """Claim up to ``limit`` due notices (pending, or claimed with a lapsed lease).

    One statement, ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id``:
    on Postgres concurrent claimers skip each other's rows; on SQLite the statement takes
    the write lock before it reads, so two claimers queue up instead of overlapping.
    """
    claimable = (
        select(Notice.id)
        .where(_claimable(now))
        .order_by(Notice.due_at, Notice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(Notice)
        .where(Notice.id.in_(claimable.scalar_subquery()))
        .values(
            status=NoticeStatus.CLAIMED,
            claimed_by=worker,
            lease_until=now + timedelta(seconds=lease_seconds),
        )
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(claim))


def _prepare(
    url: str, ids: Sequence[int], now: datetime, settings: Settings, result: DeliveryResult
) -> tuple[list[Outgoing], dict[int, tuple[str, str]]]:
    """Gate a claimed batch; stale notices are settled here, the rest get their Message-ID.

    Returns the messages to send (each rendered when its turn comes, see
    :mod:`journey.mail.transport`), and each one's (cohort id, template) for the outcomes.
    """
    outgoing = []
    about: dict[int, tuple[str, str]] = {}
    with session_scope(url) as session:
        notices = list(
            session.scalars(select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id))
        )
        for verdict in judge(session, notices, now):
            notice, context = verdict.notice, verdict.context
            if context is None:
                _close(verdict, result)
                continue
            notice.message_id = message_id_for(context.key, sender_domain(settings.sender))
            outgoing.append(Outgoing(notice.id, partial(_build, context, settings.sender, now)))
            about[notice.id] = (notice.cohort_id, notice.template)
    return outgoing, about


def _close(verdict: Verdict, result: DeliveryResult) -> None:
    """Cancel or skip a notice the send-time gate stopped."""
    notice = verdict.notice
    status = NoticeStatus.CANCELLED if verdict.cancel else NoticeStatus.SKIPPED
    notice.status, notice.last_error = status, verdict.cancel or verdict.skip
    notice.claimed_by, notice.lease_until = None, None
    result.cancelled += status is NoticeStatus.CANCELLED
    result.skipped += status is NoticeStatus.SKIPPED


def _build(context: NoticeContext, sender: str, now: datetime) -> Mail:
    """Render and build one message; ``now`` (the batch's claim time) is its Date and stamp."""
    return build_message(context, render_notice(context, stamp=now), sender=sender, date=now)


def _run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, even where an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def deliver_batch(
    *, url: str, settings: Settings, now: datetime, worker: str, clock: RunClock | None = None
) -> DeliveryResult:
    """Claim, gate, render and send one batch. ``batches`` is 0 when nothing was due.

    ``clock`` is the run's clock (see :class:`RunClock`); by default one starting at ``now``.
    """
    clock = clock or RunClock(now)
    result = DeliveryResult(destination(settings))
    ids = _claim_paced(url, settings, now, worker, result)
    if not ids:
        return result
    result.batches = 1
    outgoing, about = _prepare(url, ids, now, settings, result)
    settlements = Settlements(url, worker, clock, result, about, settings.settle_every)
    unsent = [o.notice_id for o in outgoing]
    try:
        result.unavailable = _send(
            outgoing, settings, settlements, Claims(url, worker, ids, clock, settings.lease_seconds)
        )
    except BaseException as exc:
        _give_back(settlements, url, worker, unsent, exc)
        raise
    settlements.flush()  # what was sent is recorded before the rest is given back
    if result.unavailable:
        result.retry += release(url, worker, unsent, result.unavailable)
    elif result.held_back:  # the server asked to slow down: what else is due waits too
        with session_scope(url) as session:
            result.held_back = max(result.held_back, _due(session, now) - result.retry)
    return result


def _claim_paced(
    url: str, settings: Settings, now: datetime, worker: str, result: DeliveryResult
) -> list[int]:
    """Claim a batch, no bigger than the provider's limits leave (counted and claimed in
    one transaction, under the pace lock); when they leave nothing, count the due notices
    held back into ``result`` instead."""
    with session_scope(url) as session:
        allowed = pace(session, settings, now)
        limit = settings.batch_size if allowed is None else min(settings.batch_size, allowed.left)
        if allowed is not None and limit == 0:
            result.held_back = _due(session, now)
            result.held_by = allowed.reason if result.held_back else None
            return []
        return claim_batch(
            session, worker=worker, now=now, limit=limit, lease_seconds=settings.lease_seconds
        )


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Due notices free to claim: pending, or claimed with a lapsed lease."""
    return (Notice.due_at <= now) & or_(
        Notice.status == NoticeStatus.PENDING,
        (Notice.status == NoticeStatus.CLAIMED) & (Notice.lease_until < now),
    )


def _due(session: Session, now: datetime) -> int:
    """How many due notices are free to claim."""
    return session.scalar(select(func.count()).select_from(Notice).where(_claimable(now))) or 0


def _send(
    outgoing: list[Outgoing], settings: Settings, settlements: Settlements, claims: Claims
) -> str | None:
    """Send the batch, or write it to the outbox folder when no SMTP host is set; why the
    destination could not be used, or None."""
    if not settings.smtp_host:
        try:
            write_eml_batch(outgoing, settings.outbox_dir, on_result=settlements)
        except OutboxUnavailable as exc:
            return f"{exc} (JOURNEY_OUTBOX_DIR)"
        return None
    try:
        _run_async(send_batch(outgoing, settings, on_result=settlements, still_held=claims))
    except SmtpUnavailable as exc:
        return str(exc)
    return None


def _give_back(
    settlements: Settlements, url: str, worker: str, ids: Sequence[int], exc: BaseException
) -> None:
    """Sending raised: record what was sent, release the rest (so a retry of the task, or
    the next run, can claim them at once), and let the original error through."""
    try:
        settlements.flush()
        release(url, worker, ids, redact(f"not sent: {type(exc).__name__}: {exc}")[:500])
    except Exception:  # the database may be what failed; the claims then lapse with the lease
        logger.warning("could not release the batch's claims", exc_info=True)


BatchRunner = Callable[[datetime, str], DeliveryResult]  # (claim time, worker) -> one batch


def deliver_all(
    *,
    url: str,
    settings: Settings,
    now: datetime,
    worker: str | None = None,
    max_batches: int | None = None,
    run_batch: BatchRunner | None = None,
    into: DeliveryResult | None = None,
    clock: RunClock | None = None,
) -> DeliveryResult:
    """Deliver batch after batch until nothing due is left (or the server is down, or
    the provider's pace holds the rest back).

    The one delivery loop: the flows run it with ``run_batch`` the ``deliver-batch`` task
    (one Prefect task per batch, never per notice); by default each batch is
    :func:`deliver_batch` on the run's clock. ``into`` is the total to count the batches
    into, for a caller that must still see what was sent when a batch raises. ``clock``
    is the run's clock, by default a :class:`RunClock` from ``now``.
    """
    worker = worker or worker_name()
    clock = clock or RunClock(now)  # each batch is leased from when it is claimed
    total = DeliveryResult(destination(settings)) if into is None else into
    if run_batch is None:
        run_batch = partial(_batch_on, url, settings, clock)
    while max_batches is None or total.batches < max_batches:
        batch = run_batch(clock(), worker)
        total.add(batch)
        if batch.batches == 0 or batch.unavailable or batch.held_back:
            break
    return total


def _batch_on(
    url: str, settings: Settings, clock: RunClock, now: datetime, worker: str
) -> DeliveryResult:
    return deliver_batch(url=url, settings=settings, now=now, worker=worker, clock=clock)


__all__ = [
    "BatchRunner",
    "DeliveryResult",
    "NoticeOutcome",
    "RunClock",
    "claim_batch",
    "deliver_all",
    "deliver_batch",
    "destination",
    "worker_name",
]
