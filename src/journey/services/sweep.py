"""The daily sweep and the launch: decide what is due, queue it once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine.keys import launch_key
from journey.errors import UnknownCohort
from journey.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    LearningSet,
    Mentor,
    Notice,
    RecipientRole,
)
from journey.services.digest import queue_digests
from journey.services.history import note
from journey.services.loading import (
    LoadedCohort,
    LoadedTrainee,
    known_cohort_ids,
    load_cohorts,
    load_trainees,
)
from journey.services.outbox import INSERT_CHUNK, TRAINEE, NoticeRow, insert_new, notice_row
from journey.services.outcomes import LaunchSummary
from journey.services.queue import (
    COHORTS_PER_QUERY,
    QueueResult,
    adopt_rules,
    insert_queued,
    known_keys,
    queue_for_cohort,
)

LAUNCH_NOTICE_USEFUL = timedelta(days=14)
Target = tuple[str, int | None, int]  # (key ref, enrolment id, recipient person id)


def mentor_people(session: Session, cohort_ids: Iterable[str]) -> dict[int, int]:
    """mentor id -> person id, for the cohorts named."""
    rows = session.execute(
        select(Mentor.id, Mentor.person_id).where(Mentor.cohort_id.in_(list(cohort_ids)))
    )
    return {mentor_id: person_id for mentor_id, person_id in rows}


def sweep(
    *,
    session: Session,
    now: datetime,
    cohort_ids: Iterable[str] | None = None,
    enrolment_id: int | None = None,
    dry_run: bool = False,
) -> QueueResult:
    """Queue everything due by ``now`` across launched cohorts: a fixed number of queries,
    and, per :data:`~journey.services.queue.COHORTS_PER_QUERY` cohorts, one for the notice
    keys already known and one insert of what is new (in pages of ``INSERT_CHUNK`` rows).

    ``enrolment_id`` narrows it to one trainee (the trainee-journey flow).
    """
    cohorts = [c for c in load_cohorts(session, cohort_ids) if c.cohort.launched_at is not None]
    ids = [c.cohort.id for c in cohorts]
    trainees = load_trainees(session, ids, active_only=True)
    if enrolment_id is not None:
        trainees = {
            cid: [t for t in ts if t.enrolment.id == enrolment_id] for cid, ts in trainees.items()
        }
    mentors = mentor_people(session, ids)
    total = QueueResult(cohort_ids=ids)
    for start in range(0, len(cohorts), COHORTS_PER_QUERY):
        some = cohorts[start : start + COHORTS_PER_QUERY]
        known = known_keys(session, [c.cohort.id for c in some])
        rows: list[NoticeRow] = []  # the new notices of these cohorts, inserted at once
        for found in some:
            loaded = adopt_rules(session, found, now, dry_run=dry_run)
            result = queue_for_cohort(
                session,
                loaded,
                trainees[loaded.cohort.id],
                mentors,
                now,
                dry_run=dry_run,
                existing=known[found.cohort.id],
                to_insert=rows,
            )
            total.add(result)
        if rows:
            insert_queued(session, rows, total)
    if not dry_run:
        total.digests = queue_digests(session=session, now=now)
    return total


@dataclass
class LaunchResult:
    """What a launch did: ``welcomes`` and ``assignments`` count the notices newly queued
    (or that would be, in a dry run), so a second launch says 0 rather than repeat the
    first one's numbers; ``first_launch`` tells the two apart."""

    cohort_id: str
    launched_at: datetime
    first_launch: bool
    trainees: int
    welcomes: int = 0
    assignments: int = 0
    due: QueueResult = field(default_factory=QueueResult)

    def summary(self) -> LaunchSummary:
        """The launch's counts, as launch-cohort returns them (its delivery added later)."""
        return LaunchSummary(
            cohort_id=self.cohort_id,
            launched_at=self.launched_at,
            first_launch=self.first_launch,
            trainees=self.trainees,
            welcomes=self.welcomes,
            assignments=self.assignments,
            due=self.due.summary(),
        )


def launch(
    *,
    session: Session,
    cohort_id: str,
    now: datetime,
    dry_run: bool = False,
    by: str | None = None,
) -> LaunchResult:
    """Launch a cohort: welcome each trainee, tell mentors and facilitators, queue what is due.

    Safe to run again: the launch time is kept from the first run, and every notice is
    keyed, so a second run only welcomes trainees added since. A launch that queued
    anything is a line of history.
    """
    cohort = session.get(Cohort, cohort_id)
    if cohort is None:
        raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    first = cohort.launched_at is None
    if first and not dry_run:
        cohort.launched_at = now
        session.flush()
    [loaded] = load_cohorts(session, [cohort_id])
    if loaded.plan.launched_at is None:  # dry run of a first launch: plan as if launched
        loaded = replace(loaded, plan=replace(loaded.plan, launched_at=now))
    loaded = adopt_rules(session, loaded, now, dry_run=dry_run)
    trainees = load_trainees(session, [cohort_id], active_only=True)[cohort_id]
    result = LaunchResult(cohort_id, loaded.plan.launched_at or now, first, len(trainees))
    rows = _launch_rows(session, loaded, trainees, now)
    welcomes = [r for r in rows if r.recipient_role == TRAINEE]
    others = [r for r in rows if r.recipient_role != TRAINEE]
    if dry_run:
        result.welcomes, result.assignments = _new_count(session, welcomes, others)
    else:
        result.welcomes, result.assignments = (
            insert_new(session, welcomes),
            insert_new(session, others),
        )
    mentors = mentor_people(session, [cohort_id])
    result.due = queue_for_cohort(session, loaded, trainees, mentors, now, dry_run=dry_run)
    if not dry_run:
        result.due.digests = queue_digests(session=session, now=now)
    if not dry_run and (first or result.welcomes or result.assignments):
        what = "launched" if first else "launched again"
        detail = f"{what}: {result.welcomes} welcomes, {result.assignments} to mentors and sets"
        note(session=session, at=now, by=by, action="launch", detail=detail, cohort_id=cohort_id)
    return result


def _new_count(session: Session, *groups: list[NoticeRow]) -> tuple[int, ...]:
    """How many rows of each group :func:`insert_new` would insert: those whose key is new."""
    keys = [r.key for rows in groups for r in rows]
    known: set[str] = set()
    for start in range(0, len(keys), INSERT_CHUNK):
        chunk = keys[start : start + INSERT_CHUNK]
        known.update(session.scalars(select(Notice.key).where(Notice.key.in_(chunk))))
    return tuple(sum(1 for r in rows if r.key not in known) for rows in groups)


def _launch_rows(
    session: Session, loaded: LoadedCohort, trainees: list[LoadedTrainee], now: datetime
) -> list[NoticeRow]:
    cohort = loaded.cohort
    rows = []
    for notice in loaded.programme.launch:
        targets: list[Target]
        if notice.to == "trainee":
            targets = [
                (str(t.enrolment.id), t.enrolment.id, t.enrolment.person_id) for t in trainees
            ]
        elif notice.to == "mentor":
            targets = _mentor_targets(session, cohort.id)
        elif notice.to == "facilitator":
            targets = _facilitator_targets(session, cohort.id)
        else:
            targets = [("organiser", None, cohort.organiser_id)]
        for ref, enrolment_id, person_id in targets:
            rows.append(
                _launch_row(
                    cohort.id,
                    ref,
                    enrolment_id,
                    person_id,
                    notice.template,
                    RecipientRole(notice.to),
                    notice.ics,
                    now,
                )
            )
    return rows


def _launch_row(
    cohort_id: str,
    ref: str,
    enrolment_id: int | None,
    person_id: int,
    template: str,
    to: RecipientRole,
    ics: bool,
    now: datetime,
) -> NoticeRow:
    return notice_row(
        key=launch_key(cohort_id, ref, template, to),
        cohort_id=cohort_id,
        enrolment_id=enrolment_id,
        person_id=person_id,
        role=to,
        template=template,
        attach_ics=ics,
        due_at=now,
        useful_until=now + LAUNCH_NOTICE_USEFUL,
        now=now,
    )


def _mentor_targets(session: Session, cohort_id: str) -> list[Target]:
    """Mentors with at least one active trainee."""
    rows = session.execute(
        select(Mentor.id, Mentor.person_id)
        .where(
            Mentor.cohort_id == cohort_id,
            Mentor.id.in_(
                select(Enrolment.mentor_id).where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ACTIVE
                )
            ),
        )
        .order_by(Mentor.id)
    )
    return [(f"m{mid}", None, pid) for mid, pid in rows]


def _facilitator_targets(session: Session, cohort_id: str) -> list[Target]:
    """Facilitators of sets with at least one active member."""
    rows = session.execute(
        select(LearningSet.id, LearningSet.facilitator_id)
        .where(
            LearningSet.cohort_id == cohort_id,
            LearningSet.facilitator_id.is_not(None),
            LearningSet.id.in_(
                select(Enrolment.learning_set_id).where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status == EnrolmentStatus.ACTIVE
                )
            ),
        )
        .order_by(LearningSet.id)
    )
    return [(f"s{sid}", None, pid) for sid, pid in rows if pid is not None]
