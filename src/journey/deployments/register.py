"""Putting the definitions on the Prefect server: ``sync`` for a work pool (``journey
deploy``, refresh-deployments) and ``serve`` for ``journey serve``'s own process. Either
way each deployment gets its form once registered, and the sweeps of zones no cohort uses
any more are removed."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from journey.deployments.compare import differences
from journey.deployments.define import Definition, Target, definitions
from journey.deployments.forms import set_form
from journey.deployments.naming import REFRESH, REFRESH_FLOW, SWEEP_FLOW, is_sweep
from journey.errors import JourneyError
from journey.settings import Settings

if TYPE_CHECKING:
    from uuid import UUID

    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.responses import DeploymentResponse


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
            outcomes.append(Outcome(d.name, _change(existing, diff), d.schedules()))
        outcomes += remove_stale_sweeps(api, {d.deployment.name for d in made})
    return outcomes


def _change(existing: DeploymentResponse | None, diff: list[str]) -> str:
    """An outcome's change in words: ``created``, ``updated (schedules, form)``,
    ``unchanged``."""
    if existing is None:
        return "created"
    if diff:
        return f"updated ({', '.join(diff)})"
    return "unchanged"


def remove_stale_sweeps(api: SyncPrefectClient, keep: set[str]) -> list[Outcome]:
    """Delete send-reminders deployments named ``daily`` or ``daily-…`` not in ``keep``:
    zones no cohort uses any more, and the single ``daily`` of earlier versions."""
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    found = api.read_deployments(flow_filter=FlowFilter(name=FlowFilterName(any_=[SWEEP_FLOW])))
    gone: list[Outcome] = []
    for d in found:
        if is_sweep(d.name) and d.name not in keep:
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
