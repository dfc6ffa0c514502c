"""The audit trail (``journey audit``): who changed what, when, from the history table.

Every change an organiser makes writes its line in the same transaction as the change
(:func:`journey.services.history.note`): imports, launches, late joiners, records and
their corrections, withdrawals, opt-outs, cancelled sessions, evaluation responses,
exports. Read-only here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine import DEFAULT_TIMEZONE
from journey.errors import UnknownCohort, UnknownPerson
from journey.models import Cohort, HistoryEntry, Person
from journey.services.loading import known_cohort_ids


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    timezone: str  # the cohort's, else the default: for showing ``at``
    by: str
    action: str  # e.g. cohort-import, launch, record, record-undo, withdraw, person-export
    cohort_id: str | None
    person: str | None  # the name as held now (a forgotten person's token)
    detail: str


def audit_trail(
    *, session: Session, cohort_id: str | None = None, email: str | None = None
) -> list[AuditLine]:
    """Every line of history, oldest first; only a cohort's, or only about one person
    (by email, any case), when given. Unknown ones are one-line errors."""
    query = (
        select(HistoryEntry, Person.name, Cohort.timezone)
        .outerjoin(Person, Person.id == HistoryEntry.person_id)
        .outerjoin(Cohort, Cohort.id == HistoryEntry.cohort_id)
        .order_by(HistoryEntry.at, HistoryEntry.id)
    )
    if cohort_id is not None:
        if session.get(Cohort, cohort_id) is None:
            raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
        query = query.where(HistoryEntry.cohort_id == cohort_id)
    if email is not None:
        person_id = session.scalar(select(Person.id).where(Person.email == email.strip().lower()))
        if person_id is None:
            raise UnknownPerson(email)
        query = query.where(HistoryEntry.person_id == person_id)
    return [
        AuditLine(h.at, zone or DEFAULT_TIMEZONE, h.by, h.action, h.cohort_id, name, h.detail)
        for h, name, zone in session.execute(query)
    ]
