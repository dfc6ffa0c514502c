"""Run names built from a flow run's parameters, for the Prefect UI.

A run name never holds an email address: the organiser finds a trainee's runs by the
trainee's name, looked up from the address the run was given (Prefect stores run names
in its database, its events and its logs, where :mod:`journey.prefect_runs` cannot reach).
"""

from __future__ import annotations

from datetime import datetime

from prefect.runtime import flow_run

from journey.tasks.common import resolve_now


def _param(name: str) -> object:
    return flow_run.parameters.get(name)


def launch_name() -> str:
    return f"launch {_param('cohort_id')}"


def journey_name() -> str:
    return f"journey {_param('cohort_id')} / {_trainee()}"


def withdraw_name() -> str:
    return f"withdraw {_param('cohort_id')} / {_trainee()}"


UNKNOWN = "someone not in the cohort"


def trainee_name(cohort_id: str, email: str) -> str:
    """The name of the cohort's trainee with this address; :data:`UNKNOWN` if none has it
    (the run then fails, saying so without the address)."""
    from sqlalchemy import select

    from journey.db import session_scope
    from journey.models import Enrolment, Person
    from journey.settings import get_settings

    with session_scope(get_settings().database_url) as session:
        name = session.scalar(
            select(Person.name)
            .join(Enrolment, Enrolment.person_id == Person.id)
            .where(Enrolment.cohort_id == cohort_id, Person.email == email.strip().lower())
        )
    return name or UNKNOWN


def _trainee() -> str:
    cohort_id, email = _param("cohort_id"), _param("email")
    if not isinstance(cohort_id, str) or not isinstance(email, str):
        return UNKNOWN
    try:
        return trainee_name(cohort_id, email)
    except Exception:  # the run itself will meet the database and fail, saying why
        return "a trainee"


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
