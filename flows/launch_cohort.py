"""launch-cohort: plan every journey, welcome each trainee, tell mentors and facilitators."""

from __future__ import annotations

from dataclasses import replace

from prefect import flow

from journey.flows.naming import add_tags, launch_name
from journey.flows.params import CohortId, DryRun, Now
from journey.services.outcomes import LaunchSummary
from journey.tasks.common import resolve_now
from journey.tasks.deliver import deliver_until_done, fail_if_incomplete
from journey.tasks.plan import plan_launch
from journey.tasks.publish import publish_cohort


@flow(name="launch-cohort", flow_run_name=launch_name, log_prints=False)
def launch_cohort(cohort_id: CohortId, now: Now = None, dry_run: DryRun = False) -> LaunchSummary:
    """Launch a cohort and send what is due at once. Safe to run again.

    The launch time is kept from the first run; milestones already past at launch send
    nothing. The run ends Failed, after launching and publishing, when delivery fell
    short (server or outbox unavailable, notices deferred or failed for good).

    Args:
        cohort_id: The cohort's id, e.g. mk-2026.
        now: When to act as if it is (UTC unless an offset is given). Default: the current time.
        dry_run: Report what would happen, and change nothing.
    """
    add_tags(f"cohort:{cohort_id}")
    at = resolve_now(now)
    summary = plan_launch(cohort_id, at, dry_run)
    if not dry_run:
        delivered = deliver_until_done(at)
        summary = replace(summary, delivery=delivered.summary())
        summary = replace(summary, artifacts=publish_cohort(cohort_id, at))
        fail_if_incomplete(delivered, summary)
    return summary
