"""The facts the funder's report counts: one row per trainee, one shape per cohort.

Private to :mod:`journey.services.funder_report`. A :class:`Trainee` holds what the engine
says of one enrolment at the report's moment (each milestone's state, each training day
attended, graduation eligibility) and what is recorded beside it (place, meetings,
withdrawal); a :class:`Shape` holds which milestones a cohort's programme reports on.
Totals over several cohorts count the same rows against the cohorts' merged shapes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journey.engine import JourneyView, Planner, State, evaluate, local_date
from journey.models import (
    Enrolment,
    EnrolmentStatus,
    Institution,
    LearningSet,
    MentoringMeeting,
    Notice,
    NoticeStatus,
    Place,
)
from journey.services.loading import LoadedCohort, LoadedTrainee, load_trainees


@dataclass(frozen=True)
class Shape:
    """What a cohort's programme reports on, each as ``(milestone id, title)``.

    ``days`` are the training days that take place, as (day number, local ISO date);
    ``stages`` the curriculum stages (milestones timed after the training);
    ``set_milestones`` those held at a learning-set session (sessions, presentation).
    """

    training_title: str
    days: tuple[tuple[int, str | None], ...]
    stages: tuple[tuple[str, str], ...]
    set_milestones: tuple[tuple[str, str], ...]
    graduation: tuple[str, str] | None


@dataclass(frozen=True)
class Trainee:
    cohort_id: str
    institution_id: int
    member: bool
    place: Place
    funder: str | None
    fee: Decimal
    has_mentor: bool
    set_name: str | None
    meetings: tuple[int, ...]  # mentoring meeting numbers recorded
    states: Mapping[str, State]  # milestone id -> state at the report's moment
    days: Mapping[int, bool | None]  # training day -> attended (None: not applicable)
    trained: bool  # attended every training day
    eligible: bool | None  # for graduation; None where it does not apply
    withdrawn_month: str | None  # "2026-10", local


class NoticeRow(NamedTuple):
    """Notices of one cohort, kind and status: ``in_digest`` for held ones a digest told."""

    cohort_id: str
    kind: str
    status: NoticeStatus
    in_digest: bool
    notices: int


def trainees(
    session: Session, loaded: Sequence[LoadedCohort], now: datetime
) -> dict[str, list[Trainee]]:
    """Each cohort's trainees as the engine sees them at ``now``: a few queries in all."""
    ids = [c.cohort.id for c in loaded]
    members = dict(session.execute(select(Institution.id, Institution.member)).all())
    meetings: dict[int, list[int]] = {}
    for enrolment_id, number in session.execute(
        select(MentoringMeeting.enrolment_id, MentoringMeeting.number)
        .join(Enrolment, Enrolment.id == MentoringMeeting.enrolment_id)
        .where(Enrolment.cohort_id.in_(ids))
    ):
        meetings.setdefault(enrolment_id, []).append(number)
    sets = dict(
        session.execute(
            select(LearningSet.id, LearningSet.name).where(LearningSet.cohort_id.in_(ids))
        ).all()
    )
    by_cohort = load_trainees(session, ids)
    out: dict[str, list[Trainee]] = {}
    for c in loaded:
        planner = Planner(c.programme, c.plan)
        out[c.cohort.id] = [
            trainee(
                c,
                t,
                evaluate(c.programme, c.plan, t.record, now, planner, with_notices=False),
                member=members[t.enrolment.institution_id],
                set_name=sets.get(t.enrolment.learning_set_id or -1),
                meetings=sorted(meetings.get(t.enrolment.id, [])),
            )
            for t in by_cohort[c.cohort.id]
        ]
    return out


def notice_rows(session: Session, ids: Sequence[str]) -> list[NoticeRow]:
    """Counts of the cohorts' notices sent or failed, by kind, sorted."""
    told = Notice.digest_id.is_not(None).label("told")
    rows = session.execute(
        select(Notice.cohort_id, Notice.template, Notice.status, told, func.count())
        .where(
            Notice.cohort_id.in_(ids),
            Notice.status.in_([NoticeStatus.SENT, NoticeStatus.FAILED]),
        )
        .group_by(Notice.cohort_id, Notice.template, Notice.status, told)
    )
    return sorted(NoticeRow(c, k, NoticeStatus(s), bool(d), n) for c, k, s, d, n in rows)


def shape(c: LoadedCohort) -> Shape:
    """The milestones and training days of one cohort's report."""
    ms = c.programme.milestones
    training = next((m for m in ms if m.sessions == "training"), None)
    live = [s for s in c.plan.training if not s.cancelled]
    days = tuple(
        (n, local_date(s.starts_at, c.cohort.timezone).isoformat()) for n, s in enumerate(live, 1)
    )
    graduation = c.programme.graduation
    return Shape(
        training_title=training.title if training else "training",
        days=days if training else (),
        stages=tuple((m.id, m.title) for m in ms if m.after_training is not None),
        set_milestones=tuple((m.id, m.title) for m in ms if m.sessions == "learning-set"),
        graduation=(
            (graduation.milestone, c.programme.milestone(graduation.milestone).title)
            if graduation
            else None
        ),
    )


def merged(shapes: Sequence[Shape]) -> Shape:
    """One shape for totals: every milestone any cohort reports on, in first-seen order;
    training days by number, without dates (each cohort has its own)."""

    def union(items: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        seen: dict[str, str] = {}
        for mid, title in items:
            seen.setdefault(mid, title)
        return tuple(seen.items())

    days = sorted({n for s in shapes for n, _ in s.days})
    graduations = [s.graduation for s in shapes if s.graduation is not None]
    return Shape(
        training_title=shapes[0].training_title,
        days=tuple((n, None) for n in days),
        stages=union([x for s in shapes for x in s.stages]),
        set_milestones=union([x for s in shapes for x in s.set_milestones]),
        graduation=graduations[0] if graduations else None,
    )


def trainee(
    c: LoadedCohort,
    t: LoadedTrainee,
    view: JourneyView,
    *,
    member: bool,
    set_name: str | None,
    meetings: Sequence[int],
) -> Trainee:
    """The report's facts about one enrolment, from the engine's ``view`` of it."""
    e = t.enrolment
    states = {m.id: m.state for m in view.milestones}
    training = next((m for m in c.programme.milestones if m.sessions == "training"), None)
    days: dict[int, bool | None] = {}
    if training is not None:
        applies = states.get(training.id, State.NOT_APPLICABLE) is not State.NOT_APPLICABLE
        for n in range(1, sum(1 for s in c.plan.training if not s.cancelled) + 1):
            days[n] = ((training.id, n) in t.record.done) if applies else None
    withdrawn = e.withdrawn_at if e.status is EnrolmentStatus.WITHDRAWN else None
    return Trainee(
        cohort_id=e.cohort_id,
        institution_id=e.institution_id,
        member=member,
        place=e.place,
        funder=e.funder,
        fee=e.fee,
        has_mentor=e.mentor_id is not None,
        set_name=set_name,
        meetings=tuple(meetings),
        states=states,
        days=days,
        trained=bool(days) and all(days.values()),
        eligible=view.eligible,
        withdrawn_month=_month(withdrawn, c.cohort.timezone),
    )


def _month(moment: datetime | None, tz: str) -> str | None:
    """``2026-10``: the local month of a withdrawal."""
    if moment is None:
        return None
    day = local_date(moment, tz)
    return f"{day.year:04d}-{day.month:02d}"
