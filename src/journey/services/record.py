"""Recording completions and attendance: validated first, written in one go, idempotent.

The same command corrects a recorded date (record again with another ``on``) and takes a
record back (``undo``); each change leaves a line of history. Status, artifacts and later
sweeps read the completions, so they follow the corrected record by themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import ColumnElement, Delete, Update, delete, update
from sqlalchemy.orm import Session

from journey.engine import local_date, occurrence
from journey.errors import JourneyError, NothingToUndo, UnknownMilestone, UnknownTrainee
from journey.models import Completion, MentoringMeeting
from journey.services._record_checks import (
    Entry,
    cancelled_or_not_applicable,
    check_dates,
    refuse_cancelled_day,
    refuse_ineligible,
    refuse_withdrawn,
)
from journey.services.history import note
from journey.services.loading import LoadedCohort, LoadedTrainee, load_cohort, load_trainees
from journey.services.outbox import reopen


@dataclass(frozen=True)
class Correction:
    """A recorded date that was changed: whose, and from which day to which."""

    email: str
    old: date
    new: date


@dataclass
class RecordResult:
    cohort_id: str
    milestone: str
    recorded: list[str] = field(default_factory=list)  # emails newly recorded
    already: list[str] = field(default_factory=list)  # emails recorded before, unchanged
    recorded_ids: list[int] = field(default_factory=list)  # their enrolment ids
    corrected: list[Correction] = field(default_factory=list)  # dates changed
    undone: list[str] = field(default_factory=list)  # emails whose record was taken back


@dataclass(frozen=True)
class _Act:
    """What one command does, carried to each trainee's step."""

    session: Session
    milestone: str
    meeting: int | None  # which mentoring meeting the milestone is (the programme says)
    now: datetime
    by: str | None
    dry_run: bool


def record(
    *,
    session: Session,
    cohort_id: str,
    emails: Sequence[str],
    milestone: str,
    on: date | None,
    now: datetime,
    dry_run: bool = False,
    undo: bool = False,
    by: str | None = None,
    force: bool = False,
) -> RecordResult:
    """Record that each trainee did ``milestone`` (on ``on``, default: today or the session).

    Everything is checked for everyone before anything is written: unknown emails, and
    what :mod:`._record_checks` refuses (graduation for someone not eligible passes with
    ``force``). For the multi-day training, ``on`` picks the day; no ``on`` means both.
    Recording again changes nothing, unless ``on`` names another date for a record whose
    date was the organiser's to give (an undated milestone, a single session attended on
    a rearranged date): then the date is corrected. ``undo`` takes the records back (for
    the training, ``on`` picks the day), failing for everyone if anyone has nothing to
    take back; nothing else is checked, so a wrong record made before the checks existed
    can still go. Queued notices are judged again at send time. ``dry_run`` checks and
    reports, writing nothing. ``by`` names who acts in the history (default: the OS user).
    """
    loaded = load_cohort(session, cohort_id)
    if milestone not in loaded.programme.ids:
        raise UnknownMilestone(milestone, loaded.programme.ids)
    trainees = _find(session, loaded, emails)
    if not undo:
        refuse_withdrawn(loaded, trainees)
    today = local_date(now, loaded.cohort.timezone)
    plans = [(t, _plan_for(loaded, t, milestone, on, today, undo)) for t in trainees]
    meeting = loaded.programme.mentoring_number(milestone)
    act = _Act(session, milestone, meeting, now, by, dry_run)
    result = RecordResult(cohort_id, milestone)
    if undo:
        _undo_all(act, plans, on, result)
    else:
        check_dates(loaded, [e for _, entries in plans for e in entries], now)
        if not force:
            refuse_ineligible(loaded, milestone, trainees)
        for trainee, entries in plans:
            _record_one(act, trainee, entries, result)
    session.flush()
    return result


def _find(session: Session, loaded: LoadedCohort, emails: Sequence[str]) -> list[LoadedTrainee]:
    by_email = {
        t.enrolment.person.email: t
        for t in load_trainees(session, [loaded.cohort.id])[loaded.cohort.id]
    }
    found = [by_email[e] for e in (raw.strip().lower() for raw in emails) if e in by_email]
    unknown = [raw for raw in emails if raw.strip().lower() not in by_email]
    if unknown:
        raise UnknownTrainee(loaded.cohort.id, ", ".join(unknown))
    return list({t.enrolment.id: t for t in found}.values())


def _plan_for(
    loaded: LoadedCohort,
    trainee: LoadedTrainee,
    milestone: str,
    on: date | None,
    today: date,
    undo: bool,
) -> list[Entry]:
    """The records of ``milestone`` one trainee's command is about."""
    m = loaded.programme.milestone(milestone)
    occ = occurrence(m, loaded.plan, trainee.record)
    if occ is None:
        occ = cancelled_or_not_applicable(loaded, trainee, m, undo)
    if not occ.slots:
        return [Entry(1, on or today, milestone, chosen=on is not None)]
    days = [local_date(s.starts_at, loaded.cohort.timezone) for s in occ.slots]
    if on is not None and on not in days and not undo:
        refuse_cancelled_day(loaded, trainee, m, occ, on)
    if len(days) == 1:  # its date, or the rearranged date it was attended on
        return [Entry(1, on or days[0], milestone, on is not None, occ.slots[0].starts_at)]
    entries = [
        Entry(n, d, f"{milestone} session {n}", False, s.starts_at)
        for n, (d, s) in enumerate(zip(days, occ.slots, strict=True), 1)
    ]
    if on is None:
        return entries
    if on in days:  # a different day is a different session, never a correction
        return [entries[days.index(on)]]
    listed = ", ".join(d.isoformat() for d in days)
    raise JourneyError(f"{milestone} has no session on {on.isoformat()} (sessions: {listed})")


def _record_one(act: _Act, trainee: LoadedTrainee, entries: list[Entry], out: RecordResult) -> None:
    """Write one trainee's new records, or correct the date, and say so in the history."""
    email = trainee.enrolment.person.email or ""
    new = [e for e in entries if _write(act, trainee, e)]
    if new:
        out.recorded.append(email)
        out.recorded_ids.append(trainee.enrolment.id)
        _history(act, trainee, "record", _listing(new, "recorded"))
    elif corrected := _correct(act, trainee, entries, email):
        out.corrected.append(corrected)
    else:
        out.already.append(email)


def _write(act: _Act, trainee: LoadedTrainee, entry: Entry) -> bool:
    """Add one record unless the trainee has it already; True if it is new."""
    if (act.milestone, entry.number) in trainee.record.done:
        return False
    if not act.dry_run:
        act.session.add(_row(act, trainee, entry))
    return True


def _correct(
    act: _Act, trainee: LoadedTrainee, entries: list[Entry], email: str
) -> Correction | None:
    """A date the organiser gives replaces the one stored; a session's own date never does."""
    if len(entries) != 1 or not entries[0].chosen:
        return None
    entry = entries[0]
    old = trainee.record.done[(act.milestone, entry.number)]
    if old == entry.day:
        return None
    if not act.dry_run:
        act.session.execute(_set_date(act, trainee.enrolment.id, entry))
    detail = f"{entry.label}: {old.isoformat()} -> {entry.day.isoformat()}"
    _history(act, trainee, "record-correct", detail)
    return Correction(email, old, entry.day)


def _undo_all(
    act: _Act,
    plans: list[tuple[LoadedTrainee, list[Entry]]],
    on: date | None,
    out: RecordResult,
) -> None:
    """Take back each trainee's records, having checked that every one of them has some."""
    found = [(t, _recorded(act.milestone, t, entries)) for t, entries in plans]
    missing = [t.enrolment.person.email or "" for t, entries in found if not entries]
    if missing:
        what = act.milestone + (f" on {on.isoformat()}" if on else "")
        raise NothingToUndo(missing, what)
    for trainee, entries in found:
        if not act.dry_run:
            act.session.execute(_remove(act, trainee.enrolment.id, entries))
            reopen(
                session=act.session,
                enrolment_id=trainee.enrolment.id,
                milestone=act.milestone,
                now=act.now,
            )
        out.undone.append(trainee.enrolment.person.email or "")
        _history(act, trainee, "record-undo", _listing(entries, "undone"))


def _recorded(milestone: str, trainee: LoadedTrainee, entries: list[Entry]) -> list[Entry]:
    """The planned records the trainee has, as stored; a date the organiser gave must match."""
    stored = trainee.record.done
    return [
        replace(e, day=day)
        for e in entries
        if (day := stored.get((milestone, e.number))) is not None and (not e.chosen or day == e.day)
    ]


def _listing(entries: list[Entry], done: str) -> str:
    """``training session 1 (2026-09-25), training session 2 (2026-09-26) undone``."""
    return ", ".join(f"{e.label} ({e.day.isoformat()})" for e in entries) + f" {done}"


def _history(act: _Act, trainee: LoadedTrainee, action: str, detail: str) -> None:
    """One line per trainee and change; for mentoring only its number and date (confidential)."""
    if act.dry_run:
        return
    enrolment = trainee.enrolment
    note(
        session=act.session,
        at=act.now,
        by=act.by,
        action=action,
        detail=detail,
        cohort_id=enrolment.cohort_id,
        enrolment_id=enrolment.id,
        person_id=enrolment.person_id,
    )


def _set_date(act: _Act, enrolment_id: int, entry: Entry) -> Update:
    if act.meeting is not None:
        meeting = _meeting(enrolment_id, act.meeting)
        return update(MentoringMeeting).where(*meeting).values(met_on=entry.day)
    found = _completions(enrolment_id, act.milestone, [entry.number])
    return update(Completion).where(*found).values(completed_on=entry.day)


def _remove(act: _Act, enrolment_id: int, entries: list[Entry]) -> Delete:
    if act.meeting is not None:
        return delete(MentoringMeeting).where(*_meeting(enrolment_id, act.meeting))
    numbers = [e.number for e in entries]
    return delete(Completion).where(*_completions(enrolment_id, act.milestone, numbers))


def _meeting(enrolment_id: int, number: int) -> tuple[ColumnElement[bool], ...]:
    return (MentoringMeeting.enrolment_id == enrolment_id, MentoringMeeting.number == number)


def _completions(
    enrolment_id: int, milestone: str, numbers: list[int]
) -> tuple[ColumnElement[bool], ...]:
    return (
        Completion.enrolment_id == enrolment_id,
        Completion.milestone == milestone,
        Completion.occurrence.in_(numbers),
    )


def _row(act: _Act, trainee: LoadedTrainee, entry: Entry) -> Completion | MentoringMeeting:
    """Mentoring is kept as a dated meeting (nothing about its content); the rest as completions."""
    enrolment = trainee.enrolment
    if act.meeting is not None:
        return MentoringMeeting(
            enrolment_id=enrolment.id,
            number=act.meeting,
            met_on=entry.day,
            mentor_id=enrolment.mentor_id,
            recorded_at=act.now,
        )
    return Completion(
        enrolment_id=enrolment.id,
        milestone=act.milestone,
        occurrence=entry.number,
        completed_on=entry.day,
        recorded_at=act.now,
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
