"""Planning tasks: launch a cohort, queue what is due (set-based, one task per call)."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.db import session_scope
from journey.models import Cohort
from journey.services.outcomes import LaunchSummary, QueueSummary
from journey.services.sweep import launch, sweep
from journey.tasks.common import settings


@task(name="launch-cohort-plan", task_run_name="plan {cohort_id}")
def plan_launch(cohort_id: str, now: datetime, dry_run: bool = False) -> LaunchSummary:
    """Mark the cohort launched, queue welcomes, assignments and anything already due."""
    with session_scope(settings().database_url) as session:
        result = launch(session=session, cohort_id=cohort_id, now=now, dry_run=dry_run)
    get_run_logger().info(
        "launch %s: %d trainees, %d welcomes, %d assignments, %d due, %d skipped",
        cohort_id,
        result.trainees,
        result.welcomes,
        result.assignments,
        result.due.queued,
        result.due.skipped,
    )
    return result.summary()


@task(name="queue-due-notices")
def queue_due(
    now: datetime,
    cohort_ids: list[str] | None = None,
    enrolment_id: int | None = None,
    dry_run: bool = False,
    timezone: str | None = None,
) -> QueueSummary:
    """Queue every notice due by ``now``: one set-based pass over the cohorts named (or
    all), and of those only the ones in ``timezone`` when it is given."""
    with session_scope(settings().database_url) as session:
        if timezone is not None:
            cohort_ids = cohorts_in_zone(session, timezone, cohort_ids)
        result = sweep(
            session=session,
            now=now,
            cohort_ids=cohort_ids,
            enrolment_id=enrolment_id,
            dry_run=dry_run,
        )
    get_run_logger().info(
        "queued %d, skipped %d late and %d superseded, %d already queued",
        result.queued,
        result.skipped,
        result.superseded,
        result.known,
    )
    return result.summary()


def cohorts_in_zone(session: Session, zone: str, among: list[str] | None) -> list[str]:
    """The ids of the cohorts in time zone ``zone`` (of ``among`` if given): none is an
    empty list, so a zone's sweep never sweeps every cohort."""
    query = select(Cohort.id).where(Cohort.timezone == zone).order_by(Cohort.id)
    if among is not None:
        query = query.where(Cohort.id.in_(among))
    return list(session.scalars(query))
