"""What will be sent, without sending: queued notices, then what comes due in N days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, aliased

from journey.engine import Planner
from journey.errors import UnknownCohort
from journey.models import Cohort, Enrolment, Mentor, Notice, NoticeStatus, Person
from journey.services.loading import known_cohort_ids, load_cohorts, load_trainees
from journey.services.queue import SUPERSEDED


@dataclass(frozen=True)
class UpcomingNotice:
    due_at: datetime
    cohort_id: str
    timezone: str  # the cohort's: the time a row is shown in
    to: str  # role
    trainee: str  # the trainee it concerns (the recipient, for mentor/facilitator notices)
    template: str
    milestone: str
    queued: bool  # already in the outbox
    # The recipient opted out of email: the send-time gate will cancel it, so the
    # organiser tells them by other means (a phone call).
    tell_by_other_means: bool = False
    note: str | None = None  # why a queued notice is still waiting (the mail server was down…)


def upcoming(
    *, session: Session, now: datetime, days: int, cohort_id: str | None = None
) -> list[UpcomingNotice]:
    """Queued-but-unsent notices, then those the engine plans for the next ``days`` days.

    Notices to someone who opted out of email are listed too, marked
    ``tell_by_other_means``: they will not be sent, and the organiser should pass them on.
    A ``cohort_id`` no cohort has is :class:`UnknownCohort`: an empty list would read as
    "nothing to send" for a mistyped id.
    """
    if cohort_id is not None and session.get(Cohort, cohort_id) is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    out = _queued(session, cohort_id)
    out += _planned(session, now, now + timedelta(days=days), cohort_id)
    out.sort(key=lambda u: (u.due_at, u.cohort_id, u.trainee, u.template))
    return out


def _planned(
    session: Session, start: datetime, end: datetime, cohort_id: str | None
) -> list[UpcomingNotice]:
    """What the engine plans between ``start`` and ``end`` for launched cohorts' trainees."""
    ids = [cohort_id] if cohort_id else None
    cohorts = [c for c in load_cohorts(session, ids) if c.cohort.launched_at is not None]
    trainees = load_trainees(session, [c.cohort.id for c in cohorts], active_only=True)
    opted_out = set(session.scalars(select(Person.id).where(Person.opted_out_at.is_not(None))))
    mentors = _mentors(session, [c.cohort.id for c in cohorts]) if opted_out else {}
    out = []
    for loaded in cohorts:
        planner = Planner(loaded.programme, loaded.plan)
        for t in trainees[loaded.cohort.id]:
            e = t.enrolment
            to = {
                "trainee": e.person_id,
                "organiser": loaded.cohort.organiser_id,
                "mentor": mentors.get(e.mentor_id) if e.mentor_id is not None else None,
            }
            out += [
                UpcomingNotice(
                    n.due_at, loaded.cohort.id, loaded.cohort.timezone, n.to, e.person.name,
                    n.template, n.milestone, False, to.get(n.to) in opted_out,
                )
                for n in planner.between(t.record, start, end)
            ]  # fmt: skip
    return out


def _mentors(session: Session, cohort_ids: list[str]) -> dict[int, int]:
    """Mentor id to the mentor's person id, for the cohorts given."""
    query = select(Mentor.id, Mentor.person_id).where(Mentor.cohort_id.in_(cohort_ids))
    return {mentor_id: person_id for mentor_id, person_id in session.execute(query)}


def _queued(session: Session, cohort_id: str | None) -> list[UpcomingNotice]:
    """Notices in the outbox not yet sent."""
    waiting = Notice.status.in_([NoticeStatus.PENDING, NoticeStatus.CLAIMED])
    return _outbox(session, waiting, *([Notice.cohort_id == cohort_id] if cohort_id else []))


def skipped(*, session: Session, queued_at: datetime) -> list[UpcomingNotice]:
    """Notices a sweep at ``queued_at`` found already too late and marked skipped.

    After an outage the organiser gets this list, to follow up by hand where it matters.
    """
    return _outbox(
        session,
        Notice.status == NoticeStatus.SKIPPED,
        Notice.created_at == queued_at,
        Notice.last_error != SUPERSEDED,
    )


def _outbox(session: Session, *conditions: ColumnElement[bool]) -> list[UpcomingNotice]:
    """Outbox rows matching ``conditions``; "about" is the trainee, else the recipient."""
    recipient, trainee = aliased(Person), aliased(Person)
    query = (
        select(Notice, Cohort.timezone, recipient.name, trainee.name, recipient.opted_out_at)
        .join(Cohort, Cohort.id == Notice.cohort_id)
        .join(recipient, recipient.id == Notice.person_id)
        .outerjoin(Enrolment, Enrolment.id == Notice.enrolment_id)
        .outerjoin(trainee, trainee.id == Enrolment.person_id)
        .where(*conditions)
        .order_by(Notice.due_at, Notice.key)
    )
    return [
        UpcomingNotice(
            n.due_at, n.cohort_id, tz, n.recipient_role, about or to, n.template,
            n.milestone or "launch", True, opted_out is not None,
            n.last_error if n.status is NoticeStatus.PENDING else None,
        )
        for n, tz, to, about, opted_out in session.execute(query)
    ]  # fmt: skip
