"""What differs between a deployment as defined and as the server holds it, so that
``journey deploy`` and refresh-deployments apply only what changed (an unchanged
deployment keeps its schedule's next runs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect.client.schemas.responses import DeploymentResponse
    from prefect.deployments.runner import RunnerDeployment

    from journey.deployments.define import Definition
    from journey.deployments.schedule import Schedule


def differences(wanted: Definition, existing: DeploymentResponse) -> list[str]:
    """What differs between a deployment as defined and as the server holds it."""
    want = wanted.deployment
    checks = {
        "entrypoint": existing.entrypoint == want.entrypoint,
        "work pool": existing.work_pool_name == want.work_pool_name,
        "schedules": _schedule_keys(existing.schedules) == _schedule_keys(want.schedules),
        "concurrency limit": _limit_of(existing) == _limit_wanted(want),
        "job variables": (existing.job_variables or {}) == _json(want.job_variables),
        "parameters": existing.parameters == _json(want.parameters),
        "tags": sorted(existing.tags) == sorted(want.tags),
        "form": existing.parameter_openapi_schema == _json(wanted.form),
        "pull steps": not existing.pull_steps,
    }
    return [what for what, same in checks.items() if not same]


def _json(value: Any) -> Any:
    """The value as the server gives it back: through JSON, dates as text."""
    return json.loads(json.dumps(value, default=str))


def _schedule_keys(
    schedules: Sequence[Schedule] | None,
) -> list[tuple[Any, ...]]:
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    keys: list[tuple[Any, ...]] = []
    for s in schedules or []:
        inner = s.schedule
        if isinstance(inner, CronSchedule):
            keys.append(("cron", inner.cron, inner.timezone, s.active))
        elif isinstance(inner, IntervalSchedule):
            anchor = inner.anchor_date.timestamp()
            keys.append(("interval", inner.interval.total_seconds(), anchor, s.active))
        else:
            keys.append(("other", str(inner), s.active))
    return sorted(keys, key=repr)


def _limit_of(existing: DeploymentResponse) -> tuple[int | None, str | None]:
    limit = existing.global_concurrency_limit
    options = existing.concurrency_options
    return (
        limit.limit if limit else None,
        options.collision_strategy.value if options and limit else None,
    )


def _limit_wanted(want: RunnerDeployment) -> tuple[int | None, str | None]:
    options = want.concurrency_options
    return (
        want.concurrency_limit,
        options.collision_strategy.value if options and want.concurrency_limit else None,
    )
