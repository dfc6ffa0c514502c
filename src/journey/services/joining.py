"""Late joiners: a trainee added to a cohort already launched.

Their join moment plays the part the launch plays for everyone else
(``Enrolment.active_from``): nothing is sent for milestones already past when they joined.
They get the launch's welcome under the same key (so launching again never welcomes them
twice), naming only the sessions still to come, with an invitation to those; their mentor
and their set's facilitator are told in their daily digest.

A trainee comes in by importing the roster again, or with ``journey cohort add``
(:func:`add_trainees`), which takes roster rows alone and checks them against the cohort
as it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.cohort.reading import read_text
from journey.cohort.roster import CohortFacts, check_roster, csv_rows
from journey.cohort.specs import InstitutionSpec, PersonSpec, TraineeSpec
from journey.engine import local_date
from journey.engine.keys import about_trainee_key, launch_key
from journey.errors import DateOutOfRange, InputProblem, InvalidInput, JourneyError, UnknownCohort
from journey.models import (
    Cohort,
    Enrolment,
    Institution,
    LearningSet,
    Mentor,
    Person,
    Place,
    RecipientRole,
)
from journey.services.cohorts import enrol
from journey.services.history import note
from journey.services.identity import Renamed, name_problems, people_by_email
from journey.services.loading import known_cohort_ids
from journey.services.outbox import JOINED_NEWS, NoticeRow, insert_new, notice_row

JOIN_NOTICE_USEFUL = timedelta(days=14)
RENAME_ON_ADD = "add them with --rename"


@dataclass(frozen=True)
class Joined:
    """Who was added, and what was queued for them and about them."""

    cohort_id: str
    emails: tuple[str, ...]
    welcomes: int
    told: int  # held notices to mentors and facilitators
    launched: bool
    renamed: tuple[Renamed, ...] = ()


def welcome_joiners(
    *,
    session: Session,
    cohort: Cohort,
    enrolment_ids: Sequence[int],
    joined_at: datetime,
    now: datetime,
) -> tuple[int, int]:
    """For trainees added to a launched cohort: notices count from ``joined_at``, a welcome
    each (due ``now``), and a held notice to each one's mentor and facilitator.
    Returns (welcomes, told) queued."""
    if cohort.launched_at is None or not enrolment_ids:
        return 0, 0
    enrolments = list(session.scalars(select(Enrolment).where(Enrolment.id.in_(enrolment_ids))))
    mentors: dict[int, int] = {
        m: p
        for m, p in session.execute(
            select(Mentor.id, Mentor.person_id).where(Mentor.cohort_id == cohort.id)
        )
    }
    sets: dict[int, int | None] = {
        s: f
        for s, f in session.execute(
            select(LearningSet.id, LearningSet.facilitator_id).where(
                LearningSet.cohort_id == cohort.id
            )
        )
    }
    welcomes, told = [], []
    for e in enrolments:
        e.active_from = joined_at
        welcomes.append(
            _notice(cohort.id, e.id, e.person_id, "welcome", RecipientRole.TRAINEE, joined_at, now)
        )
        for role, person_id in (
            (RecipientRole.MENTOR, mentors.get(e.mentor_id or 0)),
            (RecipientRole.FACILITATOR, sets.get(e.learning_set_id or 0)),
        ):
            if person_id is not None:
                told.append(_notice(cohort.id, e.id, person_id, JOINED_NEWS, role, joined_at, now))
    session.flush()
    return insert_new(session, welcomes), insert_new(session, told)


def _notice(
    cohort_id: str,
    enrolment_id: int,
    person_id: int,
    template: str,
    to: RecipientRole,
    at: datetime,
    now: datetime,
) -> NoticeRow:
    key = (
        launch_key(cohort_id, str(enrolment_id), template, to)
        if template == "welcome"
        else about_trainee_key(cohort_id, enrolment_id, "joined", template, to, at)
    )
    return notice_row(
        key=key,
        cohort_id=cohort_id,
        enrolment_id=enrolment_id,
        person_id=person_id,
        role=to,
        template=template,
        attach_ics=template == "welcome",
        due_at=now,
        useful_until=now + JOIN_NOTICE_USEFUL,
        now=now,
    )


def read_additions(
    *, session: Session, cohort_id: str, path: Path, rename: bool = False
) -> tuple[TraineeSpec, ...]:
    """Roster rows for ``journey cohort add``, checked against the stored cohort: its
    institutions, mentors, learning sets and funder. Someone already enrolled, or a known
    address under another name (unless ``rename``), is a problem of their row. Raises
    :class:`InvalidInput` listing every problem."""
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    problems: list[InputProblem] = []
    text = read_text(path, problems)
    rows = csv_rows(text, str(path), problems) if text is not None else []
    trainees = check_roster(rows, _facts(session, cohort), problems)
    enrolled = set(
        session.scalars(
            select(Person.email)
            .join(Enrolment, Enrolment.person_id == Person.id)
            .where(Enrolment.cohort_id == cohort_id)
        )
    )
    for row, trainee in zip(rows, trainees, strict=True):
        if trainee.person.email in enrolled:
            message = f"{trainee.person.email!r} is already in cohort {cohort_id!r}"
            problems.append(row.problem("email", message))
    if not rename:
        newcomers = [t.person for t in trainees if t.person.email not in enrolled]
        problems += name_problems(session, newcomers, how=RENAME_ON_ADD)
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: p.row or 0))
    if not trainees:
        raise JourneyError(f"{path}: no trainees in the file")
    return trainees


def _facts(session: Session, cohort: Cohort) -> CohortFacts:
    """The stored cohort, as a roster is checked against it. Member institutions that
    already use their free place in it need no second one."""
    used = set(
        session.scalars(
            select(Institution.name)
            .join(Enrolment, Enrolment.institution_id == Institution.id)
            .where(Enrolment.cohort_id == cohort.id, Enrolment.place == Place.MEMBER)
        )
    )
    institutions = tuple(
        InstitutionSpec(i.name, i.member) for i in session.scalars(select(Institution))
    )
    mentors = tuple(
        PersonSpec(name, email or "")
        for name, email in session.execute(
            select(Person.name, Person.email)
            .join(Mentor, Mentor.person_id == Person.id)
            .where(Mentor.cohort_id == cohort.id)
        )
    )
    sets = {
        name: email or ""
        for name, email in session.execute(
            select(LearningSet.name, Person.email)
            .outerjoin(Person, Person.id == LearningSet.facilitator_id)
            .where(LearningSet.cohort_id == cohort.id)
        )
    }
    facilitators = {name: email for name, email in sets.items() if email}
    return CohortFacts(
        institutions, mentors, tuple(sets), cohort.funder, frozenset(used), facilitators
    )


def add_trainees(
    *,
    session: Session,
    cohort_id: str,
    trainees: Sequence[TraineeSpec],
    joined_at: datetime,
    now: datetime,
    rename: bool = False,
    by: str | None = None,
) -> Joined:
    """Enrol checked trainees in a stored cohort; welcome them if it is launched.

    ``joined_at`` may be earlier than ``now`` (a join entered late) but not before the
    cohort was imported, nor after ``now``. A known address under another name is refused
    unless ``rename`` (see :func:`~journey.services.cohorts.people_by_email`).
    """
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    tz = cohort.timezone
    day, imported, today = (local_date(t, tz) for t in (joined_at, cohort.imported_at, now))
    if day < imported:
        raise DateOutOfRange(
            f"join date {day.isoformat()} is before cohort {cohort_id!r} was imported "
            f"({imported.isoformat()})"
        )
    if day > today:
        raise DateOutOfRange(
            f"join date {day.isoformat()} is in the future (today is {today.isoformat()} in {tz})"
        )
    named = [t.person for t in trainees]
    people, renamed = people_by_email(session, named, rename=rename, how=RENAME_ON_ADD)
    institutions = {i.name: i for i in session.scalars(select(Institution))}
    mentors = {
        email: m
        for m, email in session.execute(
            select(Mentor, Person.email)
            .join(Person, Person.id == Mentor.person_id)
            .where(Mentor.cohort_id == cohort_id)
        )
    }
    sets = {
        s.name: s
        for s in session.scalars(select(LearningSet).where(LearningSet.cohort_id == cohort_id))
    }
    added = []
    for t in trainees:
        enrolment, _ = enrol(
            cohort,
            t,
            people[t.person.email],
            {},
            institutions[t.institution],
            mentors.get(t.mentor_email or ""),
            sets.get(t.learning_set or ""),
        )
        session.add(enrolment)
        added.append(enrolment)
    session.flush()
    ids = [e.id for e in added]
    welcomes, told = welcome_joiners(
        session=session, cohort=cohort, enrolment_ids=ids, joined_at=joined_at, now=now
    )
    emails = tuple(t.person.email for t in trainees)
    launched = cohort.launched_at is not None
    for enrolment in added:
        note(
            session=session,
            at=now,
            by=by,
            action="join",
            detail=f"joined on {day.isoformat()}",
            cohort_id=cohort_id,
            enrolment_id=enrolment.id,
            person_id=enrolment.person_id,
        )
    return Joined(cohort_id, emails, welcomes, told, launched, tuple(renamed))
