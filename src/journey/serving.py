"""``journey serve``: the deployments in one long-running process (Prefect ``serve``).

``send-reminders`` runs on a schedule in each cohort's own time zone, at every clock time
its programme's rules use (so a ``-7d@09:00`` rule goes out at 09:00, not a day late),
or at ``JOURNEY_REMINDER_CRON``. Prefect evaluates a cron in its time zone, so 08:00 stays
08:00 on both sides of the clock change. ``launch-cohort``, ``record-completion``,
``withdraw-trainee``, ``trainee-journey``, ``deliver-notices`` and ``funder-report`` are
there to run from the UI; the record-completion form offers the milestone ids of the
programmes stored for cohorts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import time
from typing import TYPE_CHECKING

from journey.errors import JourneyError, PrefectUnavailable
from journey.programme import Programme
from journey.settings import Settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

DEFAULT_TIMEZONE = "Europe/London"


def rule_times(programmes: Iterable[Programme]) -> list[time]:
    """Every clock time the programmes' notice rules use, sorted."""
    return sorted({rule.clock for p in programmes for m in p.milestones for rule in m.notices})


def reminder_crons(times: Iterable[time], override: str | None) -> list[str]:
    """One daily cron per clock time (``0 8 * * *``), or the configured cron alone."""
    if override:
        return [override]
    return [f"{t.minute} {t.hour} * * *" for t in times] or ["0 8 * * *"]


def cohort_schedules(settings: Settings) -> list[tuple[str, str]]:
    """(cron, time zone) pairs for send-reminders, from the cohorts in the database."""
    from journey.db import session_scope
    from journey.services.loading import load_cohorts

    with session_scope(settings.database_url) as session:
        cohorts = load_cohorts(session)
    by_zone: dict[str, list[Programme]] = {}
    for c in cohorts:
        by_zone.setdefault(c.cohort.timezone, []).append(c.programme)
    if not by_zone:
        from journey.programme import load_programme

        by_zone[DEFAULT_TIMEZONE] = [load_programme("default")]
    return [
        (cron, zone)
        for zone, programmes in sorted(by_zone.items())
        for cron in reminder_crons(rule_times(programmes), settings.reminder_cron)
    ]


def offered_milestones(settings: Settings) -> list[str]:
    """The milestone ids of the programmes stored for cohorts, each programme's in its own
    order, cohorts by id; the default programme's when there are no cohorts. One query."""
    from sqlalchemy import select

    from journey.db import session_scope
    from journey.models import Cohort
    from journey.programme import load_programme

    with session_scope(settings.database_url) as session:
        texts = session.scalars(select(Cohort.programme).order_by(Cohort.id)).all()
    ids: dict[str, None] = {}  # insertion-ordered set
    for text in dict.fromkeys(texts) or ["default"]:
        ids.update(dict.fromkeys(load_programme(text).ids))
    return list(ids)


def offer_milestones(deployment: RunnerDeployment, ids: Sequence[str]) -> None:
    """Make the deployment's form offer ``ids`` for its ``milestone`` parameter.

    Prefect builds a deployment's form from its flow's signature, which offers the default
    programme's ids (journey.flows.params); RunnerDeployment keeps that schema in a private
    attribute, set once when the deployment is made, and sends it when it is served.
    """
    from journey.flows.params import milestone_choices

    form = deployment._parameter_openapi_schema.properties["milestone"]
    form.update(milestone_choices(ids))


def check_api() -> str:
    """The API URL, after checking a server answers there; else one clear error."""
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise JourneyError(
            "journey serve needs a Prefect server: start one with "
            "`prefect server start --host 127.0.0.1` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api"
        )
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise PrefectUnavailable(f"cannot reach the Prefect API at {url}: {problem}")
    return url


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """The runner deployments ``journey serve`` serves."""
    from prefect.deployments.runner import RunnerDeployment
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from journey.flows.deliver_notices import deliver_notices
    from journey.flows.funder_report import funder_report
    from journey.flows.launch_cohort import launch_cohort
    from journey.flows.record_completion import record_completion
    from journey.flows.send_reminders import send_reminders
    from journey.flows.trainee_journey import trainee_journey
    from journey.flows.withdraw_trainee import withdraw_trainee

    tags, kind = ["leadership-journey"], EntrypointType.MODULE_PATH
    schedules = [Cron(cron, timezone=zone) for cron, zone in cohort_schedules(settings)]
    made = [
        send_reminders.to_deployment("daily", schedules=schedules, tags=tags, entrypoint_type=kind)
    ]
    on_demand = (
        launch_cohort,
        record_completion,
        withdraw_trainee,
        trainee_journey,
        deliver_notices,
        funder_report,
    )
    for flow in on_demand:
        made.append(flow.to_deployment("organiser", tags=tags, entrypoint_type=kind))
    out = [d for d in made if isinstance(d, RunnerDeployment)]  # sync calls: no coroutines
    assert len(out) == len(made)
    [record] = [d for d in out if d.flow_name == record_completion.name]
    offer_milestones(record, offered_milestones(settings))
    return out
