"""Every deployment as it should be, built from the database: the sweeps (a time zone
each), the organiser's forms and, on a work pool, refresh-deployments.

Entrypoints are module paths (``journey.flows.send_reminders.send_reminders``): a worker
imports the installed package, with no checkout and no pull step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from journey.deployments.forms import offer_milestones, offered_milestones
from journey.deployments.naming import ON_DEMAND, REFRESH, TAGS, sweep_name
from journey.deployments.schedule import describe, zone_crons
from journey.settings import Settings

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.deployments.runner import RunnerDeployment

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)  # interval schedules start here: same each deploy


@dataclass(frozen=True)
class Target:
    """Where the deployments go: a work pool with its job variables, or (no pool) served
    from ``journey serve``'s process. ``refresh_every`` adds refresh-deployments."""

    pool: str | None = None
    job_variables: dict[str, Any] = field(default_factory=dict)
    refresh_every: timedelta | None = None


@dataclass(frozen=True)
class Definition:
    """One deployment as it should be, with the form the server should offer for it."""

    deployment: RunnerDeployment
    form: dict[str, Any]

    @property
    def name(self) -> str:
        return self.deployment.full_name

    def schedules(self) -> list[str]:
        """Its schedules in words: ``0 8 * * * in Europe/London``, ``every 1:00:00``."""
        return [describe(s) for s in self.deployment.schedules or []]


def definitions(settings: Settings, target: Target) -> list[Definition]:
    """Every deployment, built from the database (zones, clock times, milestone ids)."""
    made = [_sweep(zone, crons, target) for zone, crons in zone_crons(settings).items()]
    made += _on_demand(target, offered_milestones(settings))
    if target.pool and target.refresh_every:
        made.append(_refresh(target, target.refresh_every))
    return made


def _sweep(zone: str, crons: Sequence[str], target: Target) -> Definition:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    from journey.flows.send_reminders import send_reminders

    one_at_a_time = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
    )
    return _define(
        send_reminders,
        sweep_name(zone),
        target,
        schedules=[Cron(cron, timezone=zone) for cron in crons],
        parameters={"timezone": zone},
        concurrency_limit=one_at_a_time,
        description=f"The daily sweep for the cohorts in {zone}, at each clock time "
        "their programmes' rules use.",
    )


def _on_demand(target: Target, milestone_ids: Sequence[str]) -> list[Definition]:
    from journey.flows.deliver_notices import deliver_notices
    from journey.flows.funder_report import funder_report
    from journey.flows.launch_cohort import launch_cohort
    from journey.flows.record_completion import record_completion
    from journey.flows.trainee_journey import trainee_journey
    from journey.flows.withdraw_trainee import withdraw_trainee

    flows: list[Flow[..., Any]] = [
        launch_cohort,
        record_completion,
        withdraw_trainee,
        trainee_journey,
        deliver_notices,
        funder_report,
    ]
    made = [_define(f, ON_DEMAND, target) for f in flows]
    for d in made:
        if d.deployment.flow_name == record_completion.name:
            offer_milestones(d.form, milestone_ids)
    return made


def _refresh(target: Target, every: timedelta) -> Definition:
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Interval

    from journey.flows.refresh_deployments import refresh_deployments

    one_is_enough = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
    )
    return _define(
        refresh_deployments,
        REFRESH,
        target,
        schedules=[Interval(every, anchor_date=ANCHOR, timezone="UTC")],
        concurrency_limit=one_is_enough,  # a run meanwhile would do the same work again
        description="Recompute the send-reminders deployments (a time zone each) and the "
        "record-completion form from the database.",
    )


def _define(flow: Flow[..., Any], name: str, target: Target, **options: Any) -> Definition:
    """``flow.to_deployment`` with the project's tags and a module entrypoint; the form is
    the flow's own (Prefect's ``parameter_schema``), as JSON."""
    from prefect.deployments.runner import RunnerDeployment
    from prefect.types.entrypoint import EntrypointType
    from prefect.utilities.callables import parameter_schema

    if target.pool:
        options.update(work_pool_name=target.pool, job_variables=dict(target.job_variables))
    made = flow.to_deployment(
        name, tags=list(TAGS), entrypoint_type=EntrypointType.MODULE_PATH, **options
    )
    if not isinstance(made, RunnerDeployment):  # a sync call gives no coroutine
        raise TypeError(f"{flow.name}: to_deployment gave {type(made).__name__}")
    form = parameter_schema(flow).model_dump(mode="json", exclude_unset=True)
    return Definition(made, form)
