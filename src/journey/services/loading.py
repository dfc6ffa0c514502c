"""Loading cohorts and trainees for the engine, a few set-based queries at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from journey.engine import CohortPlan, Slot, TraineeRecord
from journey.errors import UnknownCohort
from journey.models import (
    Cohort,
    CohortEvent,
    Completion,
    Enrolment,
    EnrolmentStatus,
    EventKind,
    MentoringMeeting,
    RuleAdoption,
)
from journey.programme import Programme, load_programme


@dataclass(frozen=True)
class LoadedCohort:
    cohort: Cohort
    programme: Programme
    plan: CohortPlan
    events: tuple[CohortEvent, ...]


@dataclass(frozen=True)
class LoadedTrainee:
    enrolment: Enrolment  # with .person and .institution loaded
    record: TraineeRecord


def _slot(event: CohortEvent) -> Slot:
    return Slot(event.number, event.starts_at, event.ends_at, event.id, event.cancelled)


def _plan(
    cohort: Cohort, events: Iterable[CohortEvent], adopted: dict[str, datetime]
) -> CohortPlan:
    training: list[Slot] = []
    sets: dict[int, list[Slot]] = defaultdict(list)
    graduation: Slot | None = None
    for e in sorted(events, key=lambda e: (e.kind, e.learning_set_id or 0, e.number)):
        if e.kind is EventKind.TRAINING:
            training.append(_slot(e))
        elif e.kind is EventKind.LEARNING_SET and e.learning_set_id is not None:
            sets[e.learning_set_id].append(_slot(e))
        elif e.kind is EventKind.GRADUATION:
            graduation = _slot(e)
    return CohortPlan(
        cohort_id=cohort.id,
        timezone=cohort.timezone,
        training=tuple(training),
        learning_sets={k: tuple(v) for k, v in sets.items()},
        graduation=graduation,
        launched_at=cohort.launched_at,
        rule_adopted=adopted,
    )


def load_cohorts(session: Session, cohort_ids: Iterable[str] | None = None) -> list[LoadedCohort]:
    """Cohorts (all, or those named) with their programme and plan: three queries."""
    query = select(Cohort).order_by(Cohort.id)
    if cohort_ids is not None:
        query = query.where(Cohort.id.in_(list(cohort_ids)))
    cohorts = list(session.scalars(query))
    ids = [c.id for c in cohorts]
    events: dict[str, list[CohortEvent]] = defaultdict(list)
    for e in session.scalars(select(CohortEvent).where(CohortEvent.cohort_id.in_(ids))):
        events[e.cohort_id].append(e)
    adopted: dict[str, dict[str, datetime]] = defaultdict(dict)
    for a in session.scalars(select(RuleAdoption).where(RuleAdoption.cohort_id.in_(ids))):
        adopted[a.cohort_id][a.rule_key] = a.first_seen_at
    return [
        LoadedCohort(
            c,
            load_programme(c.programme),
            _plan(c, events[c.id], adopted[c.id]),
            tuple(events[c.id]),
        )
        for c in cohorts
    ]


def known_cohort_ids(session: Session) -> list[str]:
    """Every cohort id, in the order they were imported: for :class:`UnknownCohort`."""
    return list(session.scalars(select(Cohort.id).order_by(Cohort.imported_at, Cohort.id)))


def stored_cohort(session: Session, cohort_id: str) -> Cohort:
    """One cohort's row, or :class:`UnknownCohort` (naming those there are)."""
    found = session.get(Cohort, cohort_id)
    if found is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    return found


def cohort_timezone(session: Session, cohort_id: str) -> str | None:
    """The cohort's time zone, or None if no cohort has that id."""
    return session.scalar(select(Cohort.timezone).where(Cohort.id == cohort_id))


def load_cohort(session: Session, cohort_id: str) -> LoadedCohort:
    """One cohort, or :class:`UnknownCohort`."""
    found = load_cohorts(session, [cohort_id])
    if not found:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    return found[0]


def load_trainees(
    session: Session, cohort_ids: Iterable[str], *, active_only: bool = False
) -> dict[str, list[LoadedTrainee]]:
    """Each cohort's trainees with their records: four queries at most, whatever the count."""
    ids = list(cohort_ids)
    query = (
        select(Enrolment)
        .where(Enrolment.cohort_id.in_(ids))
        .options(joinedload(Enrolment.person), joinedload(Enrolment.institution))
        .order_by(Enrolment.id)
    )
    if active_only:
        query = query.where(Enrolment.status == EnrolmentStatus.ACTIVE)
    enrolments = list(session.scalars(query))
    done: dict[int, dict[tuple[str, int], date]] = defaultdict(dict)
    enrolled = select(Enrolment.id).where(Enrolment.cohort_id.in_(ids))
    for c in session.execute(
        select(
            Completion.enrolment_id,
            Completion.milestone,
            Completion.occurrence,
            Completion.completed_on,
        ).where(Completion.enrolment_id.in_(enrolled))
    ):
        done[c.enrolment_id][(c.milestone, c.occurrence)] = c.completed_on
    for enrolment_id, milestone, met_on in _meetings(session, ids):
        done[enrolment_id][(milestone, 1)] = met_on
    out: dict[str, list[LoadedTrainee]] = {cid: [] for cid in ids}
    for e in enrolments:
        out[e.cohort_id].append(LoadedTrainee(e, trainee_record(e, done[e.id])))
    return out


def _meetings(session: Session, cohort_ids: list[str]) -> list[tuple[int, str, date]]:
    """Mentoring meetings as (enrolment id, milestone, met on): each cohort's programme says
    which milestone a meeting's number is. A number the programme no longer has (it was
    changed by a later import) matches no milestone, and is left out."""
    rows = list(
        session.execute(
            select(
                MentoringMeeting.enrolment_id,
                Enrolment.cohort_id,
                MentoringMeeting.number,
                MentoringMeeting.met_on,
            )
            .join(Enrolment, Enrolment.id == MentoringMeeting.enrolment_id)
            .where(Enrolment.cohort_id.in_(cohort_ids))
        )
    )
    if not rows:
        return []
    stored = select(Cohort.id, Cohort.programme).where(Cohort.id.in_({r[1] for r in rows}))
    meetings = {cid: load_programme(text).meetings for cid, text in session.execute(stored)}
    return [
        (enrolment_id, milestone, met_on)
        for enrolment_id, cohort_id, number, met_on in rows
        if (milestone := meetings[cohort_id].get(number)) is not None
    ]


def trainee_record(enrolment: Enrolment, done: dict[tuple[str, int], date]) -> TraineeRecord:
    """The engine's view of an enrolment (person must be loaded)."""
    # An opted-out trainee is still on the programme: their notices are planned and
    # queued as usual, and the send-time gate keeps them out of the post.
    active = enrolment.status is EnrolmentStatus.ACTIVE and enrolment.person.erased_at is None
    return TraineeRecord(
        ref=str(enrolment.id),
        follow_up=enrolment.follow_up,
        learning_set_id=enrolment.learning_set_id,
        has_mentor=enrolment.mentor_id is not None,
        active=active,
        active_from=enrolment.active_from,
        done=done,
    )
