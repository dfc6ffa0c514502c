"""What will be sent, without sending: queued notices, then what comes due in N days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, aliased

from journey.engine import Planner
from journey.models import Enrolment, Notice, NoticeStatus, Person
from journey.services.loading import load_cohorts, load_trainees


@dataclass(frozen=True)
class UpcomingNotice:
    due_at: datetime
    cohort_id: str
    to: str  # role
    trainee: str  # the trainee it concerns (the recipient, for mentor/facilitator notices)
    template: str
    milestone: str
    queued: bool  # already in the outbox


def upcoming(
    *, session: Session, now: datetime, days: int, cohort_id: str | None = None
) -> list[UpcomingNotice]:
    """Queued-but-unsent notices, then those the engine plans for the next ``days`` days."""
    out = _queued(session, cohort_id)
    end = now + timedelta(days=days)
    ids = [cohort_id] if cohort_id else None
    cohorts = [c for c in load_cohorts(session, ids) if c.cohort.launched_at is not None]
    trainees = load_trainees(session, [c.cohort.id for c in cohorts], active_only=True)
    for loaded in cohorts:
        planner = Planner(loaded.programme, loaded.plan)
        for t in trainees[loaded.cohort.id]:
            for n in planner.between(t.record, now, end):
                out.append(
                    UpcomingNotice(
                        n.due_at,
                        loaded.cohort.id,
                        n.to,
                        t.enrolment.person.name,
                        n.template,
                        n.milestone,
                        False,
                    )
                )
    out.sort(key=lambda u: (u.due_at, u.cohort_id, u.trainee, u.template))
    return out


def _queued(session: Session, cohort_id: str | None) -> list[UpcomingNotice]:
    """Notices in the outbox not yet sent."""
    waiting = Notice.status.in_([NoticeStatus.PENDING, NoticeStatus.CLAIMED])
    return _outbox(session, waiting, *([Notice.cohort_id == cohort_id] if cohort_id else []))


def skipped(*, session: Session, queued_at: datetime) -> list[UpcomingNotice]:
    """Notices a sweep at ``queued_at`` found already too late and marked skipped.

    After an outage the organiser gets this list, to follow up by hand where it matters.
    """
    return _outbox(session, Notice.status == NoticeStatus.SKIPPED, Notice.created_at == queued_at)


def _outbox(session: Session, *conditions: ColumnElement[bool]) -> list[UpcomingNotice]:
    """Outbox rows matching ``conditions``; "about" is the trainee, else the recipient."""
    recipient, trainee = aliased(Person), aliased(Person)
    query = (
        select(Notice, recipient.name, trainee.name)
        .join(recipient, recipient.id == Notice.person_id)
        .outerjoin(Enrolment, Enrolment.id == Notice.enrolment_id)
        .outerjoin(trainee, trainee.id == Enrolment.person_id)
        .where(*conditions)
        .order_by(Notice.due_at, Notice.key)
    )
    return [
        UpcomingNotice(
            n.due_at, n.cohort_id, n.recipient_role, about or to, n.template,
            n.milestone or "launch", True,
        )
        for n, to, about in session.execute(query)
    ]  # fmt: skip
