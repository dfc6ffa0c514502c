"""A batch's claims and its send outcomes: leases renewed while it is sent, outcomes
recorded in groups, and the provider's pace a claim keeps to (see
:mod:`journey.services.delivery`). Private to delivery."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, func, select, text, update
from sqlalchemy.orm import Session

from journey.db import session_scope
from journey.mail.outgoing import LOST_CLAIM, SendResult
from journey.models import Notice, NoticeStatus
from journey.services.digest import DIGEST, mark_told
from journey.services.outcomes import DeliveryResult, NoticeOutcome
from journey.settings import Settings


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


_STATUS_AFTER = {
    "sent": NoticeStatus.SENT,
    "failed": NoticeStatus.FAILED,
    "retry": NoticeStatus.PENDING,  # a later sweep tries again
    "held": NoticeStatus.PENDING,  # the server asked to slow down: no fault, no attempt
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
        if name == "held":  # left pending without counting as a try (see Pace)
            result.held_back += 1
            result.held_by = result.held_by or f"because {outcome.detail}"
            return
        if name == "sent" and not settled:  # sent, but its claim had lapsed to another worker
            result.unrecorded += 1
            return
        setattr(result, name, getattr(result, name) + 1)
        if name == "retry" and outcome.detail != LOST_CLAIM:  # another worker has that one
            result.deferred = result.deferred or outcome.detail
        if name != "retry":
            cohort_id, template = self.about[outcome.notice_id]
            result.outcomes.append(
                NoticeOutcome(outcome.notice_id, cohort_id, template, name, outcome.detail)
            )


def release(url: str, worker: str, ids: Sequence[int], reason: str) -> int:
    """Give back the claims still held (the server or folder is unavailable, or sending
    raised): pending at once for the next run, with the reason; how many."""
    return len(_settle(url, worker, ids, status=NoticeStatus.PENDING, last_error=reason))


# Taken by a claimer that keeps to the provider's pace, till its transaction ends
# (Postgres); any 64-bit number no other lock of this database uses.
_PACE_LOCK = 0x6A6F75726E6579  # "journey"


@dataclass(frozen=True)
class Pace:
    """How many messages may go over SMTP now under the provider's tightest limit, and
    why no more, as the run's summary says it (``by the provider's limit (30 a minute)``)."""

    left: int
    reason: str


def pace(session: Session, settings: Settings, now: datetime) -> Pace | None:
    """What the provider's limits (``smtp_max_per_minute``, ``smtp_max_per_day``) leave
    as of ``now``, for the claim that follows in the same transaction; None when no limit
    applies (none is set, or no SMTP host: the outbox folder is not limited).

    Every worker and run counts against the same limits: what was sent in the trailing
    window (digests' held notices went inside their digest and are not counted), plus what
    is claimed and not lapsed, since it is about to go. The count and the claim are made
    under one lock, so two claimers never both take the same allowance: a transaction-level
    advisory lock on Postgres, the database's write lock on SQLite (taken first, by a write
    that changes nothing, so the count reads the latest data).
    """
    limits = [
        (count, span, words)
        for count, span, words in (
            (settings.smtp_max_per_day, timedelta(days=1), "a day"),
            (settings.smtp_max_per_minute, timedelta(minutes=1), "a minute"),
        )
        if count is not None
    ]
    if not settings.smtp_host or not limits:
        return None
    _lock_pace(session)
    in_flight = _count(session, Notice.status == NoticeStatus.CLAIMED, Notice.lease_until >= now)
    paces = [
        Pace(
            max(0, count - in_flight - _sent_since(session, now - span)),
            f"by the provider's limit ({count} {words})",
        )
        for count, span, words in limits
    ]
    return min(paces, key=lambda p: p.left)  # on a tie the day's limit, the longer wait


def _lock_pace(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PACE_LOCK})
    else:
        session.execute(update(Notice).where(false()).values(status=Notice.status))


def _sent_since(session: Session, since: datetime) -> int:
    return _count(
        session,
        Notice.status == NoticeStatus.SENT,
        Notice.digest_id.is_(None),
        Notice.sent_at > since,
    )


def _count(session: Session, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(Notice).where(*where)) or 0
