"""A trainee leaving and coming back, and a person's consent to email.

Shared by the CLI (``journey withdraw``, ``reinstate``, ``person opt-out``/``opt-in``) and
the withdraw-trainee flow. Every input is checked before anything is written; each change
is written with its line of history, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from journey.engine import local_date, local_moment
from journey.engine.keys import about_trainee_key
from journey.errors import (
    DateOutOfRange,
    JourneyError,
    UnknownCohort,
    UnknownPerson,
    UnknownTrainee,
)
from journey.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    LearningSet,
    Mentor,
    Notice,
    NoticeStatus,
    Person,
    RecipientRole,
)
from journey.services.history import note
from journey.services.loading import known_cohort_ids
from journey.services.outbox import WITHDRAWN_NEWS, WITHDREW, NoticeRow, insert_new, notice_row

TOLD_FOR = timedelta(days=14)  # how long the news is worth a line in a digest
MAX_REASON = 500  # Enrolment.withdrawal_reason's length
_WAITING = (NoticeStatus.PENDING, NoticeStatus.HELD)  # CLAIMED ones: the gate cancels them


@dataclass(frozen=True)
class Withdrawal:
    """What :func:`withdraw` did, or (``already``) found done before."""

    cohort_id: str
    email: str
    on: date  # the local date they withdrew
    already: bool
    launched: bool
    cancelled: int = 0  # queued notices to them, cancelled
    told: tuple[str, ...] = ()  # who is queued the news: "mentor", "facilitator"


@dataclass(frozen=True)
class Reinstatement:
    """What :func:`reinstate` did; ``already``: they were active, nothing changed."""

    cohort_id: str
    email: str
    already: bool
    withdrawn_on: date | None = None
    active_from: datetime | None = None


@dataclass(frozen=True)
class EmailConsent:
    """A person's email consent after :func:`opt_out` or :func:`opt_in`."""

    email: str
    opted_out: bool
    already: bool  # it was so before: nothing changed


def withdraw(
    *,
    session: Session,
    cohort_id: str,
    email: str,
    on: date | None,
    reason: str | None,
    by: str | None,
    now: datetime,
    dry_run: bool = False,
) -> Withdrawal:
    """Withdraw a trainee from ``on`` (midnight in the cohort's zone; default: ``now``).

    Their notices still queued or held are cancelled at once, so neither a sweep nor a
    digest picks them up; their mentor and set facilitator (once the cohort is launched)
    are queued the news for their digest. Withdrawing again changes nothing.
    """
    cohort = _cohort(session, cohort_id)
    enrolment, stored = _enrolment(session, cohort, email)
    at = _moment(cohort, on, now)
    reason = _reason(reason)
    tz, launched = cohort.timezone, cohort.launched_at is not None
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        day = local_date(enrolment.withdrawn_at or at, tz)
        return Withdrawal(cohort.id, stored, day, already=True, launched=launched)
    told = _told(session, cohort, enrolment)
    roles = tuple(role for role, _ in told)
    if dry_run:
        count = select(func.count()).select_from(Notice).where(*_waiting(enrolment.id))
        waiting = session.scalar(count) or 0
        return Withdrawal(cohort.id, stored, local_date(at, tz), False, launched, waiting, roles)
    cancelled = _write_withdrawal(session, cohort, enrolment, at, reason, told, by, now)
    return Withdrawal(cohort.id, stored, local_date(at, tz), False, launched, cancelled, roles)


def _write_withdrawal(
    session: Session,
    cohort: Cohort,
    enrolment: Enrolment,
    at: datetime,
    reason: str | None,
    told: list[tuple[str, int]],
    by: str | None,
    now: datetime,
) -> int:
    """Mark the withdrawal, cancel what waits for them, queue the news, note it; returns
    how many notices were cancelled. The news is queued after the cancelling, which would
    otherwise take it too."""
    enrolment.status = EnrolmentStatus.WITHDRAWN
    enrolment.withdrawn_at, enrolment.withdrawal_reason = at, reason
    cancelled = _cancel_waiting(session, enrolment.id)
    insert_new(session, [_news(cohort, enrolment, role, who, at, now) for role, who in told])
    day = local_date(at, cohort.timezone).isoformat()
    note(
        session=session,
        at=now,
        by=by,
        action="withdraw",
        detail=f"withdrawn on {day}" + (f": {reason}" if reason else ""),
        cohort_id=cohort.id,
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
    )
    session.flush()
    return cancelled


def reinstate(
    *, session: Session, cohort_id: str, email: str, by: str | None, now: datetime
) -> Reinstatement:
    """Bring a withdrawn trainee back from ``now``: their notices count from this moment,
    so nothing that came due while they were away is sent as a catch-up."""
    cohort = _cohort(session, cohort_id)
    enrolment, stored = _enrolment(session, cohort, email)
    if enrolment.status is EnrolmentStatus.ACTIVE:
        return Reinstatement(cohort.id, stored, already=True, active_from=enrolment.active_from)
    left = enrolment.withdrawn_at
    day = local_date(left, cohort.timezone) if left is not None else None
    enrolment.status = EnrolmentStatus.ACTIVE
    enrolment.withdrawn_at = enrolment.withdrawal_reason = None
    enrolment.active_from = now
    note(
        session=session,
        at=now,
        by=by,
        action="reinstate",
        detail=f"back after withdrawing on {day.isoformat()}" if day else "back",
        cohort_id=cohort.id,
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
    )
    session.flush()
    return Reinstatement(cohort.id, stored, already=False, withdrawn_on=day, active_from=now)


def opt_out(*, session: Session, email: str, by: str | None, now: datetime) -> EmailConsent:
    """Send this person no more email. They stay on the programme, counted as active; the
    send-time gate cancels each notice to them, so `journey upcoming` still lists them."""
    return _consent(session, email, opted_out=True, by=by, now=now)


def opt_in(*, session: Session, email: str, by: str | None, now: datetime) -> EmailConsent:
    """Email this person again, from the next delivery on (what was cancelled stays so)."""
    return _consent(session, email, opted_out=False, by=by, now=now)


def _consent(
    session: Session, email: str, *, opted_out: bool, by: str | None, now: datetime
) -> EmailConsent:
    wanted = email.strip()
    person = session.scalar(select(Person).where(Person.email == wanted.lower()).with_for_update())
    if person is None or person.email is None:
        raise UnknownPerson(wanted)
    if (person.opted_out_at is not None) == opted_out:
        return EmailConsent(person.email, opted_out, already=True)
    person.opted_out_at = now if opted_out else None
    action, detail = ("opt-out", "no more email") if opted_out else ("opt-in", "email again")
    note(session=session, at=now, by=by, action=action, detail=detail, person_id=person.id)
    session.flush()
    return EmailConsent(person.email, opted_out, already=False)


def _cohort(session: Session, cohort_id: str) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    return cohort


def _enrolment(session: Session, cohort: Cohort, email: str) -> tuple[Enrolment, str]:
    """The trainee's enrolment, locked against a second organiser, and their stored email."""
    wanted = email.strip().lower()
    enrolment = session.scalar(
        select(Enrolment)
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.cohort_id == cohort.id, Person.email == wanted)
        .with_for_update(of=Enrolment)
    )
    if enrolment is None:
        raise UnknownTrainee(cohort.id, email.strip())
    return enrolment, wanted


def _moment(cohort: Cohort, on: date | None, now: datetime) -> datetime:
    """When they withdrew: ``on`` at 00:00 in the cohort's zone, or ``now``; the date must
    fall between the cohort's import and today (local dates)."""
    if on is None:
        return now
    tz = cohort.timezone
    imported, today = local_date(cohort.imported_at, tz), local_date(now, tz)
    if on < imported:
        raise DateOutOfRange(
            f"withdrawal date {on.isoformat()} is before cohort {cohort.id!r} was imported "
            f"({imported.isoformat()})"
        )
    if on > today:
        raise DateOutOfRange(
            f"withdrawal date {on.isoformat()} is in the future (today is "
            f"{today.isoformat()} in {tz})"
        )
    return local_moment(on, time(0, 0), tz)


def _reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > MAX_REASON:
        raise JourneyError(f"the reason has {len(text)} characters; keep it to {MAX_REASON}")
    return text or None


def _told(session: Session, cohort: Cohort, enrolment: Enrolment) -> list[tuple[str, int]]:
    """(role, person id) of the trainee's mentor and set facilitator, those they have.
    Before the launch nobody has been told who is theirs, so nobody is told."""
    if cohort.launched_at is None:
        return []
    told = []
    if enrolment.mentor_id is not None:
        mentor = session.get(Mentor, enrolment.mentor_id)
        if mentor is not None:
            told.append(("mentor", mentor.person_id))
    if enrolment.learning_set_id is not None:
        lset = session.get(LearningSet, enrolment.learning_set_id)
        if lset is not None and lset.facilitator_id is not None:
            told.append(("facilitator", lset.facilitator_id))
    return told


def _waiting(enrolment_id: int) -> tuple[ColumnElement[bool], ...]:
    """The trainee's notices still queued or held."""
    return (Notice.enrolment_id == enrolment_id, Notice.status.in_(_WAITING))


def _cancel_waiting(session: Session, enrolment_id: int) -> int:
    """Cancel the trainee's notices still queued or held; how many."""
    stmt = (
        update(Notice)
        .where(*_waiting(enrolment_id))
        .values(status=NoticeStatus.CANCELLED, last_error=WITHDREW)
        .returning(Notice.id)
        .execution_options(synchronize_session=False)
    )
    return len(session.execute(stmt).all())


def _news(
    cohort: Cohort, enrolment: Enrolment, role: str, person_id: int, at: datetime, now: datetime
) -> NoticeRow:
    """The held notice telling a mentor or facilitator that their trainee withdrew."""
    return notice_row(
        key=about_trainee_key(cohort.id, enrolment.id, "withdrawn", WITHDRAWN_NEWS, role, at),
        cohort_id=cohort.id,
        enrolment_id=enrolment.id,
        person_id=person_id,
        role=RecipientRole(role),
        template=WITHDRAWN_NEWS,
        due_at=now,
        useful_until=now + TOLD_FOR,
        now=now,
    )
