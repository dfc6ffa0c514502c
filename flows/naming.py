"""Run names built from a flow run's parameters, for the Prefect UI."""

from __future__ import annotations

from datetime import datetime

from prefect.runtime import flow_run

from journey.tasks.common import resolve_now


def _param(name: str) -> object:
    return flow_run.parameters.get(name)


def launch_name() -> str:
    return f"launch {_param('cohort_id')}"


def journey_name() -> str:
    return f"journey {_param('cohort_id')} / {_param('email')}"


def _day() -> str:
    now = _param("now")
    when = now if isinstance(now, datetime) else resolve_now(None)
    return when.date().isoformat()


def reminders_name() -> str:
    return f"reminders {_day()}"


def deliver_name() -> str:
    return f"deliver {_day()}"


def record_name() -> str:
    return f"record {_param('cohort_id')} {_param('milestone')}"


def funder_report_name() -> str:
    ids = _param("cohort_ids")
    named = sorted(set(ids)) if isinstance(ids, list) else [str(ids)]
    return f"funder report {', '.join(named)}"


def add_tags(*new: str) -> None:
    """Add tags to the running flow run (``cohort:mk-2026``), for filtering in the UI.

    A flow run's tags are set when it is created; these depend on its parameters, so
    they are added from inside the run.
    """
    from uuid import UUID

    from prefect.client.orchestration import get_client

    run_id = flow_run.id
    if run_id is None:
        return
    tags = sorted(set(flow_run.tags) | set(new))
    with get_client(sync_client=True) as client:
        client.update_flow_run(UUID(run_id), tags=tags)
