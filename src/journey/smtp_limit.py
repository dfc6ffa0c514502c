"""One cap on SMTP connections across every worker: a Prefect global concurrency limit.

``smtp_connections`` caps the connections of one batch; two workers each sending a batch
open twice that, and a relay that allows a few connections per client refuses the rest.
With ``JOURNEY_SMTP_GLOBAL_LIMIT`` set and a Prefect server in use (``PREFECT_API_URL``),
every SMTP connection holds one slot of the global concurrency limit ``journey-smtp``
for its whole life, connect to quit (:func:`smtp_slot`): one slot acquisition per
connection, never per message. A connection that cannot get a slot waits for one, as
Prefect's server tells it when to ask again (HTTP 423 with Retry-After), so the API is
not hammered; the batch's connections that hold a slot go on sending meanwhile.

The slot is held with a lease of :data:`LEASE_SECONDS`, renewed by Prefect in the
background while the connection lasts, so the slot of a worker that died comes back
within about a minute instead of staying taken.

Without the setting, or on Prefect's ephemeral API (the CLI with no server), nothing is
limited beyond ``smtp_connections``, as before. Prefect is imported only when a slot is
really taken, so the commands that never import Prefect still do not.

:func:`ensure_smtp_limit` creates or updates the limit (``journey deploy`` calls it); a
connection that finds the limit missing while the setting is set creates it with the
setting's slots rather than going on unlimited. A limit an operator made inactive in the
Prefect UI is respected: it limits nothing until made active again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from journey.settings import Settings

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

__all__ = [
    "LEASE_SECONDS",
    "SMTP_LIMIT_NAME",
    "SlotUnavailable",
    "ensure_smtp_limit",
    "limit_applies",
    "smtp_slot",
]

SMTP_LIMIT_NAME = "journey-smtp"
LEASE_SECONDS = 60.0  # the shortest lease Prefect's server grants


class SlotUnavailable(Exception):
    """No slot of the limit could be taken: the Prefect server did not answer, or refused."""


def ensure_smtp_limit(limit: int) -> None:
    """Create the global concurrency limit ``journey-smtp`` with ``limit`` slots, active
    and without slot decay (a cap on connections open at once, not a rate); or make an
    existing one so. Uses the Prefect API configured (``PREFECT_API_URL``)."""
    from prefect.client.orchestration import get_client

    if limit < 1:
        raise ValueError(f"the SMTP connection limit must be at least 1, not {limit}")
    with get_client(sync_client=True) as client:
        _create_or_update(client, limit)


def _create_or_update(client: SyncPrefectClient, limit: int) -> None:
    """Create the limit, or update it when its slots, state or decay differ; a limit made
    by another worker meanwhile is updated instead."""
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    try:
        found = client.read_global_concurrency_limit_by_name(SMTP_LIMIT_NAME)
    except ObjectNotFound:
        try:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(
                    name=SMTP_LIMIT_NAME, limit=limit, active=True, slot_decay_per_second=0.0
                )
            )
            return
        except ObjectAlreadyExists:
            pass  # another worker created it a moment ago: make it ours below
    else:
        if found.limit == limit and found.active and not found.slot_decay_per_second:
            return
    client.update_global_concurrency_limit(
        SMTP_LIMIT_NAME,
        GlobalConcurrencyLimitUpdate(limit=limit, active=True, slot_decay_per_second=0.0),
    )


def limit_applies(settings: Settings) -> bool:
    """True when SMTP connections take a slot: the setting is set and a Prefect API is
    configured (not the ephemeral one)."""
    if settings.smtp_global_limit is None:
        return False
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


def smtp_slot(settings: Settings) -> AbstractAsyncContextManager[None]:
    """Hold one slot of ``journey-smtp`` for the block (one SMTP connection's life), waiting
    for it as long as it takes; a no-op when :func:`limit_applies` is false.

    Raises :class:`SlotUnavailable` on entering when the Prefect server cannot be asked.
    """
    limit = settings.smtp_global_limit
    if limit is None or not limit_applies(settings):
        return _nothing()
    return _slot(limit)


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield


def _holding() -> AbstractAsyncContextManager[None]:
    """Prefect's slot holder for ``journey-smtp``. Strict: a missing limit raises instead
    of silently letting everything through. A failed lease renewal only logs: cancelling a
    connection mid-message could send that message twice."""
    from prefect.concurrency.asyncio import concurrency

    return concurrency(
        SMTP_LIMIT_NAME,
        lease_duration=LEASE_SECONDS,
        strict=True,
        raise_on_lease_renewal_failure=False,
    )


@asynccontextmanager
async def _slot(limit: int) -> AsyncIterator[None]:
    """One slot, held with a renewed lease; a missing limit is created first."""
    from prefect.concurrency.asyncio import ConcurrencySlotAcquisitionError

    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(_holding())
        except ConcurrencySlotAcquisitionError as exc:
            if not await asyncio.to_thread(_created_if_missing, limit):
                raise SlotUnavailable(_why(exc)) from None
            try:
                await stack.enter_async_context(_holding())
            except ConcurrencySlotAcquisitionError as again:
                raise SlotUnavailable(_why(again)) from None
        yield


def _created_if_missing(limit: int) -> bool:
    """Create the limit if it does not exist; True if it was missing (and is made now)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            try:
                client.read_global_concurrency_limit_by_name(SMTP_LIMIT_NAME)
            except ObjectNotFound:
                _create_or_update(client, limit)
                return True
    except Exception:  # the server cannot be asked: the caller says why it could not acquire
        return False
    return False


def _why(exc: BaseException) -> str:
    """Why no slot could be taken, in one line: the underlying error when there is one."""
    cause = exc.__cause__ or exc
    return (
        f"could not take a slot of the Prefect concurrency limit {SMTP_LIMIT_NAME!r}: "
        f"{type(cause).__name__}: {cause}"
    )
