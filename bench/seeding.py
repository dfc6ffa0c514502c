"""Seeding helpers that the benchmarks and the reliability tests share.

Tests import this module; nothing under ``bench/`` imports from ``tests/``. It is not
product code: it rewrites the outbox wholesale, which no organiser or flow ever should.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update

from journey.db import session_scope
from journey.models import Notice, NoticeStatus


def keep_first_notices(*, url: str, count: int, useful_until: datetime) -> None:
    """Keep the first ``count`` notices (by id) and delete the rest; make those kept
    pending, with no error, and useful until ``useful_until``. Every other field (key,
    recipient, template, milestone, occurrence, due time) stays as the sweep queued it.

    Raises ``RuntimeError``, changing nothing, if fewer than ``count`` were queued.
    """
    with session_scope(url) as session:
        queued = session.scalar(select(func.count()).select_from(Notice)) or 0
        if queued < count:
            raise RuntimeError(f"the sweep queued only {queued} notices; {count} were wanted")
        kept = select(Notice.id).order_by(Notice.id).limit(count).scalar_subquery()
        session.execute(delete(Notice).where(Notice.id.not_in(kept)))
        session.execute(
            update(Notice).values(
                status=NoticeStatus.PENDING, useful_until=useful_until, last_error=None
            )
        )
