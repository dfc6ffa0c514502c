"""A full outbox to deliver: N notices due at once, all valid (built on Postgres here).

The notices are real ones: a generated cohort (the example cohort's file with a roster of
``trainees`` rows, every one in follow-up) is imported, launched on 1 Sep 2026 and swept
on 1 Jul 2027, which queues every notice of the nine months. An outbox that waited that
long would have most of them skipped as no longer useful, so ``build_outbox`` keeps the
first N (by id), pending and useful for 30 more days, and deletes the rest; every other
field (key, recipient, template, milestone, occurrence, due time) is the sweep's.
The send-time gate therefore passes them all: no milestone is done, nobody withdrew.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bench.seeding import keep_first_notices
from journey.cohort.file import read_cohort
from journey.db import session_scope, upgrade
from journey.models import Notice, NoticeStatus
from journey.services.cohorts import import_cohort
from journey.services.sweep import launch, sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mk-2026"
IMPORTED = datetime(2026, 8, 1, 9, 0, tzinfo=UTC)
LAUNCHED = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
SWEPT = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)  # after graduation: all nine months are due
STILL_USEFUL = timedelta(days=30)

# (institution, member) from the example cohort file; mentors and sets likewise.
INSTITUTIONS = [
    ("St Mary's Church", True),
    ("Christ the Cornerstone", True),
    ("MK Central Mosque", True),
    ("Wolverton Gurdwara", True),
    ("Fishermead Primary School", True),
    ("MK Food Share", True),
    ("Greenleys Residents", False),
    ("Netherfield Residents' Association", False),
    ("Kingsmead Academy", False),
    ("Wolverton Methodist Church", False),
]
MENTORS = ["tim@example.org", "amrit.sandhu@example.org", "grace.adeyemi@example.org"]
SETS = ["Set A", "Set B"]


def roster_csv(trainees: int) -> str:
    """``trainees`` roster rows, all in follow-up; each member institution's first takes
    its free place."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["name", "email", "institution", "place", "follow_up", "mentor", "learning_set"]
    writer.writerow(header)
    for i in range(trainees):
        institution, member = INSTITUTIONS[i % len(INSTITUTIONS)]
        place = "member" if member and i < len(INSTITUTIONS) else "subsidised"
        mentor, learning_set = MENTORS[i % len(MENTORS)], SETS[i % len(SETS)]
        row = [f"Trainee {i:04d}", f"trainee{i:04d}@example.org", institution, place]
        writer.writerow([*row, "yes", mentor, learning_set])
    return out.getvalue()


@dataclass(frozen=True)
class Outbox:
    """What was built: how many notices are due, and when to deliver them."""

    due: int
    at: datetime  # deliver with now >= this; they stay useful for 30 days after it


def launch_example(url: str, folder: Path, trainees: int) -> str:
    """Import the example cohort with a roster of ``trainees`` (written to ``folder``) and
    launch it; returns its id."""
    roster = folder / "roster.csv"
    roster.write_text(roster_csv(trainees=trainees), encoding="utf-8")
    spec = read_cohort(EXAMPLES / "cohort.yaml", roster)
    with session_scope(url) as session:
        import_cohort(session=session, spec=spec, now=IMPORTED)
    with session_scope(url) as session:
        launch(session=session, cohort_id=spec.id, now=LAUNCHED)
    return spec.id


def build_outbox(url: str, *, notices: int, folder: Path) -> Outbox:
    """Migrate, import a cohort big enough, launch, sweep, keep ``notices`` of them due."""
    upgrade(url)
    launch_example(url, folder, notices // 50 + 1)
    with session_scope(url) as session:
        sweep(session=session, now=SWEPT)
    keep_first_notices(url=url, count=notices, useful_until=SWEPT + STILL_USEFUL)
    return Outbox(due=notices, at=SWEPT)


def count_status(url: str, status: NoticeStatus) -> int:
    """How many notices have ``status``."""
    with session_scope(url) as session:
        return session.scalar(select(func.count()).where(Notice.status == status)) or 0


@dataclass(frozen=True)
class Row:
    """One notice as delivery left it."""

    key: str
    status: str
    message_id: str | None
    attempts: int


def rows(url: str) -> list[Row]:
    """Every notice in the outbox, by id."""
    query = select(Notice.key, Notice.status, Notice.message_id, Notice.attempts)
    with session_scope(url) as session:
        found = session.execute(query.order_by(Notice.id)).all()
    return [Row(k, str(s), m, a) for k, s, m, a in found]
