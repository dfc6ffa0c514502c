"""record-completion: record a milestone (or attendance) for one or more trainees."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from journey.flows.naming import record_name
from journey.tasks.common import resolve_now
from journey.tasks.record import record_completion as record_task


@flow(name="record-completion", flow_run_name=record_name)
def record_completion(
    cohort_id: str,
    emails: list[str],
    milestone: str,
    on: date | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Record through the same service as ``journey record``; bad input writes nothing."""
    return record_task(cohort_id, emails, milestone, on, resolve_now(now))
