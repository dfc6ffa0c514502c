"""record-completion: record a milestone (or attendance) for one or more trainees."""

from __future__ import annotations

from prefect import flow

from journey.flows.naming import add_tags, record_name
from journey.flows.params import CohortId, DryRun, Emails, Milestone, Now, On
from journey.services.outcomes import RecordSummary
from journey.tasks.common import resolve_now
from journey.tasks.publish import publish_cohort
from journey.tasks.record import record_completion as record_task


@flow(name="record-completion", flow_run_name=record_name)
def record_completion(
    cohort_id: CohortId,
    emails: Emails,
    milestone: Milestone,
    on: On = None,
    now: Now = None,
    dry_run: DryRun = False,
) -> RecordSummary:
    """Record through the same service as ``journey record``; bad input writes nothing.

    Args:
        cohort_id: The cohort's id, e.g. mk-2026.
        emails: The trainees' email addresses (one, or a whole session's attendance).
        milestone: A milestone id from the programme, e.g. listening, mentoring-2, training.
        on: When it was done. Default: today, or the session's own date.
        now: When to act as if it is (UTC unless an offset is given). Default: the current time.
        dry_run: Report what would happen, and change nothing.
    """
    add_tags(f"cohort:{cohort_id}", f"milestone:{milestone}")
    at = resolve_now(now)
    result = record_task(cohort_id, emails, str(milestone), on, at, dry_run)
    if not dry_run:
        publish_cohort(cohort_id, at)
    return result
