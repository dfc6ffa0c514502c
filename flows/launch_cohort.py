"""launch-cohort: plan every journey, welcome each trainee, tell mentors and facilitators."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from journey.flows.naming import launch_name
from journey.tasks.common import resolve_now
from journey.tasks.deliver import deliver_until_done
from journey.tasks.plan import plan_launch


@flow(name="launch-cohort", flow_run_name=launch_name, log_prints=False)
def launch_cohort(
    cohort_id: str, now: datetime | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Launch a cohort and send what is due at once. Safe to run again.

    The launch time is kept from the first run; milestones already past at launch send
    nothing. ``dry_run`` reports what would be queued and sends nothing.
    """
    at = resolve_now(now)
    summary = plan_launch(cohort_id, at, dry_run)
    if not dry_run:
        summary["delivery"] = deliver_until_done(at).__dict__
    return summary
