"""Finding one's way: the cohorts there are (``journey cohort list``).

Read-only, and a fixed number of queries whatever the number of cohorts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import false, func, or_, select
from sqlalchemy.orm import Session

from journey.engine import zone
from journey.models import (
    Cohort,
    CohortEvent,
    Enrolment,
    EnrolmentStatus,
    EventKind,
    LearningSet,
)
from journey.services.changes import session_label


@dataclass(frozen=True)
class NextSession:
    label: str  # "Set A, session 1", "training day 2", "graduation"
    starts_at: datetime


@dataclass(frozen=True)
class CohortSummary:
    cohort_id: str
    title: str
    timezone: str
    training_days: tuple[date, ...]  # local dates of the training days not cancelled
    active: int
    withdrawn: int
    launched_at: datetime | None
    next_session: NextSession | None  # the next session not cancelled after ``now``


def cohort_summaries(*, session: Session, now: datetime) -> list[CohortSummary]:
    """One line per cohort, in import order: three queries in all."""
    cohorts = list(session.scalars(select(Cohort).order_by(Cohort.imported_at, Cohort.id)))
    counts: dict[tuple[str, EnrolmentStatus], int] = {
        (cohort_id, status): count
        for cohort_id, status, count in session.execute(
            select(Enrolment.cohort_id, Enrolment.status, func.count()).group_by(
                Enrolment.cohort_id, Enrolment.status
            )
        )
    }
    training: dict[str, list[datetime]] = defaultdict(list)
    following: dict[str, NextSession] = {}
    events = (
        select(CohortEvent, LearningSet.name)
        .outerjoin(LearningSet, LearningSet.id == CohortEvent.learning_set_id)
        .where(
            CohortEvent.cancelled == false(),
            or_(CohortEvent.kind == EventKind.TRAINING, CohortEvent.starts_at > now),
        )
        .order_by(CohortEvent.starts_at, CohortEvent.id)
    )
    for event, set_name in session.execute(events):
        if event.kind is EventKind.TRAINING:
            training[event.cohort_id].append(event.starts_at)
        if event.starts_at > now and event.cohort_id not in following:
            label = session_label(event.kind, event.number, set_name)
            following[event.cohort_id] = NextSession(label, event.starts_at)
    return [
        CohortSummary(
            cohort_id=c.id,
            title=c.title,
            timezone=c.timezone,
            training_days=tuple(at.astimezone(zone(c.timezone)).date() for at in training[c.id]),
            active=counts.get((c.id, EnrolmentStatus.ACTIVE), 0),
            withdrawn=counts.get((c.id, EnrolmentStatus.WITHDRAWN), 0),
            launched_at=c.launched_at,
            next_session=following.get(c.id),
        )
        for c in cohorts
    ]
