"""The deployments, defined once: served by ``journey serve``, or registered on a work pool
by ``journey deploy --pool`` (and kept current by the ``refresh-deployments`` flow).

- ``send-reminders/daily-<zone>``: one per time zone cohorts use (``daily-europe-london``),
  scheduled at each clock time the rules of that zone's programmes use, in that zone, and
  limited to that zone's cohorts (its ``timezone`` parameter). At most one run of each at
  a time; a run that comes due while one is running waits its turn (ENQUEUE), because a
  later sweep has its own notices to queue and cancelling it would leave them to the next
  day, late. A zone no cohort uses any more loses its deployment.
- ``launch-cohort``, ``record-completion``, ``withdraw-trainee``, ``trainee-journey``,
  ``deliver-notices`` and ``funder-report``, all ``/organiser``, to run from the UI. The
  record-completion form offers the milestone ids of the programmes stored for cohorts.
- On a work pool, ``refresh-deployments/refresh`` (every hour by default), which recomputes
  the zones, clock times and the form from the database; one run at a time, and one that
  comes due while another runs is cancelled (CANCEL_NEW: it would do the same work).

Entrypoints are module paths (``journey.flows.send_reminders.send_reminders``): a worker
imports the installed package, with no checkout and no pull step. Prefect builds a form
from the flow's signature when a deployment is applied; the form is then replaced through
the client's public ``update_deployment``, with the stored programmes' milestone ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journey.errors import JourneyError
from journey.settings import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from uuid import UUID

    from prefect import Flow
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import DeploymentScheduleCreate, DeploymentScheduleUpdate
    from prefect.client.schemas.objects import DeploymentSchedule
    from prefect.client.schemas.responses import DeploymentResponse
    from prefect.deployments.runner import RunnerDeployment

    Schedule = DeploymentScheduleCreate | DeploymentScheduleUpdate | DeploymentSchedule

SWEEP_FLOW = "send-reminders"
SWEEP_PREFIX = "daily"
ON_DEMAND = "organiser"
REFRESH_FLOW = "refresh-deployments"
REFRESH = "refresh"
TAGS = ["leadership-journey"]
SECRET_BLOCK = "journey-smtp-password"  # noqa: S105  (a block's name, not a password)
ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)  # interval schedules start here: same each deploy
NEVER_PASSED = {"smtp_password"}  # a Secret block's name goes instead


def zone_slug(zone: str) -> str:
    """``Europe/London`` -> ``europe-london``; ``Etc/GMT+5`` -> ``etc-gmtplus5`` (so it
    differs from ``Etc/GMT-5``, ``etc-gmt-5``)."""
    return re.sub(r"[^a-z0-9]+", "-", zone.lower().replace("+", "plus")).strip("-")


def sweep_name(zone: str) -> str:
    """The send-reminders deployment of a time zone: ``daily-europe-london``."""
    return f"{SWEEP_PREFIX}-{zone_slug(zone)}"


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


@dataclass(frozen=True)
class Outcome:
    """What registering one deployment did: created, updated (and what), unchanged,
    removed."""

    name: str
    change: str
    schedules: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.change != "unchanged"


def definitions(settings: Settings, target: Target) -> list[Definition]:
    """Every deployment, built from the database (zones, clock times, milestone ids)."""
    from journey.serving import offered_milestones, zone_crons

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
    from journey.flows.params import milestone_choices
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
            d.form["properties"]["milestone"].update(milestone_choices(milestone_ids))
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


def describe(schedule: Schedule) -> str:
    """A schedule in words, for what deploy and serve print."""
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    inner = schedule.schedule
    if isinstance(inner, CronSchedule):
        return f"{inner.cron} in {inner.timezone}"
    if isinstance(inner, IntervalSchedule):
        return f"every {inner.interval}"
    return str(inner)


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


@contextmanager
def client() -> Iterator[SyncPrefectClient]:
    """Prefect's sync client for the configured API."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as api:
        yield api


def find(api: SyncPrefectClient, name: str) -> DeploymentResponse | None:
    """The deployment ``flow/name`` on the server, or None."""
    from prefect.exceptions import ObjectNotFound

    try:
        return api.read_deployment_by_name(name)
    except ObjectNotFound:
        return None


def registered(deployment_id: UUID | Coroutine[Any, Any, UUID]) -> UUID:
    """The id a sync ``apply``/``add_deployment`` returned (Prefect types it as possibly
    a coroutine, which it is only when called from async code)."""
    if isinstance(deployment_id, Coroutine):
        deployment_id.close()
        raise TypeError("a deployment was registered from async code; call it from sync code")
    return deployment_id


def set_form(api: SyncPrefectClient, deployment_id: UUID, form: dict[str, Any]) -> None:
    """Give the deployment this form (its parameters' JSON schema), through the public
    update call: Prefect applies the flow signature's form, which cannot know the stored
    programmes' milestone ids."""
    from prefect.client.schemas.actions import DeploymentUpdate

    api.update_deployment(deployment_id, DeploymentUpdate(parameter_openapi_schema=form))


def sync(made: Sequence[Definition]) -> list[Outcome]:
    """Create or update each deployment that differs from its definition (and only
    those), then remove the send-reminders deployments of zones no cohort uses."""
    outcomes: list[Outcome] = []
    with client() as api:
        for d in made:
            existing = find(api, d.name)
            diff = ["new"] if existing is None else differences(d, existing)
            if diff:
                set_form(api, registered(d.deployment.apply()), d.form)
            change = (
                "created"
                if existing is None
                else f"updated ({', '.join(diff)})"
                if diff
                else "unchanged"
            )
            outcomes.append(Outcome(d.name, change, d.schedules()))
        outcomes += remove_stale_sweeps(api, {d.deployment.name for d in made})
    return outcomes


def remove_stale_sweeps(api: SyncPrefectClient, keep: set[str]) -> list[Outcome]:
    """Delete send-reminders deployments named ``daily`` or ``daily-…`` not in ``keep``:
    zones no cohort uses any more, and the single ``daily`` of earlier versions."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    found = api.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[SWEEP_FLOW])))
    gone: list[Outcome] = []
    for d in found:
        ours = d.name == SWEEP_PREFIX or d.name.startswith(f"{SWEEP_PREFIX}-")
        if ours and d.name not in keep:
            api.delete_deployment(d.id)
            gone.append(Outcome(f"{SWEEP_FLOW}/{d.name}", "removed"))
    return gone


def refresh(settings: Settings) -> list[Outcome]:
    """What refresh-deployments does: the definitions again, from the database, on the work
    pool and with the job variables of its own deployment (so as ``journey deploy`` left
    them); refresh-deployments itself is left as it is."""
    with client() as api:
        own = find(api, f"{REFRESH_FLOW}/{REFRESH}")
    if own is None or not own.work_pool_name:
        raise JourneyError(
            f"no {REFRESH_FLOW}/{REFRESH} deployment on a work pool: run journey deploy --pool NAME"
        )
    target = Target(own.work_pool_name, own.job_variables or {})
    return sync(definitions(settings, target))


def serve(made: Sequence[Definition], announce: Callable[[list[Outcome]], None]) -> None:
    """Register the deployments for this process and serve them until interrupted, as
    Prefect's ``serve`` does, with each form set once registered. ``announce`` is told
    what was removed first (zones no cohort uses any more) before serving starts. A zone
    that is new since the start needs a restart."""
    import asyncio

    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=False)
    with client() as api:
        for d in made:
            d.deployment.work_pool_name = None  # served here, not by a pool's workers
            set_form(api, registered(runner.add_deployment(d.deployment)), d.form)
        removed = remove_stale_sweeps(api, {d.deployment.name for d in made})
    announce(removed)
    with suppress(KeyboardInterrupt, TerminationSignal):
        asyncio.run(runner.start())


# ---- journey deploy: the pool, the password, the job variables -------------------------


def ensure_pool(api: SyncPrefectClient, name: str) -> str | None:
    """Create a process work pool ``name`` if there is none; returns its type if it was
    created, else None."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    try:
        api.read_work_pool(name)
        return None
    except ObjectNotFound:
        template = ProcessWorker.get_default_base_job_template()
        api.create_work_pool(WorkPoolCreate(name=name, type="process", base_job_template=template))
        return "process"


def ensure_secret(block_name: str, password: str) -> bool:
    """Keep the SMTP password in a Prefect Secret block; True if it was saved (new or
    changed), False if the block held it already."""
    from prefect.blocks.system import Secret
    from prefect.exceptions import ObjectNotFound

    try:
        held = Secret.load(block_name)
        if isinstance(held, Secret) and held.get() == password:
            return False
    except (ObjectNotFound, ValueError):
        pass
    Secret(value=password).save(block_name, overwrite=True)
    return True


def job_env(settings: Settings, password_block: str | None) -> dict[str, str]:
    """The ``JOURNEY_*`` settings that are set (and the database URL, always), as a worker's
    environment: paths made absolute, never the SMTP password (the name of its Secret
    block instead)."""
    names = (settings.model_fields_set | {"database_url"}) - NEVER_PASSED
    env: dict[str, str] = {}
    for name in sorted(names):
        value = getattr(settings, name)
        if value is not None and value != "":
            env[ENV_PREFIX + name.upper()] = env_text(name, value)
    if password_block:
        env[ENV_PREFIX + "SMTP_PASSWORD_BLOCK"] = password_block
    return env


def env_text(name: str, value: Any) -> str:
    """A setting's value as the environment gives it."""
    if name == "database_url":
        return absolute_sqlite(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(value.resolve())
    if isinstance(value, list | tuple):
        return json.dumps(list(value))
    return str(value)


def absolute_sqlite(url: str) -> str:
    """A SQLite URL with a relative path made absolute (a worker runs its flows in a
    folder of its own); any other URL unchanged."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    path = parsed.database
    if not parsed.drivername.startswith("sqlite") or not path or path == ":memory:":
        return url
    if Path(path).is_absolute():
        return url
    return parsed.set(database=str(Path(path).resolve())).render_as_string(hide_password=False)


@dataclass(frozen=True)
class DeployReport:
    """What ``journey deploy`` did, for the terminal."""

    pool: str
    pool_created: str | None  # the type of the pool made, if one was
    secret: tuple[str, bool] | None  # (block name, saved now) when a password is set
    env: dict[str, str]
    smtp_limit: int | None
    outcomes: list[Outcome]

    def lines(self) -> list[str]:
        """One line per fact: the pool, the password, each deployment, the job variables."""
        made = f"created (type {self.pool_created})" if self.pool_created else "exists"
        out = [f"Work pool {self.pool}: {made}."]
        if self.secret:
            block, saved = self.secret
            did = "saved in" if saved else "already in"
            out.append(
                f"SMTP password: {did} Prefect Secret block {block!r}; workers get "
                "JOURNEY_SMTP_PASSWORD_BLOCK, never the password."
            )
        if self.smtp_limit is not None:
            out.append(
                f"SMTP connections across workers: at most {self.smtp_limit} (journey-smtp)."
            )
        for o in self.outcomes:
            when = f"  [{'; '.join(o.schedules)}]" if o.schedules else ""
            out.append(f"  {o.name}: {o.change}{when}")
        out.append(f"Job variables: env {', '.join(self.env) or '(none)'}.")
        database = self.env.get(f"{ENV_PREFIX}DATABASE_URL", "")
        if _has_password(database):
            out.append(
                "Note: the database URL holds a password, and job variables are stored in "
                "Prefect's database; prefer a password file on the workers (.pgpass)."
            )
        if database.startswith("sqlite"):
            out.append(
                "Note: the database is a SQLite file, which only workers on this machine "
                "can reach; use Postgres for workers elsewhere."
            )
        changed = sum(o.changed for o in self.outcomes)
        out.append(
            f"{changed} of {len(self.outcomes)} deployments changed."
            if changed
            else f"Nothing changed: {len(self.outcomes)} deployments already as defined."
        )
        return out


def _has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url

    return bool(url) and make_url(url).password is not None


def deploy(settings: Settings, pool: str, refresh_every: timedelta, block: str) -> DeployReport:
    """``journey deploy``: make the pool if missing, keep the SMTP password in a Secret
    block, set the SMTP connection limit if configured, then create or update every
    deployment on the pool (only those that differ) and remove stale zones' sweeps."""
    from journey.smtp_limit import ensure_smtp_limit

    with client() as api:
        created = ensure_pool(api, pool)
    secret: tuple[str, bool] | None = None
    if settings.smtp_password is not None:
        secret = (block, ensure_secret(block, settings.smtp_password.get_secret_value()))
    env = job_env(settings, secret[0] if secret else None)
    if settings.smtp_global_limit is not None:
        ensure_smtp_limit(settings.smtp_global_limit)
    target = Target(pool, {"env": env}, refresh_every)
    outcomes = sync(definitions(settings, target))
    return DeployReport(pool, created, secret, env, settings.smtp_global_limit, outcomes)
