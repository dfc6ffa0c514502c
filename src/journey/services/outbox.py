"""Every outbox row is made here: one builder, keys from :mod:`journey.engine.keys`.

A notice about a trainee to anyone but the trainee (their mentor, their set's
facilitator, the organiser) is queued ``held``: it waits for that person's daily digest
(:mod:`journey.services.digest`), so nobody gets an email per trainee per milestone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from journey.models import Notice, NoticeStatus, RecipientRole

INSERT_CHUNK = 500
TRAINEE = RecipientRole.TRAINEE
MILESTONE_DONE = "milestone done"  # why the send-time gate cancels a notice done meanwhile
WITHDREW = "trainee withdrew"  # why a withdrawn trainee's notices are cancelled
# Held notices telling a mentor or facilitator that a trainee left, or joined late:
WITHDRAWN_NEWS, JOINED_NEWS = "trainee-withdrawn", "trainee-joined"


def held(role: RecipientRole, enrolment_id: int | None) -> bool:
    """Whether a notice waits for a digest: about a trainee, to someone else."""
    return enrolment_id is not None and role != TRAINEE


@dataclass(slots=True)
class NoticeRow:
    """One outbox row before it is inserted (the columns of :class:`Notice` a new notice
    sets). Plain data, not an ORM object: rows are inserted many at once by
    :func:`insert_new`, and a sweep may build hundreds of thousands. Mutable only so
    that a superseded reminder can be marked skipped before it is inserted."""

    key: str
    cohort_id: str
    enrolment_id: int | None
    person_id: int
    recipient_role: RecipientRole
    template: str
    milestone: str | None
    rule: str | None
    occurrence: str | None
    attach_ics: bool
    event_id: int | None
    due_at: datetime
    useful_until: datetime
    status: NoticeStatus
    created_at: datetime
    last_error: str | None

    def as_insert(self) -> dict[str, object]:
        """The row as the parameters of an INSERT into ``notices`` (not yet attempted)."""
        return {
            "key": self.key,
            "cohort_id": self.cohort_id,
            "enrolment_id": self.enrolment_id,
            "person_id": self.person_id,
            "recipient_role": self.recipient_role,
            "template": self.template,
            "milestone": self.milestone,
            "rule": self.rule,
            "occurrence": self.occurrence,
            "attach_ics": self.attach_ics,
            "event_id": self.event_id,
            "due_at": self.due_at,
            "useful_until": self.useful_until,
            "status": self.status,
            "attempts": 0,
            "created_at": self.created_at,
            "last_error": self.last_error,
        }


def notice_row(
    *,
    key: str,
    cohort_id: str,
    enrolment_id: int | None,
    person_id: int,
    role: RecipientRole,
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
) -> NoticeRow:
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
    return NoticeRow(
        key=key,
        cohort_id=cohort_id,
        enrolment_id=enrolment_id,
        person_id=person_id,
        recipient_role=role,
        template=template,
        milestone=milestone,
        rule=rule,
        occurrence=occurrence,
        attach_ics=attach_ics,
        event_id=event_id,
        due_at=due_at,
        useful_until=useful_until,
        status=status,
        created_at=now,
        last_error=skipped,
    )


def insert_new(session: Session, rows: Sequence[NoticeRow]) -> int:
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
    params = [row.as_insert() for row in rows]
    return len(session.connection().execute(stmt, params).all())


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
