"""Recording completions and attendance: validated first, written in one go, idempotent."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from journey.engine import Occurrence, local_date, occurrence
from journey.errors import JourneyError, NotApplicable, UnknownMilestone, UnknownTrainee
from journey.models import Completion, MentoringMeeting
from journey.services.loading import LoadedCohort, LoadedTrainee, load_cohort, load_trainees

_MENTORING = re.compile(r"^mentoring-(\d+)$")


@dataclass
class RecordResult:
    cohort_id: str
    milestone: str
    recorded: list[str] = field(default_factory=list)  # emails newly recorded
    already: list[str] = field(default_factory=list)  # emails recorded before
    recorded_ids: list[int] = field(default_factory=list)  # their enrolment ids


def record(
    *,
    session: Session,
    cohort_id: str,
    emails: Sequence[str],
    milestone: str,
    on: date | None,
    now: datetime,
    dry_run: bool = False,
) -> RecordResult:
    """Record that each trainee did ``milestone`` (on ``on``, default: today or the session).

    Every email is checked before anything is written; an unknown one fails the whole
    command. For the multi-day training, ``on`` picks the day, and no ``on`` means both
    days. Recording again changes nothing. Notices already queued for it are cancelled
    by the send-time gate. ``dry_run`` checks everything and reports, writing nothing.
    """
    loaded = load_cohort(session, cohort_id)
    if milestone not in loaded.programme.ids:
        raise UnknownMilestone(milestone, loaded.programme.ids)
    trainees = _find(session, loaded, emails)
    today = local_date(now, loaded.cohort.timezone)
    plans = [(t, _plan_for(loaded, t, milestone, on, today)) for t in trainees]
    result = RecordResult(cohort_id, milestone)
    for trainee, entries in plans:
        added = sum(_write(session, trainee, milestone, n, day, now, dry_run) for n, day in entries)
        email = trainee.enrolment.person.email or ""
        (result.recorded if added else result.already).append(email)
        if added:
            result.recorded_ids.append(trainee.enrolment.id)
    session.flush()
    return result


def _find(session: Session, loaded: LoadedCohort, emails: Sequence[str]) -> list[LoadedTrainee]:
    by_email = {
        t.enrolment.person.email: t
        for t in load_trainees(session, [loaded.cohort.id])[loaded.cohort.id]
    }
    found, unknown = [], []
    for raw in emails:
        email = raw.strip().lower()
        (found.append(by_email[email]) if email in by_email else unknown.append(raw))
    if unknown:
        raise UnknownTrainee(loaded.cohort.id, ", ".join(unknown))
    return list({t.enrolment.id: t for t in found}.values())


def _plan_for(
    loaded: LoadedCohort, trainee: LoadedTrainee, milestone: str, on: date | None, today: date
) -> list[tuple[int, date]]:
    """(occurrence number, date) pairs to write for one trainee."""
    occ = occurrence(loaded.programme.milestone(milestone), loaded.plan, trainee.record)
    email = trainee.enrolment.person.email
    if occ is None:
        raise NotApplicable(f"{milestone} does not apply to {email} (no follow-up, or no set)")
    if not occ.slots:
        return [(1, on or today)]
    days = _session_days(occ, loaded.cohort.timezone)
    if on is None:
        return list(enumerate(days, 1))
    if on in days:
        return [(days.index(on) + 1, on)]
    if len(days) == 1:
        return [(1, on)]  # attended a rearranged session: keep the date given
    listed = ", ".join(d.isoformat() for d in days)
    raise JourneyError(f"{milestone} has no session on {on.isoformat()} (sessions: {listed})")


def _session_days(occ: Occurrence, tz: str) -> list[date]:
    return [local_date(s.starts_at, tz) for s in occ.slots]


def _write(
    session: Session,
    trainee: LoadedTrainee,
    milestone: str,
    number: int,
    day: date,
    now: datetime,
    dry_run: bool,
) -> bool:
    """Add one record unless the trainee has it already; True if it is new."""
    if (milestone, number) in trainee.record.done:
        return False
    if not dry_run:
        session.add(_row(trainee, milestone, number, day, now))
    return True


def _row(
    trainee: LoadedTrainee, milestone: str, number: int, day: date, now: datetime
) -> Completion | MentoringMeeting:
    """Mentoring is kept as a dated meeting (nothing about its content); the rest as completions."""
    enrolment = trainee.enrolment
    mentoring = _MENTORING.match(milestone)
    if mentoring:
        return MentoringMeeting(
            enrolment_id=enrolment.id,
            number=int(mentoring[1]),
            met_on=day,
            mentor_id=enrolment.mentor_id,
            recorded_at=now,
        )
    return Completion(
        enrolment_id=enrolment.id,
        milestone=milestone,
        occurrence=number,
        completed_on=day,
        recorded_at=now,
    )


def emails_from_csv(path: str, text: str) -> list[str]:
    """The ``email`` column of an attendance CSV (header required)."""
    import csv
    import io

    from journey.errors import InputProblem, InvalidInput

    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "email" not in [f.strip().lower() for f in reader.fieldnames]:
        raise InvalidInput([InputProblem(path, 1, "email", "no 'email' column in the header")])
    column = next(f for f in reader.fieldnames if f.strip().lower() == "email")
    emails = [(row.get(column) or "").strip() for row in reader]
    problems = [InputProblem(path, i, "email", "empty") for i, e in enumerate(emails, 2) if not e]
    if problems:
        raise InvalidInput(problems)
    return emails
