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
from typing import Any

from sqlalchemy.orm import Session

from journey.engine import local_date, notice_key
from journey.errors import JourneyError
from journey.models import CohortEvent, EventKind, NoticeStatus
from journey.programme import Milestone, Programme
from journey.services.loading import LoadedTrainee, load_cohort, load_trainees
from journey.services.queue import insert_new

UPDATED, CANCELLED = "session-updated", "session-cancelled"


def milestone_for(programme: Programme, event: CohortEvent, trainee: LoadedTrainee) -> str | None:
    """The first milestone (in programme order) whose session this is, for this trainee."""
    record = trainee.record
    for m in programme.milestones:
        applies = m.applies_to == "all" or record.follow_up
        if applies and _concerns(m, event, record.learning_set_id):
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
) -> dict[str, Any]:
    template = CANCELLED if event.cancelled else UPDATED
    rule = f"{template}-{event.sequence}>trainee"
    on = local_date(event.starts_at, tz).isoformat()
    return {
        "key": notice_key(cohort_id, str(trainee.enrolment.id), milestone, rule, on),
        "cohort_id": cohort_id, "enrolment_id": trainee.enrolment.id,
        "person_id": trainee.enrolment.person_id, "recipient_role": "trainee",
        "template": template, "milestone": milestone, "rule": rule,
        "occurrence": f"seq{event.sequence}", "event_id": event.id, "attach_ics": True,
        "due_at": now, "useful_until": event.starts_at, "status": NoticeStatus.PENDING,
        "attempts": 0, "created_at": now, "last_error": None,
    }  # fmt: skip


def cancel_session(*, session: Session, cohort_id: str, event_id: int, now: datetime) -> int:
    """Cancel a session: SEQUENCE + 1, and a cancelling invitation to those it concerned."""
    event = session.get(CohortEvent, event_id)
    if event is None or event.cohort_id != cohort_id:
        raise JourneyError(f"cohort {cohort_id!r} has no session {event_id}")
    if not event.cancelled:
        event.cancelled = True
        event.sequence += 1
        session.flush()
    return queue_changes(session=session, cohort_id=cohort_id, event_ids=[event_id], now=now)
