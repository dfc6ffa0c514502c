"""Delivering the outbox: claim a batch with a lease, gate, render, send, mark.

Claims are atomic (``FOR UPDATE SKIP LOCKED`` on Postgres; SQLite has one writer), so
concurrent workers never hold the same notice; a crashed worker's claims lapse with
their lease and become claimable again. Outcomes are committed in small groups while the
batch is sent (every ``settle_every`` outcomes, or sooner: on the next outcome once the
oldest has waited a second), so a crash re-sends at most a group and the messages in
flight, each with the same Message-ID. One commit per message cost more than sending
it (docs/PERFORMANCE.md); ``settle_every=1`` brings it back.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from journey.db import session_scope
from journey.mail.render import (
    Mail,
    NoticeContext,
    build_message,
    message_id_for,
    render_notice,
)
from journey.mail.transport import (
    Outgoing,
    SendResult,
    SmtpUnavailable,
    send_batch,
    write_eml_batch,
)
from journey.models import Notice, NoticeStatus
from journey.services.compose import Verdict, judge
from journey.services.digest import DIGEST, mark_told
from journey.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class NoticeOutcome:
    """What became of one notice that was tried: ``sent`` or ``failed`` (no personal data)."""

    notice_id: int
    cohort_id: str
    template: str
    status: str
    detail: str | None = None


@dataclass
class DeliveryResult:
    """Counts of one delivery run, where the mail went, and each notice tried."""

    destination: str
    sent: int = 0
    failed: int = 0
    retry: int = 0
    cancelled: int = 0
    skipped: int = 0
    batches: int = 0
    unrecorded: int = 0  # sent after the claim lapsed to another worker: a possible copy
    unavailable: str | None = None
    outcomes: list[NoticeOutcome] = field(default_factory=list)

    def add(self, other: DeliveryResult) -> None:
        for name in ("sent", "failed", "retry", "cancelled", "skipped", "batches", "unrecorded"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes += other.outcomes
        self.unavailable = self.unavailable or other.unavailable

    @property
    def failures(self) -> list[str]:
        """One line per failed notice, with the server's reply."""
        return [f"notice {o.notice_id}: {o.detail}" for o in self.outcomes if o.status == "failed"]

    def summary(self) -> dict[str, Any]:
        """Counts, destination and failures, as plain data (what a flow run returns)."""
        names = (
            "destination",
            "sent",
            "failed",
            "retry",
            "cancelled",
            "skipped",
            "batches",
            "unrecorded",
        )
        return {
            **{n: getattr(self, n) for n in names},
            "unavailable": self.unavailable,
            "failures": self.failures,
        }


def destination(settings: Settings) -> str:
    """Where notices go, in words."""
    if settings.smtp_host:
        return f"SMTP {settings.smtp_host}:{settings.effective_smtp_port}"
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
        .where(
            Notice.due_at <= now,
            or_(
                Notice.status == NoticeStatus.PENDING,
                (Notice.status == NoticeStatus.CLAIMED) & (Notice.lease_until < now),
            ),
        )
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


class RunClock:
    """A delivery run's clock: the ``now`` it was given, advancing in real time.

    Leases are measured on it, so a batch claimed an hour into a long run is leased from
    then, not from the run's start; a run given a simulated ``now`` keeps its own timeline.
    """

    def __init__(self, start: datetime) -> None:
        self.start, self._began = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._began)


class Claims:
    """The claims one batch holds, renewed at half-lease; asked before each send."""

    def __init__(
        self, url: str, worker: str, ids: Sequence[int], clock: RunClock, lease_seconds: int
    ) -> None:
        self.url, self.worker, self.clock, self.lease = url, worker, clock, lease_seconds
        self.held, self.renewed = set(ids), clock()

    def __call__(self, notice_id: int) -> bool:
        """Whether this worker still holds the notice (renewing all it holds when due)."""
        if self.clock() - self.renewed >= timedelta(seconds=self.lease / 2):
            self.renew()
        return notice_id in self.held

    def renew(self) -> None:
        self.renewed = self.clock()
        with session_scope(self.url) as session:
            kept = session.scalars(
                update(Notice)
                .where(Notice.id.in_(self.held), *_mine(self.worker))
                .values(lease_until=self.renewed + timedelta(seconds=self.lease))
                .returning(Notice.id)
                .execution_options(synchronize_session=False)
            )
            self.held = set(kept)


def _mine(worker: str) -> tuple[Any, ...]:
    return (Notice.claimed_by == worker, Notice.status == NoticeStatus.CLAIMED)


def _settle(url: str, worker: str, ids: Sequence[int], **values: object) -> set[int]:
    """Record an outcome for the notices this worker still holds and end their claims, in
    one transaction; the ids it held."""
    with session_scope(url) as session:
        return _settle_in(session, worker, ids, **values)


def _settle_in(session: Session, worker: str, ids: Sequence[int], **values: object) -> set[int]:
    settled = session.scalars(
        update(Notice)
        .where(Notice.id.in_(ids), *_mine(worker))
        .values(claimed_by=None, lease_until=None, **values)
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return set(settled)


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
            notice.message_id = message_id_for(context.key)
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


_STATUS_AFTER = {
    "sent": NoticeStatus.SENT,
    "failed": NoticeStatus.FAILED,
    "retry": NoticeStatus.PENDING,  # a later sweep tries again
}


class Settlements:
    """A batch's send outcomes, recorded in groups as they come (see the module notes).

    Call it with each outcome; :meth:`flush` records what is left (call it at the end of
    the batch, even when sending fails). A group is one commit, with one
    ``UPDATE … WHERE id IN (…) RETURNING id`` per kind of outcome in it. A notice sent
    after its claim lapsed to another worker is counted as ``unrecorded``: a possible copy.
    """

    MAX_WAIT = 1.0  # seconds an outcome may wait for its group when sending is slow

    def __init__(
        self,
        url: str,
        worker: str,
        clock: RunClock,
        result: DeliveryResult,
        about: dict[int, tuple[str, str]],
        every: int,
    ) -> None:
        self.url, self.worker, self.clock, self.result = url, worker, clock, result
        self.about, self.every = about, every
        self.waiting: list[tuple[SendResult, datetime]] = []
        self.since = time.monotonic()

    def __call__(self, outcome: SendResult) -> None:
        if not self.waiting:
            self.since = time.monotonic()
        self.waiting.append((outcome, self.clock()))
        if len(self.waiting) >= self.every or time.monotonic() - self.since >= self.MAX_WAIT:
            self.flush()

    def flush(self) -> None:
        group, self.waiting = self.waiting, []
        if not group:
            return
        # Outcomes alike (status, attempts, error) share one UPDATE: most groups are all
        # "sent at the first attempt". sent_at is the last send of its statement's group.
        alike: dict[tuple[NoticeStatus, int, str | None], list[int]] = {}
        last_at: dict[tuple[NoticeStatus, int, str | None], datetime] = {}
        for outcome, at in group:
            error = None if outcome.outcome == "sent" else outcome.detail
            key = (_STATUS_AFTER[outcome.outcome], outcome.attempts, error)
            alike.setdefault(key, []).append(outcome.notice_id)
            last_at[key] = at
        settled: set[int] = set()
        with session_scope(self.url) as session:
            for (status, attempts, error), ids in alike.items():
                sent_at = (
                    {"sent_at": last_at[status, attempts, error]}
                    if status is NoticeStatus.SENT
                    else {}
                )
                settled |= _settle_in(
                    session,
                    self.worker,
                    ids,
                    status=status,
                    attempts=Notice.attempts + attempts,
                    last_error=error,
                    **sent_at,
                )
                if status is NoticeStatus.SENT:  # a digest's held notices went with it
                    digests = [i for i in ids if i in settled and self.about[i][1] == DIGEST]
                    mark_told(session, digests, last_at[status, attempts, error])
        for outcome, _ in group:
            self._count(outcome, outcome.notice_id in settled)

    def _count(self, outcome: SendResult, settled: bool) -> None:
        name, result = outcome.outcome, self.result
        if name == "sent" and not settled:  # sent, but its claim had lapsed to another worker
            result.unrecorded += 1
            return
        setattr(result, name, getattr(result, name) + 1)
        if name != "retry":
            cohort_id, template = self.about[outcome.notice_id]
            result.outcomes.append(
                NoticeOutcome(outcome.notice_id, cohort_id, template, name, outcome.detail)
            )


def _release(url: str, worker: str, ids: Sequence[int], reason: str) -> None:
    """Give claims back (server unreachable): they stay pending for the next sweep."""
    _settle(url, worker, ids, status=NoticeStatus.PENDING, last_error=reason)


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
    with session_scope(url) as session:
        ids = claim_batch(
            session,
            worker=worker,
            now=now,
            limit=settings.batch_size,
            lease_seconds=settings.lease_seconds,
        )
    if not ids:
        return result
    result.batches = 1
    outgoing, about = _prepare(url, ids, now, settings, result)
    settlements = Settlements(url, worker, clock, result, about, settings.settle_every)
    try:
        if not settings.smtp_host:
            write_eml_batch(outgoing, settings.outbox_dir, on_result=settlements)
            return result
        claims = Claims(url, worker, ids, clock, settings.lease_seconds)
        try:
            _run_async(send_batch(outgoing, settings, on_result=settlements, still_held=claims))
        except SmtpUnavailable as exc:
            result.unavailable = str(exc)
            _release(url, worker, [o.notice_id for o in outgoing], str(exc))
    finally:
        settlements.flush()
    return result


def deliver_all(
    *,
    url: str,
    settings: Settings,
    now: datetime,
    worker: str | None = None,
    max_batches: int | None = None,
) -> DeliveryResult:
    """Deliver batch after batch until nothing due is left (or the server is down)."""
    worker = worker or worker_name()
    clock = RunClock(now)
    total = DeliveryResult(destination(settings))
    while max_batches is None or total.batches < max_batches:
        batch = deliver_batch(url=url, settings=settings, now=clock(), worker=worker, clock=clock)
        total.add(batch)
        if batch.batches == 0 or batch.unavailable:
            break
    return total
