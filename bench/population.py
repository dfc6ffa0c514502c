"""Seeded databases to measure against: many cohorts mid-journey, and a full outbox.

``build_population`` makes ``cohorts`` cohorts whose training fell between two weeks
ahead of and 270 days before "today" (``TODAY``, 09:00 London). Each cohort's skeleton
(organiser, institutions, mentors, sets and facilitators, sessions) goes through the
product's ``import_cohort``; trainees are bulk-inserted with SQLAlchemy (10,000 people
through the importer would dominate the set-up). Each cohort is launched with
``journey.services.sweep.launch`` three weeks before its training. Everything due
before today (by "yesterday, 09:00") is then in the outbox, marked sent, as the daily
sweeps would have left it: the rows are the sweep's own (``Planner.due``, ``planned_row``),
computed before any completion is known, so the outbox holds every reminder and nudge of
the past (an upper bound on its size). Completions are then recorded for 85 % of past
milestones, so today's overdue nudges go only to those who are behind.

"Today" is chosen so that about 5 % of cohorts have a reminder due (a training day, a
set session, a stage date or a booking window comes up) and the rest nothing.
"""

from __future__ import annotations

import random
import re
import time as clock
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from bench.measure import checkpoint
from bench.seeding import keep_first_notices
from bench.shapes import FEE, TZ, CohortShape, cohort_spec, set_sessions, trainees
from journey.cohort.specs import SlotSpec
from journey.db import session_scope, upgrade
from journey.engine import (
    CohortPlan,
    Planner,
    Slot,
    TraineeRecord,
    local_date,
    occurrences,
)
from journey.models import (
    Completion,
    Enrolment,
    EnrolmentStatus,
    Institution,
    LearningSet,
    Mentor,
    MentoringMeeting,
    Notice,
    NoticeStatus,
    Person,
    Place,
)
from journey.programme import load_programme
from journey.services.cohorts import import_cohort
from journey.services.loading import load_cohorts, load_trainees
from journey.services.queue import planned_row, recipient_id
from journey.services.sweep import launch, mentor_people, sweep

TODAY = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # a Wednesday, 09:00 in London (GMT)
YESTERDAY = TODAY - timedelta(days=1)
BUSY_SHARE = 0.05
DONE = 0.85
_MENTORING = re.compile(r"^mentoring-(\d+)$")


@dataclass(frozen=True)
class Population:
    """A built database (a checkpointed SQLite file to copy) and what is in it."""

    path: Path
    trainees: int
    cohorts: int
    busy_cohorts: int
    notices: int  # in the outbox before today's sweep
    completions: int
    build_s: float

    def describe(self) -> dict[str, Any]:
        return {
            "trainees": self.trainees,
            "cohorts": self.cohorts,
            "cohorts_with_a_reminder_today": self.busy_cohorts,
            "notices_in_outbox": self.notices,
            "completions": self.completions,
            "build_s": round(self.build_s, 1),
        }


# Where each cohort is on "today".


def _engine_plan(shape: CohortShape) -> tuple[CohortPlan, list[int]]:
    """The engine's plan of a generated cohort, its first sets as ids 0..2, with no database."""
    spec = cohort_spec(shape)

    def as_slot(n: int, s: SlotSpec) -> Slot:
        return Slot(n, s.starts_at.astimezone(UTC), s.ends_at.astimezone(UTC))

    set_ids = list(range(min(shape.sets, 3)))
    assert spec.graduation is not None
    plan = CohortPlan(
        cohort_id=shape.cohort_id,
        timezone=TZ,
        training=tuple(as_slot(n, s) for n, s in enumerate(spec.training_days, 1)),
        learning_sets={
            k: tuple(as_slot(n, s) for n, s in enumerate(set_sessions(shape, k), 1))
            for k in set_ids
        },
        graduation=as_slot(1, spec.graduation),
        launched_at=shape.launched_at,
    )
    return plan, set_ids


def _due_today(shape: CohortShape) -> tuple[bool, bool]:
    """(a reminder is due today for every trainee, anything at all is due today for anyone)."""
    programme = load_programme("default")
    plan, set_ids = _engine_plan(shape)
    everyone = TraineeRecord("x", follow_up=False)
    reminder = any(
        YESTERDAY < n.due_at <= TODAY and not n.rule.startswith("+")
        for n in Planner(programme, plan).planned(everyone)
    )
    anything = False
    for set_id in set_ids:
        record = TraineeRecord("x", follow_up=True, learning_set_id=set_id, has_mentor=True)
        anything = anything or any(
            YESTERDAY < n.due_at <= TODAY for n in Planner(programme, plan).planned(record)
        )
    return reminder, anything


def choose_shapes(trainees: int, cohorts: int, rng: random.Random) -> list[CohortShape]:
    """Cohorts spread from two weeks before to 270 days after their training; ~5 % of
    them with a reminder due today, the rest with nothing due today (several cohorts a
    day when there are more cohorts than days)."""
    per, extra = divmod(trainees, cohorts)
    today = TODAY.date()
    busy: list[int] = []
    quiet: list[int] = []
    for offset in range(-14, 271):
        reminder, anything = _due_today(CohortShape("probe", per, today - timedelta(offset)))
        if reminder:
            busy.append(offset)
        elif not anything:
            quiet.append(offset)
    n_busy = max(1, round(cohorts * BUSY_SHARE))
    # More busy cohorts than busy days (national scale): several cohorts share a day.
    offsets = rng.sample(busy, n_busy) if n_busy <= len(busy) else rng.choices(busy, k=n_busy)
    step = len(quiet) / (cohorts - n_busy)
    offsets += [quiet[int(i * step)] for i in range(cohorts - n_busy)]
    rng.shuffle(offsets)
    return [
        CohortShape(f"bench-{i:03d}", per + (i < extra), today - timedelta(days=off), index=i)
        for i, off in enumerate(offsets)
    ]


# Writing it.


def add_trainees(session: Session, shape: CohortShape, rng: random.Random) -> None:
    """Bulk-insert the cohort's trainees (people, then enrolments), as the importer would."""
    rows = trainees(shape, rng)
    session.execute(insert(Person), [{"name": r.name, "email": r.email} for r in rows])
    emails = [r.email for r in rows]
    person_ids = dict(
        session.execute(select(Person.email, Person.id).where(Person.email.in_(emails))).all()
    )
    cid = shape.cohort_id
    mentors = list(
        session.scalars(select(Mentor.id).where(Mentor.cohort_id == cid).order_by(Mentor.id))
    )
    sets = list(
        session.scalars(
            select(LearningSet.id).where(LearningSet.cohort_id == cid).order_by(LearningSet.id)
        )
    )
    institutions = dict(session.execute(select(Institution.name, Institution.id)).all())
    session.execute(
        insert(Enrolment),
        [
            {
                "cohort_id": cid,
                "person_id": person_ids[r.email],
                "institution_id": institutions[r.institution.name],
                "place": r.place,
                "funder": "Community Foundation" if r.place is Place.SUBSIDISED else None,
                "fee": FEE if r.place is Place.FEE else 0,
                "follow_up": r.follow_up,
                "mentor_id": mentors[r.mentor] if r.mentor is not None else None,
                "learning_set_id": sets[r.learning_set] if r.learning_set is not None else None,
                "status": EnrolmentStatus.ACTIVE,
            }
            for r in rows
        ],
    )


def store_cohorts(url: str, shapes: list[CohortShape], rng: random.Random) -> None:
    """Import each skeleton, add its trainees, launch it three weeks before its training."""
    with session_scope(url) as session:
        for shape in shapes:
            imported = shape.launched_at - timedelta(days=7)
            import_cohort(session=session, spec=cohort_spec(shape), now=imported)
            session.flush()
            add_trainees(session, shape, rng)
    with session_scope(url) as session:
        for shape in shapes:
            launch(session=session, cohort_id=shape.cohort_id, now=shape.launched_at)


def _completion_rows(
    session: Session, today: date, rng: random.Random, recorded_at: datetime = YESTERDAY
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Completions and mentoring meetings for most milestones already past."""
    cohorts = load_cohorts(session)
    loaded = load_trainees(session, [c.cohort.id for c in cohorts])
    done: list[dict[str, Any]] = []
    met: list[dict[str, Any]] = []
    for c in cohorts:
        for t in loaded[c.cohort.id]:
            for occ in occurrences(c.programme, c.plan, t.record):
                base = {"enrolment_id": t.enrolment.id, "recorded_at": recorded_at}
                mentoring = _MENTORING.match(occ.milestone.id)
                if occ.slots:
                    days = [local_date(s.starts_at, TZ) for s in occ.slots]
                    if days[-1] < today and rng.random() < DONE:
                        mid = occ.milestone.id
                        done += [
                            {**base, "milestone": mid, "occurrence": n, "completed_on": d}
                            for n, d in enumerate(days, 1)
                        ]
                elif mentoring and occ.opens_on is not None and occ.opens_on < today:
                    closed = occ.on < today
                    if rng.random() < (DONE if closed else 0.4):
                        last = min(occ.on, today - timedelta(days=1))
                        span = max((last - occ.opens_on).days, 0)
                        on = occ.opens_on + timedelta(days=rng.randint(0, span))
                        number = int(mentoring[1])
                        mentor = t.enrolment.mentor_id
                        met.append({**base, "number": number, "met_on": on, "mentor_id": mentor})
                elif not mentoring and occ.on < today and rng.random() < DONE:
                    on = occ.on - timedelta(days=rng.randint(0, 10))
                    done.append(
                        {**base, "milestone": occ.milestone.id, "occurrence": 1, "completed_on": on}
                    )
    return done, met


def _past_notices(session: Session, until: datetime = YESTERDAY) -> list[dict[str, Any]]:
    """What the daily sweeps queued by ``until``, as the sweep builds its rows, marked sent.

    Built with the sweep's own functions but bulk-inserted (``executemany``), which is
    far quicker than the sweep's chunked multi-row INSERT for 100,000s of rows.
    """
    cohorts = load_cohorts(session)
    ids = [c.cohort.id for c in cohorts]
    loaded = load_trainees(session, ids, active_only=True)
    mentors = mentor_people(session, ids)
    rows = []
    for c in cohorts:
        planner = Planner(c.programme, c.plan)
        for t in loaded[c.cohort.id]:
            for n in planner.due(t.record, until):
                person = recipient_id(c, t, n.to, mentors)
                if person is not None:
                    row = planned_row(c, t.enrolment.id, person, n, n.due_at).as_insert()
                    row.update(status=NoticeStatus.SENT, sent_at=n.due_at, last_error=None)
                    rows.append({**row, "attempts": 1})
    return rows


def settle_the_past(url: str, rng: random.Random) -> int:
    """Queue all that was due before today, mark it sent, then record past completions."""
    with session_scope(url) as session:
        session.execute(
            update(Notice).values(status=NoticeStatus.SENT, sent_at=Notice.due_at, attempts=1)
        )
        session.execute(insert(Notice), _past_notices(session))
    with session_scope(url) as session:
        done, met = _completion_rows(session, local_date(TODAY, TZ), rng)
        if done:
            session.execute(insert(Completion), done)
        if met:
            session.execute(insert(MentoringMeeting), met)
    return len(done) + len(met)


def build_population(folder: Path, *, trainees: int, cohorts: int, seed: int) -> Population:
    """A database of ``trainees`` active trainees in ``cohorts`` cohorts (see the module)."""
    start = clock.perf_counter()
    path = folder / f"population-{trainees}.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    rng = random.Random(seed)
    shapes = choose_shapes(trainees, cohorts, rng)
    store_cohorts(url, shapes, rng)
    completions = settle_the_past(url, rng)
    with session_scope(url) as session:
        notices = session.scalar(select(func.count()).select_from(Notice)) or 0
    checkpoint(url)
    busy = sum(_due_today(s)[0] for s in shapes)
    return Population(
        path, trainees, cohorts, busy, notices, completions, clock.perf_counter() - start
    )


# A full outbox, for delivery.

OUTBOX_AT = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)  # after graduation: all nine months due


@dataclass(frozen=True)
class Outbox:
    path: Path
    notices: int
    at: datetime  # deliver with this ``now``


def build_outbox(folder: Path, *, notices: int, seed: int) -> Outbox:
    """``notices`` real notices due at once, all pending and still useful.

    One cohort, everyone in follow-up, launched on 4 Sep 2026 and swept on 1 Jul 2027,
    which queues every notice of its nine months (templates of every kind, a third
    with calendar invitations); the first ``notices`` by id are kept, pending and useful
    for 30 more days. The send-time gate passes them all: nothing done, nobody withdrew.
    """
    path = folder / f"outbox-{notices}.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    rng = random.Random(seed)
    shape = CohortShape("bench-outbox", notices // 50 + 1, date(2026, 9, 25), follow_up=1.0)
    store_cohorts(url, [shape], rng)
    with session_scope(url) as session:
        sweep(session=session, now=OUTBOX_AT)
    keep_first_notices(url=url, count=notices, useful_until=OUTBOX_AT + timedelta(days=30))
    checkpoint(url)
    return Outbox(path, notices, OUTBOX_AT)
