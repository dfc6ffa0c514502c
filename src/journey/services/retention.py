"""Retention: what the outbox keeps about sent mail (``journey prune``), and the people
whose cohorts are over (``journey person prune``), kept no longer than the alliance needs.

A sent notice's ``.eml`` file holds the whole message (names, addresses, mentee lists),
and a failed or cancelled notice's ``last_error`` may quote a server's reply about an
address. Past the period, the file goes and the error text is cleared. The notice row
stays, with its date, kind and status: the funder's report counts emails sent and failed
from the rows, so its figures do not change. Queued and held notices are never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, func, or_, select, union_all, update
from sqlalchemy.orm import Session

from journey.engine import local_date
from journey.errors import BadPeriod
from journey.mail.outbox_folder import eml_filename
from journey.models import (
    Cohort,
    CohortEvent,
    Enrolment,
    LearningSet,
    Mentor,
    Notice,
    NoticeStatus,
    Person,
)
from journey.services.history import note

CLEARED = "(cleared after the retention period)"
_PERIOD = re.compile(r"^(\d{1,4})([dwmy])$")
_SETTLED = (NoticeStatus.FAILED, NoticeStatus.CANCELLED, NoticeStatus.SKIPPED)


def cutoff(period: str, now: datetime) -> datetime:
    """``now`` less ``period``: ``90d``, ``12w``, ``18m`` or ``2y`` (months and years by the
    calendar: 2y before 29 Feb is 28 Feb)."""
    found = _PERIOD.match(period.strip().lower())
    if found is None or int(found[1]) == 0:
        raise BadPeriod(
            f"--older-than {period!r}: give a number and a unit, e.g. 90d, 12w, 18m or 2y"
        )
    n, unit = int(found[1]), found[2]
    if unit in "dw":
        return now - timedelta(days=n * (7 if unit == "w" else 1))
    months = n * (12 if unit == "y" else 1)
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    day = min(now.day, _days_in(year, month + 1))
    return now.replace(year=year, month=month + 1, day=day)


def _days_in(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


@dataclass
class Pruned:
    """What a prune removed (or, dry run, would remove)."""

    before: datetime
    files: list[str] = field(default_factory=list)  # .eml file names, sorted
    errors: int = 0  # error texts cleared


def prune(
    *,
    session: Session,
    older_than: str,
    now: datetime,
    outbox_dir: Path,
    by: str | None = None,
    dry_run: bool = False,
) -> Pruned:
    """Clear error texts of notices settled before the cutoff, in the caller's transaction,
    and say which ``.eml`` files of notices sent before it exist. The caller removes the
    files (:func:`remove_files`) once the transaction is committed."""
    before = cutoff(older_than, now)
    result = Pruned(before)
    sent = session.execute(
        select(Notice.id, Notice.message_id).where(
            Notice.status == NoticeStatus.SENT,
            Notice.sent_at < before,
            Notice.message_id.is_not(None),
        )
    )
    names = {eml_filename(mid, notice_id) for notice_id, mid in sent if mid is not None}
    result.files = sorted(n for n in names if (outbox_dir / n).is_file())
    old_error = and_(
        Notice.last_error.is_not(None),
        Notice.last_error != CLEARED,
        or_(
            and_(Notice.status == NoticeStatus.SENT, Notice.sent_at < before),
            and_(Notice.status.in_(_SETTLED), Notice.due_at < before),
        ),
    )
    result.errors = len(session.scalars(select(Notice.id).where(old_error)).all())
    if not dry_run and (result.errors or result.files):
        session.execute(
            update(Notice).where(old_error).values(last_error=CLEARED),
            execution_options={"synchronize_session": False},
        )
        detail = (
            f"older than {older_than} (before {before.date().isoformat()}): "
            f"{len(result.files)} .eml files, {result.errors} error texts"
        )
        note(session=session, at=now, by=by, action="prune", detail=detail)
    return result


def remove_files(outbox_dir: Path, names: list[str]) -> list[str]:
    """Remove the named files from the outbox; returns those that could not be removed,
    each with the system's reason (a file already gone counts as removed)."""
    failed = []
    for name in names:
        try:
            (outbox_dir / name).unlink(missing_ok=True)
        except OSError as exc:
            failed.append(f"{name}: {exc.strerror or exc}")
    return failed


@dataclass(frozen=True)
class Ended:
    """A person whose every cohort (in any role) ended before a day."""

    email: str
    name: str
    last_cohort: str
    ended_on: date  # the day their last cohort's last session ended (its zone)


def people_ended_before(*, session: Session, day: date) -> list[Ended]:
    """Everyone not yet forgotten whose last cohort, in any role (trainee, mentor, set
    facilitator, organiser), ended before ``day``: its last session over by then. A
    cohort with no sessions has no end, so its people are kept. Sorted by address."""
    ends: dict[str, tuple[datetime, str]] = {
        cohort_id: (ends_at, zone)
        for cohort_id, ends_at, zone in session.execute(
            select(CohortEvent.cohort_id, func.max(CohortEvent.ends_at), Cohort.timezone)
            .join(Cohort, Cohort.id == CohortEvent.cohort_id)
            .where(CohortEvent.cancelled.is_(False))
            .group_by(CohortEvent.cohort_id, Cohort.timezone)
        )
    }
    roles = union_all(
        select(Enrolment.person_id, Enrolment.cohort_id),
        select(Mentor.person_id, Mentor.cohort_id),
        select(LearningSet.facilitator_id, LearningSet.cohort_id).where(
            LearningSet.facilitator_id.is_not(None)
        ),
        select(Cohort.organiser_id, Cohort.id),
    ).subquery()
    cohorts: dict[int, set[str]] = {}
    for person_id, cohort_id in session.execute(select(roles)):
        cohorts.setdefault(person_id, set()).add(cohort_id)
    people = session.scalars(
        select(Person).where(Person.id.in_(list(cohorts)), Person.email.is_not(None))
    )
    found = []
    for person in people:
        if any(c not in ends for c in cohorts[person.id]):
            continue  # a cohort with no end yet
        last = max(cohorts[person.id], key=lambda c: ends[c][0])
        ends_at, zone = ends[last]
        ended_on = local_date(ends_at, zone)
        if ended_on < day and person.email:
            found.append(Ended(person.email, person.name, last, ended_on))
    return sorted(found, key=lambda e: e.email)
