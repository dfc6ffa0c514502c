"""Delivering the outbox: claim a batch with a lease, gate, render, send, mark.

Claims are atomic (``FOR UPDATE SKIP LOCKED`` on Postgres; SQLite has one writer), so
concurrent workers never hold the same notice; a crashed worker's claims lapse with
their lease and become claimable again. Each result is committed as soon as it is
known, so a crash re-sends at most the message in flight, with the same Message-ID.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from journey.db import session_scope
from journey.mail.render import build_message, render_notice
from journey.mail.transport import (
    Outgoing,
    SendResult,
    SmtpUnavailable,
    send_batch,
    write_eml_batch,
)
from journey.models import Notice, NoticeStatus
from journey.services.compose import Verdict, judge
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
    unavailable: str | None = None
    outcomes: list[NoticeOutcome] = field(default_factory=list)

    def add(self, other: DeliveryResult) -> None:
        for name in ("sent", "failed", "retry", "cancelled", "skipped", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes += other.outcomes
        self.unavailable = self.unavailable or other.unavailable

    @property
    def failures(self) -> list[str]:
        """One line per failed notice, with the server's reply."""
        return [f"notice {o.notice_id}: {o.detail}" for o in self.outcomes if o.status == "failed"]

    def summary(self) -> dict[str, Any]:
        """Counts, destination and failures, as plain data (what a flow run returns)."""
        names = ("destination", "sent", "failed", "retry", "cancelled", "skipped", "batches")
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


def _settle(url: str, worker: str, ids: Sequence[int], **values: object) -> None:
    """Record an outcome for notices this worker still holds, and end the claim."""
    with session_scope(url) as session:
        session.execute(
            update(Notice)
            .where(
                Notice.id.in_(ids),
                Notice.claimed_by == worker,
                Notice.status == NoticeStatus.CLAIMED,
            )
            .values(claimed_by=None, lease_until=None, **values)
        )


def _prepare(
    url: str, ids: Sequence[int], now: datetime, settings: Settings, result: DeliveryResult
) -> tuple[list[Outgoing], dict[int, tuple[str, str]]]:
    """Gate and render a claimed batch; stale notices are settled here.

    Returns the messages to send, and each one's (cohort id, template) for the outcomes.
    """
    outgoing = []
    about: dict[int, tuple[str, str]] = {}
    with session_scope(url) as session:
        notices = list(
            session.scalars(select(Notice).where(Notice.id.in_(ids)).order_by(Notice.id))
        )
        for verdict in judge(session, notices, now):
            message = _message(verdict, settings, now, result)
            if message is not None:
                outgoing.append(Outgoing(verdict.notice.id, message))
                about[verdict.notice.id] = (verdict.notice.cohort_id, verdict.notice.template)
    return outgoing, about


def _message(
    verdict: Verdict, settings: Settings, now: datetime, result: DeliveryResult
) -> EmailMessage | None:
    notice = verdict.notice
    if verdict.context is None:
        status = NoticeStatus.CANCELLED if verdict.cancel else NoticeStatus.SKIPPED
        notice.status, notice.last_error = status, verdict.cancel or verdict.skip
        notice.claimed_by, notice.lease_until = None, None
        result.cancelled += status is NoticeStatus.CANCELLED
        result.skipped += status is NoticeStatus.SKIPPED
        return None
    try:
        rendered = render_notice(verdict.context, stamp=now)
        message = build_message(verdict.context, rendered, sender=settings.sender, date=now)
    except Exception as exc:  # a broken template must not hold up the rest of the batch
        notice.status, notice.last_error = NoticeStatus.FAILED, f"could not render: {exc}"
        notice.claimed_by, notice.lease_until = None, None
        result.failed += 1
        result.outcomes.append(
            NoticeOutcome(
                notice.id, notice.cohort_id, notice.template, "failed", f"could not render: {exc}"
            )
        )
        return None
    notice.message_id = str(message["Message-ID"])
    return message


_STATUS_AFTER = {
    "sent": NoticeStatus.SENT,
    "failed": NoticeStatus.FAILED,
    "retry": NoticeStatus.PENDING,  # a later sweep tries again
}


def _on_result(
    url: str,
    worker: str,
    now: datetime,
    result: DeliveryResult,
    about: dict[int, tuple[str, str]],
) -> Callable[[SendResult], None]:
    """Commit each outcome as soon as it is known: a crash re-sends at most one message."""

    def record(outcome: SendResult) -> None:
        name = outcome.outcome
        setattr(result, name, getattr(result, name) + 1)
        sent = name == "sent"
        if name != "retry":
            cohort_id, template = about[outcome.notice_id]
            result.outcomes.append(
                NoticeOutcome(outcome.notice_id, cohort_id, template, name, outcome.detail)
            )
        _settle(
            url,
            worker,
            [outcome.notice_id],
            status=_STATUS_AFTER[name],
            attempts=Notice.attempts + outcome.attempts,
            last_error=None if sent else outcome.detail,
            **({"sent_at": now} if sent else {}),
        )

    return record


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


def deliver_batch(*, url: str, settings: Settings, now: datetime, worker: str) -> DeliveryResult:
    """Claim, gate, render and send one batch. ``batches`` is 0 when nothing was due."""
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
    on_result = _on_result(url, worker, now, result, about)
    if not settings.smtp_host:
        write_eml_batch(outgoing, settings.outbox_dir, on_result=on_result)
        return result
    try:
        _run_async(send_batch(outgoing, settings, on_result=on_result))
    except SmtpUnavailable as exc:
        result.unavailable = str(exc)
        _release(url, worker, [o.notice_id for o in outgoing], str(exc))
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
    total = DeliveryResult(destination(settings))
    while max_batches is None or total.batches < max_batches:
        batch = deliver_batch(url=url, settings=settings, now=now, worker=worker)
        total.add(batch)
        if batch.batches == 0 or batch.unavailable:
            break
    return total
