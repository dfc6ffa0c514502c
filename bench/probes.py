"""Probes: what single steps cost, and what a proposed change would save.

- :func:`settle_probe`: recording one outcome, through the product's own
  ``journey.services._leases._settle`` (a session, an UPDATE … RETURNING, a commit), as
  it is and with ``PRAGMA synchronous=NORMAL`` added to the connection; and one UPDATE
  for a whole batch in one commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select, update

from bench.measure import timed
from journey.db import get_engine, session_scope
from journey.models import Notice, NoticeStatus
from journey.services import _leases

WORKER = "bench-probe"


def _claimed(url: str, count: int) -> list[int]:
    """Claim ``count`` notices for :data:`WORKER`, as a delivery batch would."""
    with session_scope(url) as session:
        ids = list(session.scalars(select(Notice.id).order_by(Notice.id).limit(count)))
        session.execute(
            update(Notice)
            .where(Notice.id.in_(ids))
            .values(status=NoticeStatus.CLAIMED, claimed_by=WORKER)
        )
    return ids


def _settle_each(url: str, ids: list[int]) -> float:
    """Seconds per outcome recorded with the product's ``_settle``."""

    def each() -> None:
        for notice_id in ids:
            _leases._settle(
                url,
                WORKER,
                [notice_id],
                status=NoticeStatus.SENT,
                attempts=Notice.attempts + 1,
                last_error=None,
            )

    seconds, _ = timed(each)
    return seconds / len(ids)


def _normal_sync(url: str) -> None:
    """Add ``PRAGMA synchronous=NORMAL`` to the product's engine for ``url`` (new URL)."""

    def pragma(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    event.listen(get_engine(url), "connect", pragma)


def settle_probe(urls: tuple[str, str, str], count: int = 500) -> dict[str, Any]:
    """Three fresh copies of an outbox: as is, with synchronous=NORMAL, one commit."""
    as_is, normal, together = urls
    per = _settle_each(as_is, _claimed(as_is, count))
    _normal_sync(normal)
    per_normal = _settle_each(normal, _claimed(normal, count))
    ids = _claimed(together, count)

    def one_commit() -> None:
        with session_scope(together) as session:
            session.execute(
                update(Notice)
                .where(Notice.id.in_(ids), Notice.claimed_by == WORKER)
                .values(status=NoticeStatus.SENT, claimed_by=None, attempts=Notice.attempts + 1)
            )

    seconds, _ = timed(one_commit)
    return {
        "outcomes": count,
        "ms_per_outcome": round(1000 * per, 3),
        "ms_per_outcome_synchronous_normal": round(1000 * per_normal, 3),
        "ms_per_outcome_one_commit_per_batch": round(1000 * seconds / count, 4),
    }
