"""Every outbox row is made here: one builder, keys from :mod:`journey.engine.keys`.

A notice about a trainee to anyone but the trainee (their mentor, their set's
facilitator, the organiser) is queued ``held``: it waits for that person's daily digest
(:mod:`journey.services.digest`), so nobody gets an email per trainee per milestone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from journey.models import Notice, NoticeStatus

INSERT_CHUNK = 500
TRAINEE = "trainee"
MILESTONE_DONE = "milestone done"  # why the send-time gate cancels a notice done meanwhile
WITHDREW = "trainee withdrew"  # why a withdrawn trainee's notices are cancelled
# Held notices telling a mentor or facilitator that a trainee left, or joined late:
WITHDRAWN_NEWS, JOINED_NEWS = "trainee-withdrawn", "trainee-joined"


def held(role: str, enrolment_id: int | None) -> bool:
    """Whether a notice waits for a digest: about a trainee, to someone else."""
    return enrolment_id is not None and role != TRAINEE


def notice_row(
    *,
    key: str,
    cohort_id: str,
    enrolment_id: int | None,
    person_id: int,
    role: str,
    template: str,
    due_at: datetime,
    useful_until: datetime,
    now: datetime,
    milestone: str | None = None,
    rule: str | None = None,
    occurrence: str | None = None,
    attach_ics: bool = False,
    event_id: int | None = None,
    skipped: str | None = None,
) -> dict[str, Any]:
    """One outbox row, ready for :func:`insert_new`.

    ``skipped`` (a reason) queues it as skipped; otherwise it is pending, or held for a
    digest (see :func:`held`).
    """
    if skipped is not None:
        status = NoticeStatus.SKIPPED
    elif held(role, enrolment_id):
        status = NoticeStatus.HELD
    else:
        status = NoticeStatus.PENDING
    return {
        "key": key,
        "cohort_id": cohort_id,
        "enrolment_id": enrolment_id,
        "person_id": person_id,
        "recipient_role": role,
        "template": template,
        "milestone": milestone,
        "rule": rule,
        "occurrence": occurrence,
        "attach_ics": attach_ics,
        "event_id": event_id,
        "due_at": due_at,
        "useful_until": useful_until,
        "status": status,
        "attempts": 0,
        "created_at": now,
        "last_error": skipped,
    }


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert notice rows, ignoring keys already present; returns how many were new."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = (
        module.insert(Notice.__table__)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Notice.__table__.c.id)
        .execution_options(insertmanyvalues_page_size=INSERT_CHUNK)
    )
    # Parameter sets, not literal VALUES: the statement compiles once (and is cached), and
    # SQLAlchemy sends the rows as multi-row INSERTs of up to INSERT_CHUNK ("insertmanyvalues").
    # Counted from RETURNING: rowcount is -1 here on Postgres.
    return len(session.connection().execute(stmt, list(rows)).all())


def reopen(*, session: Session, enrolment_id: int, milestone: str, now: datetime) -> int:
    """Notices the gate cancelled because the milestone was done, made pending (or held)
    again, where still useful: for a record taken back. The same rows, under the same keys,
    so nothing is queued twice; none of them was ever sent. Returns how many."""
    reopened = 0
    for status, role_held in ((NoticeStatus.PENDING, False), (NoticeStatus.HELD, True)):
        role = Notice.recipient_role != TRAINEE if role_held else Notice.recipient_role == TRAINEE
        rows = session.scalars(
            update(Notice)
            .where(
                Notice.enrolment_id == enrolment_id,
                Notice.milestone == milestone,
                Notice.status == NoticeStatus.CANCELLED,
                Notice.last_error == MILESTONE_DONE,
                Notice.useful_until > now,
                role,
            )
            .values(status=status, last_error=None, digest_id=None)
            .returning(Notice.id)
            .execution_options(synchronize_session=False)
        )
        reopened += len(rows.all())
    return reopened
