"""Recording task: completions and attendance, written through the same service as the CLI."""

from __future__ import annotations

from datetime import date, datetime

from prefect import get_run_logger, task

from journey.db import session_scope
from journey.services.outcomes import RecordSummary
from journey.services.record import record
from journey.tasks.common import addresses_withheld, settings
from journey.tasks.publish import emit_completions


@task(name="record-completion", task_run_name="record {milestone} for {cohort_id}")
def record_completion(
    cohort_id: str,
    emails: list[str],
    milestone: str,
    on: date | None,
    now: datetime,
    dry_run: bool = False,
) -> RecordSummary:
    """Record ``milestone`` for each email; unknown input fails the run, writing nothing,
    with an error naming enrolment ids, never addresses."""
    with addresses_withheld(cohort_id, emails), session_scope(settings().database_url) as session:
        result = record(
            session=session,
            cohort_id=cohort_id,
            emails=emails,
            milestone=milestone,
            on=on,
            now=now,
            dry_run=dry_run,
        )
    if not dry_run:
        emit_completions(cohort_id, milestone, result.recorded_ids, on)
    get_run_logger().info(
        "%s: %d recorded, %d already recorded", milestone, len(result.recorded), len(result.already)
    )
    return RecordSummary(recorded=len(result.recorded), already=len(result.already))
