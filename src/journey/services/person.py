"""Everything about one person (``journey person show``): enrolments, what is done, every
notice sent to them and what comes next.

Read-only, and a fixed number of queries whatever the number of cohorts or trainees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine import DEFAULT_TIMEZONE, Planner
from journey.errors import UnknownPerson
from journey.mail.render import render_notice
from journey.models import Cohort, Enrolment, LearningSet, Mentor, Notice, NoticeStatus, Person
from journey.services.compose import Verdict, contexts
from journey.services.loading import LoadedCohort, LoadedTrainee, load_cohorts, load_trainees
from journey.services.queue import planned_row

PLANNED_DAYS = 60  # how far ahead `person show` looks for notices the engine plans


@dataclass(frozen=True)
class Done:
    what: str  # a milestone id, "training day 2", "mentoring-3" (only that it took place)
    on: date


@dataclass(frozen=True)
class EnrolmentView:
    cohort_id: str
    cohort_title: str
    timezone: str
    status: str  # an EnrolmentStatus value
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
    institution: str
    place: str
    follow_up: bool
    mentor: str | None
    learning_set: str | None
    done: tuple[Done, ...]


@dataclass(frozen=True)
class Role:
    role: Literal["mentor", "facilitator", "organiser"]
    cohort_id: str
    learning_set: str | None = None  # the set a facilitator leads


@dataclass(frozen=True)
class NoticeLine:
    at: datetime  # when it was sent; else when it is (or was) due
    cohort_id: str
    timezone: str
    subject: str  # as worded today; "(template: milestone)" when it cannot be worded
    template: str
    milestone: str | None
    status: str  # a NoticeStatus value, or "planned" (not queued yet)
    note: str | None  # why it failed, was cancelled or skipped


@dataclass(frozen=True)
class PersonView:
    name: str
    email: str
    opted_out_at: datetime | None
    timezone: str  # of their first cohort: for dates not tied to one
    roles: tuple[Role, ...]
    enrolments: tuple[EnrolmentView, ...]
    notices: tuple[NoticeLine, ...]  # sent, failed, cancelled, skipped: oldest first
    upcoming: tuple[NoticeLine, ...]  # queued, held or planned: soonest first
    planned_until: datetime


def person_view(*, session: Session, email: str, now: datetime) -> PersonView:
    """Everything about one person (by email, any case): who they are in which cohort, what
    they did, every notice to them, and the notices the engine plans for them next."""
    person = session.scalars(select(Person).where(Person.email == email.strip().lower())).first()
    if person is None or person.email is None:
        raise UnknownPerson(email)
    ids = list(session.scalars(select(Enrolment.cohort_id).where(Enrolment.person_id == person.id)))
    cohorts = {c.cohort.id: c for c in load_cohorts(session, ids)}
    mine = [t for ts in load_trainees(session, ids).values() for t in ts]
    mine = [t for t in mine if t.enrolment.person_id == person.id]
    outbox = list(
        session.scalars(
            select(Notice).where(Notice.person_id == person.id).order_by(Notice.due_at, Notice.id)
        )
    )
    end = now + timedelta(days=PLANNED_DAYS)
    planned = _planned(cohorts, mine, {n.key for n in outbox}, now, end)
    zones = dict(session.execute(select(Cohort.id, Cohort.timezone)).all())
    settled: list[NoticeLine] = []
    coming: list[NoticeLine] = []
    for verdict in _verdicts(session, [*outbox, *planned]):
        line = _line(verdict, zones[verdict.notice.cohort_id])
        (coming if _waiting(verdict.notice) else settled).append(line)
    return PersonView(
        name=person.name,
        email=person.email,
        opted_out_at=person.opted_out_at,
        timezone=zones[mine[0].enrolment.cohort_id] if mine else DEFAULT_TIMEZONE,
        roles=_roles(session, person.id),
        enrolments=tuple(_enrolment(session, cohorts, mine)),
        notices=tuple(sorted(settled, key=_when)),
        upcoming=tuple(sorted(coming, key=_when)),
        planned_until=end,
    )


def _waiting(notice: Notice) -> bool:
    """Still to go: planned, queued, or held for a digest (told, it is marked sent)."""
    return notice.id is None or notice.status in _QUEUED


_QUEUED = (NoticeStatus.PENDING, NoticeStatus.CLAIMED, NoticeStatus.HELD)


def _when(line: NoticeLine) -> tuple[datetime, str]:
    return line.at, line.template


def _roles(session: Session, person_id: int) -> tuple[Role, ...]:
    mentor = select(Mentor.cohort_id).where(Mentor.person_id == person_id)
    sets = select(LearningSet.cohort_id, LearningSet.name).where(
        LearningSet.facilitator_id == person_id
    )
    organiser = select(Cohort.id).where(Cohort.organiser_id == person_id)
    return (
        *(Role("mentor", c) for c in session.scalars(mentor.order_by(Mentor.cohort_id))),
        *(
            Role("facilitator", c, s)
            for c, s in session.execute(sets.order_by(LearningSet.cohort_id, LearningSet.name))
        ),
        *(Role("organiser", c) for c in session.scalars(organiser.order_by(Cohort.id))),
    )


def _enrolment(
    session: Session, cohorts: dict[str, LoadedCohort], mine: Sequence[LoadedTrainee]
) -> list[EnrolmentView]:
    """Each enrolment, with its mentor's and set's names (two queries for them all)."""
    mentor_ids = [t.enrolment.mentor_id for t in mine if t.enrolment.mentor_id is not None]
    set_ids = [t.enrolment.learning_set_id for t in mine if t.enrolment.learning_set_id]
    mentors = dict(
        session.execute(
            select(Mentor.id, Person.name)
            .join(Person, Person.id == Mentor.person_id)
            .where(Mentor.id.in_(mentor_ids))
        ).all()
    )
    sets = dict(
        session.execute(
            select(LearningSet.id, LearningSet.name).where(LearningSet.id.in_(set_ids))
        ).all()
    )
    out = []
    for t in mine:
        e, loaded = t.enrolment, cohorts[t.enrolment.cohort_id]
        out.append(
            EnrolmentView(
                cohort_id=e.cohort_id,
                cohort_title=loaded.cohort.title,
                timezone=loaded.cohort.timezone,
                status=e.status.value,
                withdrawn_at=e.withdrawn_at,
                withdrawal_reason=e.withdrawal_reason,
                institution=e.institution.name,
                place=e.place.value,
                follow_up=e.follow_up,
                mentor=mentors.get(e.mentor_id) if e.mentor_id is not None else None,
                learning_set=sets.get(e.learning_set_id) if e.learning_set_id else None,
                done=_done(loaded, t),
            )
        )
    return out


def _done(loaded: LoadedCohort, trainee: LoadedTrainee) -> tuple[Done, ...]:
    """What the trainee's record holds as done, oldest first. A mentoring meeting is only
    that it took place, and when (invariant 5): the record knows nothing more."""
    programme = {m.id: m for m in loaded.programme.milestones}
    out = []
    for (milestone, occurrence), on in trainee.record.done.items():
        found = programme.get(milestone)  # a milestone since dropped from the programme stays
        if found is not None and found.sessions == "training":
            out.append(Done(f"{milestone} day {occurrence}", on))
        else:
            out.append(Done(milestone if occurrence == 1 else f"{milestone} #{occurrence}", on))
    return tuple(sorted(out, key=lambda d: (d.on, d.what)))


def _planned(
    cohorts: dict[str, LoadedCohort],
    mine: Sequence[LoadedTrainee],
    queued: set[str],
    now: datetime,
    end: datetime,
) -> list[Notice]:
    """The notices the engine plans to the trainee in (now, end], not yet in the outbox, as
    unsaved outbox rows (built as the sweep would build them), so they are worded alike."""
    out = []
    for t in mine:
        loaded = cohorts[t.enrolment.cohort_id]
        if loaded.plan.launched_at is None:
            continue
        for n in Planner(loaded.programme, loaded.plan).between(t.record, now, end):
            if n.to == "trainee" and n.key not in queued:
                row = planned_row(loaded, t.enrolment.id, t.enrolment.person_id, n, now)
                out.append(Notice(**row.as_insert()))
    return out


def _verdicts(session: Session, notices: Sequence[Notice]) -> list[Verdict]:
    """Each notice with the context it is (or was, or will be) rendered from, with
    today's data and whatever the send-time gate would say now (see
    :func:`journey.services.compose.contexts`)."""
    return [Verdict(n, context=c) for n, c in zip(notices, contexts(session, notices), strict=True)]


def _line(verdict: Verdict, timezone: str) -> NoticeLine:
    n = verdict.notice
    return NoticeLine(
        at=n.sent_at or n.due_at,
        cohort_id=n.cohort_id,
        timezone=timezone,
        subject=_subject(verdict),
        template=n.template,
        milestone=n.milestone,
        status=_status(n),
        note=n.last_error if n.status in _EXPLAINED else None,  # pending: why it waits
    )


_EXPLAINED = (
    NoticeStatus.FAILED,
    NoticeStatus.CANCELLED,
    NoticeStatus.SKIPPED,
    NoticeStatus.PENDING,  # its last_error says why it still waits, when it does
)


def _status(notice: Notice) -> str:
    """``planned`` (not queued yet), ``in digest`` (told in a daily digest), or its status."""
    if notice.id is None:
        return "planned"
    if notice.digest_id is not None and notice.status is NoticeStatus.SENT:
        return "in digest"
    return notice.status.value


def _subject(verdict: Verdict) -> str:
    """The subject the notice has (or would have) when rendered with today's data.

    Notices store only their template, so the subject is rendered again from the notice's
    context (:func:`journey.services.compose.contexts`). Where none can be built (the
    recipient was erased, a digest that told nothing), the notice is named by its template
    and milestone instead, in brackets: ``(stage-reminder: listening)``.
    """
    n = verdict.notice
    if verdict.context is not None:
        try:
            return render_notice(verdict.context, stamp=n.created_at).subject
        except (ValueError, LookupError, TemplateError):  # a value or template is gone
            pass
    return f"({n.template}: {n.milestone})" if n.milestone else f"({n.template})"
