"""Storing a validated cohort: all or nothing, and safe to run again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.cohort.specs import CohortSpec, PersonSpec, SlotSpec, TraineeSpec
from journey.models import (
    Cohort,
    CohortEvent,
    Enrolment,
    EnrolmentStatus,
    EventKind,
    Institution,
    LearningSet,
    Mentor,
    Person,
    Place,
)
from journey.services.history import note
from journey.services.identity import Renamed, people_by_email


@dataclass
class ImportResult:
    cohort_id: str
    created: bool
    trainees_added: int = 0
    trainees_updated: int = 0
    sessions_moved: list[str] = field(default_factory=list)
    moved_event_ids: list[int] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    added_ids: list[int] = field(default_factory=list)  # new enrolments
    renamed: list[Renamed] = field(default_factory=list)


def import_cohort(
    *,
    session: Session,
    spec: CohortSpec,
    now: datetime,
    rename: bool = False,
    by: str | None = None,
) -> ImportResult:
    """Create or update a cohort from a validated spec, in the caller's transaction.

    People are matched by email, enrolments by (cohort, person), sessions by kind and
    number: running it twice changes nothing. A session whose time changed keeps its
    calendar UID and gets SEQUENCE + 1. Trainees absent from the file are kept and listed.
    A known address under another name raises :class:`InvalidInput` before anything is
    written, unless ``rename``. The import is a line of history (who, when, what changed).
    """
    people, renamed = _people(session, spec, rename)
    organiser = people[spec.organiser.email]
    cohort = session.get(Cohort, spec.id)
    result = ImportResult(spec.id, created=cohort is None, renamed=renamed)
    if cohort is None:
        cohort = Cohort(id=spec.id, imported_at=now, launched_at=None)
        session.add(cohort)
    cohort.organiser_id = organiser.id
    _fill_cohort(cohort, spec)
    institutions = {i.name: _institution(session, i.name, i.member) for i in spec.institutions}
    mentors = {p.email: _mentor(session, spec.id, people[p.email]) for p in spec.mentors}
    sets = {
        s.name: _learning_set(
            session,
            spec.id,
            s.name,
            s.venue,
            people[s.facilitator.email] if s.facilitator else None,
        )
        for s in spec.learning_sets
    }
    session.flush()
    _sync_events(session, spec, {name: ls.id for name, ls in sets.items()}, result)
    seen: set[int] = set()
    new: list[Enrolment] = []
    enrolled = {
        e.person_id: e
        for e in session.scalars(select(Enrolment).where(Enrolment.cohort_id == spec.id))
    }
    for trainee in spec.trainees:
        enrolment, added = enrol(
            cohort,
            trainee,
            people[trainee.person.email],
            enrolled,
            institutions[trainee.institution],
            mentors.get(trainee.mentor_email or ""),
            sets.get(trainee.learning_set or ""),
        )
        if added:
            session.add(enrolment)
            new.append(enrolment)
        seen.add(enrolment.person_id)
        result.trainees_added += added
        result.trainees_updated += not added
    _list_absent(session, spec.id, seen, result)
    session.flush()
    result.added_ids = [e.id for e in new]
    note(
        session=session,
        at=now,
        by=by,
        action="cohort-import",
        detail=_what_changed(result),
        cohort_id=spec.id,
    )
    return result


def _what_changed(result: ImportResult) -> str:
    """``created: 20 trainees added`` or ``1 trainee added, 19 kept; moved: training 2``."""
    parts = [
        ("created: " if result.created else "")
        + f"{result.trainees_added} trainee{'' if result.trainees_added == 1 else 's'} added"
        + ("" if result.created else f", {result.trainees_updated} kept")
    ]
    if result.sessions_moved:
        parts.append("moved: " + ", ".join(result.sessions_moved))
    if result.renamed:
        parts.append(f"{len(result.renamed)} renamed")
    if result.not_in_file:
        parts.append(f"{len(result.not_in_file)} not in the file")
    return "; ".join(parts)


def _fill_cohort(cohort: Cohort, spec: CohortSpec) -> None:
    cohort.title = spec.title
    cohort.timezone = spec.timezone
    cohort.funder = spec.funder
    cohort.fee = spec.fee
    cohort.training_venue = spec.training_venue
    cohort.graduation_venue = spec.graduation_venue
    cohort.programme = spec.programme
    cohort.programme_name = spec.programme_name


def _people(
    session: Session, spec: CohortSpec, rename: bool
) -> tuple[dict[str, Person], list[Renamed]]:
    """Everyone the file names, by email: organiser, mentors, facilitators, trainees."""
    named: list[PersonSpec] = [
        spec.organiser,
        *spec.mentors,
        *(s.facilitator for s in spec.learning_sets if s.facilitator),
        *(t.person for t in spec.trainees),
    ]
    return people_by_email(session, named, rename=rename)


def _institution(session: Session, name: str, member: bool) -> Institution:
    found = session.scalar(select(Institution).where(Institution.name == name))
    if found is None:
        found = Institution(name=name, member=member)
        session.add(found)
    found.member = member
    return found


def _mentor(session: Session, cohort_id: str, person: Person) -> Mentor:
    found = session.scalar(
        select(Mentor).where(Mentor.cohort_id == cohort_id, Mentor.person_id == person.id)
    )
    if found is None:
        found = Mentor(cohort_id=cohort_id, person_id=person.id)
        session.add(found)
    return found


def _learning_set(
    session: Session, cohort_id: str, name: str, venue: str, facilitator: Person | None
) -> LearningSet:
    found = session.scalar(
        select(LearningSet).where(LearningSet.cohort_id == cohort_id, LearningSet.name == name)
    )
    if found is None:
        found = LearningSet(cohort_id=cohort_id, name=name)
        session.add(found)
    found.venue = venue
    found.facilitator_id = facilitator.id if facilitator else None
    return found


def _wanted_events(
    spec: CohortSpec, set_ids: dict[str, int]
) -> list[tuple[EventKind, int | None, int, SlotSpec, str]]:
    wanted: list[tuple[EventKind, int | None, int, SlotSpec, str]] = [
        (EventKind.TRAINING, None, n, s, spec.training_venue)
        for n, s in enumerate(spec.training_days, 1)
    ]
    for ls in spec.learning_sets:
        wanted += [
            (EventKind.LEARNING_SET, set_ids[ls.name], n, s, ls.venue)
            for n, s in enumerate(ls.sessions, 1)
        ]
    if spec.graduation is not None:
        wanted.append(
            (
                EventKind.GRADUATION,
                None,
                1,
                spec.graduation,
                spec.graduation_venue or spec.training_venue,
            )
        )
    return wanted


def _sync_events(
    session: Session, spec: CohortSpec, set_ids: dict[str, int], result: ImportResult
) -> None:
    existing = {
        (e.kind, e.learning_set_id, e.number): e
        for e in session.scalars(select(CohortEvent).where(CohortEvent.cohort_id == spec.id))
    }
    for kind, set_id, number, slot, venue in _wanted_events(spec, set_ids):
        event = existing.get((kind, set_id, number))
        if event is None:
            uid = f"{spec.id}-{kind.value}-{set_id or 0}-{number}@leadership-journey"
            session.add(
                CohortEvent(
                    cohort_id=spec.id,
                    kind=kind,
                    learning_set_id=set_id,
                    number=number,
                    venue=venue,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    uid=uid,
                    sequence=0,
                    cancelled=False,
                )
            )
            continue
        if (event.starts_at, event.ends_at, event.venue) != (slot.starts_at, slot.ends_at, venue):
            event.starts_at, event.ends_at, event.venue = slot.starts_at, slot.ends_at, venue
            event.sequence += 1
            result.sessions_moved.append(f"{kind.value} {number}")
            result.moved_event_ids.append(event.id)


def enrol(
    cohort: Cohort,
    trainee: TraineeSpec,
    person: Person,
    enrolled: dict[int, Enrolment],
    institution: Institution,
    mentor: Mentor | None,
    learning_set: LearningSet | None,
) -> tuple[Enrolment, bool]:
    """The trainee's enrolment in ``enrolled`` (by person id), updated, or a new one."""
    enrolment = enrolled.get(person.id)
    added = enrolment is None
    if enrolment is None:
        enrolment = enrolled[person.id] = Enrolment(cohort_id=cohort.id, person_id=person.id)
    enrolment.institution_id = institution.id
    enrolment.place = trainee.place
    enrolment.funder = cohort.funder if trainee.place is Place.SUBSIDISED else None
    enrolment.fee = cohort.fee if trainee.place is Place.FEE else Decimal(0)
    enrolment.follow_up = trainee.follow_up
    enrolment.mentor_id = mentor.id if mentor else None
    enrolment.learning_set_id = learning_set.id if learning_set else None
    return enrolment, added


def _list_absent(session: Session, cohort_id: str, seen: set[int], result: ImportResult) -> None:
    """Trainees still enrolled whom the file no longer names (the withdrawn and the erased
    are not listed: there is nothing more to do about them)."""
    emails = session.scalars(
        select(Person.email)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(
            Enrolment.cohort_id == cohort_id,
            Enrolment.person_id.not_in(seen),
            Enrolment.status == EnrolmentStatus.ACTIVE,
            Person.erased_at.is_(None),
        )
    )
    result.not_in_file = sorted(email for email in emails if email)
