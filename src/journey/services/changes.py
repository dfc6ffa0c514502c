"""When a session moves or is cancelled: tell the people it concerns, with a calendar update.

A moved session keeps its calendar UID and gets SEQUENCE + 1; each active trainee it
concerns gets a ``session-updated`` notice with an .ics ``METHOD:REQUEST``, and a
cancelled one a ``session-cancelled`` notice with ``METHOD:CANCEL``. Reminders queued for
the old date are cancelled at send time (their key carries the old date). Each change
notice is keyed by the session's sequence, so a later change supersedes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine import applies, local_date
from journey.engine.keys import change_key
from journey.errors import JourneyError, UnknownCohort, UnknownSession
from journey.models import Cohort, CohortEvent, EventKind, LearningSet, RecipientRole
from journey.programme import Milestone, Programme
from journey.services.history import note
from journey.services.loading import (
    LoadedTrainee,
    known_cohort_ids,
    load_cohort,
    load_trainees,
)
from journey.services.outbox import NoticeRow, insert_new, notice_row

UPDATED, CANCELLED = "session-updated", "session-cancelled"


def milestone_for(programme: Programme, event: CohortEvent, trainee: LoadedTrainee) -> str | None:
    """The first milestone (in programme order) whose session this is, for this trainee."""
    record = trainee.record
    for m in programme.milestones:
        if applies(m, record) and _concerns(m, event, record.learning_set_id):
            return m.id
    return None


def _concerns(m: Milestone, event: CohortEvent, learning_set_id: int | None) -> bool:
    if event.kind is EventKind.LEARNING_SET:
        return (
            m.sessions == "learning-set"
            and m.session == event.number
            and event.learning_set_id == learning_set_id
        )
    return m.sessions == event.kind.value


def queue_changes(
    *, session: Session, cohort_id: str, event_ids: Iterable[int], now: datetime
) -> int:
    """Queue a change notice per active trainee for each moved or cancelled session.

    Nothing before launch (the welcome and reminders carry the current dates anyway),
    and nothing for sessions already past. Returns how many notices were queued.
    """
    loaded = load_cohort(session, cohort_id)
    wanted = set(event_ids)
    events = [e for e in loaded.events if e.id in wanted and e.starts_at > now]
    if loaded.cohort.launched_at is None or not events:
        return 0
    trainees = load_trainees(session, [cohort_id], active_only=True)[cohort_id]
    rows = [
        _row(cohort_id, loaded.cohort.timezone, event, t, milestone, now)
        for event in events
        for t in trainees
        if (milestone := milestone_for(loaded.programme, event, t)) is not None
    ]
    return insert_new(session, rows)


def _row(
    cohort_id: str,
    tz: str,
    event: CohortEvent,
    trainee: LoadedTrainee,
    milestone: str,
    now: datetime,
) -> NoticeRow:
    template = CANCELLED if event.cancelled else UPDATED
    on = local_date(event.starts_at, tz)
    key = change_key(cohort_id, trainee.enrolment.id, milestone, template, event.sequence, on)
    return notice_row(
        key=key,
        cohort_id=cohort_id,
        enrolment_id=trainee.enrolment.id,
        person_id=trainee.enrolment.person_id,
        role=RecipientRole.TRAINEE,
        template=template,
        milestone=milestone,
        rule=f"{template}-{event.sequence}>trainee",
        occurrence=f"seq{event.sequence}",
        event_id=event.id,
        attach_ics=True,
        due_at=now,
        useful_until=event.starts_at,
        now=now,
    )


def cancel_session(
    *, session: Session, cohort_id: str, event_id: int, now: datetime, by: str | None = None
) -> int:
    """Cancel a session: SEQUENCE + 1, and a cancelling invitation to those it concerned;
    a line of history the first time."""
    event = session.get(CohortEvent, event_id)
    if event is None or event.cohort_id != cohort_id:
        raise JourneyError(f"cohort {cohort_id!r} has no session {event_id}")
    if not event.cancelled:
        event.cancelled = True
        event.sequence += 1
        session.flush()
        detail = f"{event.kind.value} {event.number} cancelled"
        note(
            session=session,
            at=now,
            by=by,
            action="session-cancel",
            detail=detail,
            cohort_id=cohort_id,
        )
    return queue_changes(session=session, cohort_id=cohort_id, event_ids=[event_id], now=now)


def find_session(
    *,
    session: Session,
    cohort_id: str,
    kind: EventKind,
    number: int | None = None,
    set_name: str | None = None,
) -> tuple[CohortEvent, str]:
    """The session an organiser names, and how to call it (``Set A, session 2``).

    ``training 2``, ``graduation``, or ``learning-set 2`` of a set named as in the cohort
    file. The number may be left out when the kind has one session (graduation), the set
    when the cohort has one set. Anything else is :class:`UnknownSession`, listing them.
    """
    if session.get(Cohort, cohort_id) is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    query = select(LearningSet.id, LearningSet.name).where(LearningSet.cohort_id == cohort_id)
    sets: dict[int, str] = {i: name for i, name in session.execute(query)}
    set_id = _set_id(cohort_id, sets, set_name) if kind is EventKind.LEARNING_SET else None
    rank = {k: i for i, k in enumerate(EventKind)}  # training, learning sets, graduation
    events = sorted(
        session.scalars(select(CohortEvent).where(CohortEvent.cohort_id == cohort_id)),
        key=lambda e: (rank[e.kind], sets.get(e.learning_set_id or 0, ""), e.number),
    )
    chosen = [
        e
        for e in events
        if (e.kind, e.learning_set_id) == (kind, set_id) and number in (None, e.number)
    ]
    if len(chosen) == 1:
        return chosen[0], _label(chosen[0], sets)
    of = f" of {sets[set_id]}" if set_id is not None else ""
    numbered = f" {number}" if number is not None else ""
    problem = (
        f"{len(chosen)} {kind.value} sessions{of}; which one?"
        if chosen
        else f"no {kind.value}{numbered}{of}."
    )
    raise UnknownSession(f"cohort {cohort_id!r} has {problem} It has: {_listing(events, sets)}")


def _set_id(cohort_id: str, sets: dict[int, str], name: str | None) -> int:
    ids = {v: k for k, v in sets.items()}
    if name is None and len(ids) == 1:
        return next(iter(ids.values()))
    if name is not None and name in ids:
        return ids[name]
    problem = "several learning sets; which one?" if name is None else f"no learning set {name!r}."
    raise UnknownSession(f"cohort {cohort_id!r} has {problem} It has: {', '.join(sorted(ids))}")


def session_label(kind: EventKind, number: int, set_name: str | None) -> str:
    """How an organiser calls a session: ``Set A, session 2``, ``training day 1``."""
    if kind is EventKind.LEARNING_SET:
        return f"{set_name}, session {number}"
    return "graduation" if kind is EventKind.GRADUATION else f"training day {number}"


def _label(event: CohortEvent, sets: dict[int, str]) -> str:
    return session_label(event.kind, event.number, sets.get(event.learning_set_id or 0))


def _listing(events: Iterable[CohortEvent], sets: dict[int, str]) -> str:
    """``training 1-2, learning-set 1-3 of Set A, …, graduation``, in the cohort's order."""
    groups: dict[tuple[EventKind, int | None], list[int]] = {}
    for e in events:
        groups.setdefault((e.kind, e.learning_set_id), []).append(e.number)
    return ", ".join(
        "graduation"
        if kind is EventKind.GRADUATION and numbers == [1]
        else f"{kind.value} {_numbers(numbers)}" + (f" of {sets[set_id]}" if set_id else "")
        for (kind, set_id), numbers in groups.items()
    )


def _numbers(numbers: list[int]) -> str:
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ",".join(map(str, numbers))
