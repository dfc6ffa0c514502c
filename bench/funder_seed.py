"""A grant's worth of records for the funder's report: many cohorts, most of them finished.

``build_grant`` makes ``cohorts`` cohorts of ``per`` trainees whose training fell between
60 and 560 days before the report's moment (``REPORT_NOW``), so most have graduated and
the rest are part-way through. Each cohort goes through the product's ``import_cohort``
and ``launch`` (see :mod:`bench.population`); then, as the months would have left it:
every notice due before the report's day, sent (1 % failed; those after a withdrawal
cancelled), attendance and stage completions for 85 % of what is past, mentoring
meetings, 5 % of trainees withdrawn, and evaluation responses: after the training from
about 80 % of trainees (15 % of them anonymous), after the last learning set and at
graduation from fewer, a third with a comment.

:func:`copy_database` copies every row into another database (Postgres), so both
backends are measured on the same records.
"""

from __future__ import annotations

import random
import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from bench.measure import checkpoint
from bench.population import _completion_rows, _past_notices, store_cohorts
from bench.shapes import GRADUATION_DAYS, SET_WEEKS, CohortShape
from journey.db import get_engine, session_scope, upgrade
from journey.engine import local_date
from journey.models import (
    Base,
    Completion,
    Enrolment,
    EnrolmentStatus,
    EvaluationAnswer,
    EvaluationComment,
    EvaluationResponse,
    MentoringMeeting,
    Notice,
    NoticeStatus,
)

REPORT_NOW = datetime(2027, 9, 1, 9, 0, tzinfo=UTC)  # 10:00 in London
FIRST, LAST = 60, 560  # days from each cohort's training to the report
WITHDRAW = 0.05
FAIL = 0.01
COMMENTS = (
    "I found my voice in the listening stage.",
    "More time for the one-to-ones, please.",
    "The research stage changed how our congregation works.",
    "My mentor kept me going through a hard winter.",
    "We won a living wage at our school.",
    "The set made me finish what I started.",
    "Too many emails in the first month.",
    "I now chair our housing action team.",
)


@dataclass(frozen=True)
class Grant:
    """A built database (a checkpointed SQLite file) and what is in it."""

    path: Path
    cohort_ids: tuple[str, ...]
    counts: dict[str, int]
    build_s: float


def shapes_for(cohorts: int, per: int) -> list[CohortShape]:
    """Cohorts whose training fell evenly between FIRST and LAST days before the report."""
    today = REPORT_NOW.date()
    step = (LAST - FIRST) / max(cohorts - 1, 1)
    return [
        CohortShape(f"grant-{i:03d}", per, today - timedelta(days=FIRST + round(i * step)), index=i)
        for i in range(cohorts)
    ]


def _withdrawals(
    session: Session, shapes: list[CohortShape], rng: random.Random
) -> dict[int, datetime]:
    """Enrolment id -> when it was withdrawn: 5 % of trainees, after their training."""
    training = {s.cohort_id: s.training_on for s in shapes}
    out: dict[int, datetime] = {}
    for enrolment_id, cohort_id in session.execute(
        select(Enrolment.id, Enrolment.cohort_id).order_by(Enrolment.id)
    ):
        if rng.random() < WITHDRAW:
            start = training[cohort_id] + timedelta(days=3)
            end = min(REPORT_NOW.date(), training[cohort_id] + timedelta(GRADUATION_DAYS))
            day = start + timedelta(days=rng.randint(0, max((end - start).days - 1, 0)))
            out[enrolment_id] = datetime.combine(day, time(12, 0), tzinfo=UTC)
    return out


def _notices(session: Session, withdrawn: dict[int, datetime], rng: random.Random) -> None:
    """Everything due before the report's day: sent, 1 % failed, cancelled once withdrawn."""
    session.execute(
        update(Notice).values(status=NoticeStatus.SENT, sent_at=Notice.due_at, attempts=1)
    )
    rows = _past_notices(session, until=REPORT_NOW - timedelta(days=1))
    for row in rows:
        left = withdrawn.get(row["enrolment_id"] or -1)
        if left is not None and row["due_at"] > left:
            row.update(status=NoticeStatus.CANCELLED, sent_at=None, attempts=0)
        elif rng.random() < FAIL:
            row.update(status=NoticeStatus.FAILED, sent_at=None, last_error="550 5.1.1 no user")
    session.execute(insert(Notice), rows)


def _progress(session: Session, withdrawn: dict[int, datetime], rng: random.Random) -> None:
    """Attendance, stages and meetings (none after a withdrawal); then the withdrawals."""
    done, met = _completion_rows(
        session, local_date(REPORT_NOW, "Europe/London"), rng, REPORT_NOW - timedelta(days=1)
    )

    def kept(row: dict[str, Any], day: str) -> bool:
        left = withdrawn.get(row["enrolment_id"])
        return left is None or row[day] < left.date()

    session.execute(insert(Completion), [r for r in done if kept(r, "completed_on")])
    session.execute(insert(MentoringMeeting), [r for r in met if kept(r, "met_on")])
    session.execute(
        update(Enrolment),
        [
            {"id": eid, "status": EnrolmentStatus.WITHDRAWN, "withdrawn_at": at}
            for eid, at in withdrawn.items()
        ],
    )


def _answers(questionnaire: str, rng: random.Random) -> list[tuple[str, int, int | None]]:
    """(item, value, before) for one response; an item is left blank now and then."""
    items: dict[str, list[str]] = {
        "after-training": ["score", "relational-power", "leadership", "motivation"],
        "after-last-set": ["score"],
        "at-graduation": ["score", "leadership"],
    }
    out: list[tuple[str, int, int | None]] = []
    for item in items[questionnaire]:
        if rng.random() < 0.03:
            continue
        if item == "score":
            out.append((item, rng.randint(5, 10), None))
        else:
            before = 0 if rng.random() < 0.05 else rng.randint(1, 7)
            out.append((item, min(10, before + rng.randint(0, 4)), before))
    return out


def _evaluations(session: Session, shapes: list[CohortShape], rng: random.Random) -> int:
    """Responses to each questionnaire whose moment has passed; returns how many."""
    people: dict[str, list[tuple[int, bool]]] = {}
    for eid, cid, follow_up in session.execute(
        select(Enrolment.id, Enrolment.cohort_id, Enrolment.follow_up).order_by(Enrolment.id)
    ):
        people.setdefault(cid, []).append((eid, follow_up))
    responses: list[dict[str, Any]] = []
    answers: list[list[tuple[str, int, int | None]]] = []
    comments: list[dict[str, Any]] = []
    for s in shapes:
        moments = {
            "after-training": (s.training_on + timedelta(days=2), 0.8, False),
            "after-last-set": (s.training_on + timedelta(weeks=SET_WEEKS[-1], days=5), 0.6, True),
            "at-graduation": (s.training_on + timedelta(days=GRADUATION_DAYS), 0.5, True),
        }
        for q, (on, share, follow_up_only) in moments.items():
            if on >= REPORT_NOW.date():
                continue
            for eid, follow_up in people[s.cohort_id]:
                if (follow_up_only and not follow_up) or rng.random() >= share:
                    continue
                later = on + timedelta(days=rng.randint(0, 20))
                received = datetime.combine(later, time(12), tzinfo=UTC)
                named = rng.random() >= 0.15
                responses.append(
                    {
                        "cohort_id": s.cohort_id,
                        "questionnaire": q,
                        "enrolment_id": eid if named else None,
                        "received_at": min(received, REPORT_NOW),
                    }
                )
                answers.append(_answers(q, rng))
                if rng.random() < 1 / 3:
                    said = f"{rng.choice(COMMENTS)} ({s.cohort_id})"
                    comments.append({"cohort_id": s.cohort_id, "questionnaire": q, "text": said})
    ids = session.scalars(
        insert(EvaluationResponse).returning(EvaluationResponse.id, sort_by_parameter_order=True),
        responses,
    ).all()
    session.execute(
        insert(EvaluationAnswer),
        [
            {"response_id": rid, "item": item, "value": value, "before": before}
            for rid, found in zip(ids, answers, strict=True)
            for item, value, before in found
        ],
    )
    comments.sort(key=lambda c: (c["cohort_id"], c["questionnaire"], c["text"]))
    session.execute(insert(EvaluationComment), [{**c, "item": "comments"} for c in comments])
    return len(responses)


def _counts(url: str) -> dict[str, int]:
    """Rows in the tables the report reads."""
    tables = {
        "trainees": Enrolment,
        "completions": Completion,
        "mentoring_meetings": MentoringMeeting,
        "notices": Notice,
        "evaluation_responses": EvaluationResponse,
        "evaluation_answers": EvaluationAnswer,
        "evaluation_comments": EvaluationComment,
    }
    with session_scope(url) as session:
        out = {
            k: session.scalar(select(func.count()).select_from(m)) or 0 for k, m in tables.items()
        }
        out["withdrawn"] = (
            session.scalar(
                select(func.count()).where(Enrolment.status == EnrolmentStatus.WITHDRAWN)
            )
            or 0
        )
        for status in (NoticeStatus.SENT, NoticeStatus.FAILED):
            out[f"notices_{status.value}"] = (
                session.scalar(select(func.count()).where(Notice.status == status)) or 0
            )
    return out


def build_grant(folder: Path, *, cohorts: int, per: int, seed: int) -> Grant:
    """A SQLite database of ``cohorts`` cohorts of ``per`` trainees (see the module)."""
    start = clock.perf_counter()
    path = folder / f"grant-{cohorts}x{per}.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    rng = random.Random(seed)
    shapes = shapes_for(cohorts, per)
    store_cohorts(url, shapes, rng)
    with session_scope(url) as session:
        withdrawn = _withdrawals(session, shapes, rng)
        _notices(session, withdrawn, rng)
    with session_scope(url) as session:
        _progress(session, withdrawn, rng)
        _evaluations(session, shapes, rng)
    counts = _counts(url)
    checkpoint(url)
    ids = tuple(s.cohort_id for s in shapes)
    return Grant(path, ids, counts, clock.perf_counter() - start)


def _serial(table: Table) -> bool:
    return "id" in table.c and isinstance(table.c.id.type, Integer)


def copy_database(source: str, target: str) -> float:
    """Copy every row of ``source`` into ``target`` (upgraded, empty); seconds taken.

    Tables go in dependency order; a notice's digest (a notice itself) is set afterwards.
    On Postgres each id sequence is moved past the ids copied.
    """
    start = clock.perf_counter()
    upgrade(target)
    digest = Notice.__table__.c.digest_id
    with get_engine(source).connect() as src, get_engine(target).begin() as dst:
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if not rows:
                continue
            later = []
            if table is Notice.__table__:
                later = [{"nid": r["id"], "did": r["digest_id"]} for r in rows if r["digest_id"]]
                rows = [{**r, "digest_id": None} for r in rows]
            dst.execute(insert(table), rows)
            if later:
                stmt = update(table).where(table.c.id == bindparam("nid"))
                dst.execute(stmt.values({digest: bindparam("did")}), later)
            if dst.dialect.name == "postgresql" and _serial(table):
                dst.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
                    )
                )
    return clock.perf_counter() - start
