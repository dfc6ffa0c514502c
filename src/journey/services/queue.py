"""Queueing notices into the outbox: set-based, keyed, safe to run any number of times."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine import PlannedNotice, Planner
from journey.models import Notice, NoticeStatus, RecipientRole, RuleAdoption
from journey.services.loading import LoadedCohort, LoadedTrainee
from journey.services.outbox import NoticeRow, insert_new, notice_row
from journey.services.outcomes import QueueSummary


@dataclass
class QueueResult:
    """What one pass queued: new notices (pending, or held for a digest), late ones marked
    skipped, and reminders superseded by a later one of the same occurrence (skipped too)."""

    queued: int = 0
    skipped: int = 0
    superseded: int = 0
    known: int = 0
    digests: int = 0  # daily digests queued for the held notices due
    skipped_keys: list[str] = field(default_factory=list)
    cohort_ids: list[str] = field(default_factory=list)  # the cohorts swept

    def add(self, other: QueueResult) -> None:
        self.queued += other.queued
        self.skipped += other.skipped
        self.superseded += other.superseded
        self.digests += other.digests
        self.known += other.known
        self.skipped_keys += other.skipped_keys
        self.cohort_ids += other.cohort_ids

    def summary(self) -> QueueSummary:
        """The counts and the cohorts swept, without the keys skipped (what a flow returns)."""
        return QueueSummary(
            queued=self.queued,
            skipped=self.skipped,
            superseded=self.superseded,
            known=self.known,
            digests=self.digests,
            cohorts=list(self.cohort_ids),
        )


def adopt_rules(
    session: Session, loaded: LoadedCohort, now: datetime, *, dry_run: bool = False
) -> LoadedCohort:
    """Record when the cohort first saw each rule, so a rule added late never reaches back.

    Returns the cohort with those adoptions in its plan, to plan with straight away.
    """
    if loaded.plan.launched_at is None:
        return loaded
    new = [
        f"{m.id}/{rule.id}"
        for m in loaded.programme.milestones
        for rule in m.notices
        if f"{m.id}/{rule.id}" not in loaded.plan.rule_adopted
    ]
    if not new:
        return loaded
    if not dry_run:
        session.add_all(
            RuleAdoption(cohort_id=loaded.cohort.id, rule_key=key, first_seen_at=now) for key in new
        )
        session.flush()
    adopted = {**loaded.plan.rule_adopted, **dict.fromkeys(new, now)}
    return replace(loaded, plan=replace(loaded.plan, rule_adopted=adopted))


def recipient_id(
    loaded: LoadedCohort, trainee: LoadedTrainee, to: str, mentors: dict[int, int]
) -> int | None:
    """The person a rule's ``to`` names for this trainee (None if there is nobody)."""
    if to == "trainee":
        return trainee.enrolment.person_id
    if to == "organiser":
        return loaded.cohort.organiser_id
    if to == "mentor" and trainee.enrolment.mentor_id is not None:
        return mentors.get(trainee.enrolment.mentor_id)
    return None


LATE = "came due while nothing was sending; no longer useful"
SUPERSEDED = "superseded by a later reminder of the same occurrence"


def planned_row(
    loaded: LoadedCohort,
    enrolment_id: int | None,
    person_id: int,
    n: PlannedNotice,
    now: datetime,
) -> NoticeRow:
    """The outbox row for a planned notice; late past usefulness means skipped."""
    return notice_row(
        key=n.key,
        cohort_id=loaded.cohort.id,
        enrolment_id=enrolment_id,
        person_id=person_id,
        role=RecipientRole(n.to),
        template=n.template,
        milestone=n.milestone,
        rule=n.rule,
        occurrence=n.occurrence,
        attach_ics=n.attach_ics,
        due_at=n.due_at,
        useful_until=n.useful_until,
        now=now,
        skipped=LATE if n.useful_until <= now else None,
    )


def supersede(rows: list[NoticeRow]) -> int:
    """Catch-up sends only the latest reminder: of one trainee's new rows due in one sweep,
    those for the same person, milestone and occurrence (the 7-days-before and the
    day-before reminders of one session, say) are marked skipped but the latest.
    ``rows`` are in due order. Returns how many were superseded."""
    latest: dict[tuple[int, str | None, str | None], NoticeRow] = {}
    for row in rows:
        if row.status is not NoticeStatus.SKIPPED:
            latest[row.person_id, row.milestone, row.occurrence] = row
    keep = {id(row) for row in latest.values()}
    superseded = 0
    for row in rows:
        if row.status is not NoticeStatus.SKIPPED and id(row) not in keep:
            row.status, row.last_error = NoticeStatus.SKIPPED, SUPERSEDED
            superseded += 1
    return superseded


COHORTS_PER_QUERY = 100  # cohorts whose known notice keys are read at once (memory: ~2,500 each)


def known_keys(session: Session, cohort_ids: Sequence[str]) -> dict[str, set[str]]:
    """The notice keys already in the outbox, for each of the cohorts: one query, so a
    sweep's statements grow by one per :data:`COHORTS_PER_QUERY` cohorts, not per cohort."""
    found: dict[str, set[str]] = {cohort_id: set() for cohort_id in cohort_ids}
    rows = session.execute(
        select(Notice.cohort_id, Notice.key).where(Notice.cohort_id.in_(list(cohort_ids)))
    )
    for cohort_id, key in rows:
        found[cohort_id].add(key)
    return found


def queue_for_cohort(
    session: Session,
    loaded: LoadedCohort,
    trainees: Iterable[LoadedTrainee],
    mentors: dict[int, int],
    now: datetime,
    *,
    dry_run: bool = False,
    existing: set[str] | None = None,
    to_insert: list[NoticeRow] | None = None,
) -> QueueResult:
    """Queue every notice due by ``now`` for the cohort's trainees, each once. ``existing``
    is the cohort's known notice keys, when the caller read them (:func:`known_keys`).
    With ``to_insert``, the new rows are added to it for the caller to insert with other
    cohorts' (:func:`insert_queued`), rather than inserted here."""
    result = QueueResult()
    if existing is None:
        existing = known_keys(session, [loaded.cohort.id])[loaded.cohort.id]
    rows: list[NoticeRow] = []
    planner = Planner(loaded.programme, loaded.plan)
    for trainee in trainees:
        mine = []
        for n in planner.due(trainee.record, now):
            if n.key in existing:
                result.known += 1
                continue
            person = recipient_id(loaded, trainee, n.to, mentors)
            if person is not None:
                mine.append(planned_row(loaded, trainee.enrolment.id, person, n, now))
        result.superseded += supersede(mine)
        rows += mine
    for row in rows:
        if row.last_error == LATE:
            result.skipped += 1
            result.skipped_keys.append(row.key)
    result.queued = len(rows) - result.skipped - result.superseded
    if dry_run:
        return result
    if to_insert is None:
        result.known += len(rows) - insert_new(session, rows)
    else:
        to_insert += rows
    return result


def insert_queued(session: Session, rows: list[NoticeRow], result: QueueResult) -> None:
    """Insert the rows several cohorts' :func:`queue_for_cohort` gathered, at once; any
    already present (queued meanwhile by another sweep) count as known too, as when a
    cohort's rows are inserted on their own."""
    result.known += len(rows) - insert_new(session, rows)
