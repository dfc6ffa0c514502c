"""send-reminders: the daily sweep. Queue what is due for everyone (or the cohorts of one
time zone, as its deployment runs it), then deliver."""

from __future__ import annotations

from prefect import flow

from journey.flows.naming import add_tags, reminders_name
from journey.flows.params import CohortIds, DryRun, Now, TimeZone
from journey.services.outcomes import SweepSummary
from journey.tasks.common import resolve_now
from journey.tasks.deliver import deliver_until_done, fail_if_incomplete
from journey.tasks.plan import queue_due
from journey.tasks.publish import publish_cohorts


@flow(name="send-reminders", flow_run_name=reminders_name)
def send_reminders(
    now: Now = None,
    cohort_ids: CohortIds = None,
    dry_run: DryRun = False,
    timezone: TimeZone = None,
) -> SweepSummary:
    """One set-based pass over every launched cohort, then batched delivery.

    Prefect units are batches, not notices: one queueing task and one task per batch
    of deliveries, whatever the number of trainees. Anything left pending by an outage
    goes out now if still useful; the rest was marked skipped when queued. The run ends
    Failed, after queueing and publishing, when delivery fell short (server or outbox
    unavailable, notices deferred or failed for good), with the reason as its message.

    Args:
        now: When to act as if it is (UTC unless an offset is given). Default: the current time.
        cohort_ids: Only these cohorts. Default: every launched cohort.
        dry_run: Report what would happen, and change nothing.
        timezone: Only the cohorts in this time zone (e.g. Europe/London), as each
            time zone's deployment runs it. Default: every time zone.
    """
    add_tags(
        *(f"cohort:{c}" for c in cohort_ids or ()), *([f"zone:{timezone}"] if timezone else [])
    )
    at = resolve_now(now)
    queued = queue_due(at, cohort_ids, None, dry_run, timezone)
    summary = SweepSummary(queued)
    if not dry_run:
        delivered = deliver_until_done(at)
        summary = SweepSummary(queued, delivered.summary())
        publish_cohorts(queued.cohorts, at)  # only the cohorts whose picture changed
        fail_if_incomplete(delivered, summary)
    return summary
