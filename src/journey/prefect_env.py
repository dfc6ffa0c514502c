"""Offline, quiet defaults for Prefect, set before it is first imported.

Each is only a default: a value already in the environment wins (for example
``PREFECT_API_URL`` pointing at a running server, so runs appear in its UI). Without
``PREFECT_API_URL``, a server started by ``journey server start`` that answers is used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}
EPHEMERAL_ONLY = {
    # With no server, run logs go nowhere anyone reads them: keep the terminal quiet.
    # With a server, INFO logs reach each run's page in the UI.
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def apply() -> str:
    """Set the defaults; returns where flow runs will be recorded, in words.

    An explicit ``PREFECT_API_URL`` wins. Without one, the server remembered by
    ``journey server start`` is used when it answers (``PREFECT_API_URL`` is set to it,
    for Prefect and for the commands that ask the server); one that does not answer is
    said once on stderr, and Prefect's ephemeral API is used. With no server remembered
    this costs one failed ``stat``: it runs on every flow command.
    """
    url = os.environ.get("PREFECT_API_URL") or _remembered_server()
    for key, value in {**DEFAULTS, **({} if url else EPHEMERAL_ONLY)}.items():
        os.environ.setdefault(key, value)
    return f"Prefect server {url}" if url else "Prefect's ephemeral API (runs are not kept)"


def _remembered_server() -> str | None:
    """The API URL of the server ``journey server start`` remembers, if it answers; it
    becomes ``PREFECT_API_URL`` for this process and the flows it runs."""
    from journey.local_server import remembered_api_url

    url = remembered_api_url()
    if url:
        os.environ["PREFECT_API_URL"] = url
        _FOUND.add(url)
    return url


_FOUND: set[str] = set()  # API URLs of `journey server start` that apply() chose here


def require_server(command: str) -> str:
    """The API URL of the Prefect server ``command`` works on, once a server answers
    there: ``PREFECT_API_URL``, or the one ``journey server start`` remembers. With none
    configured, :class:`~journey.errors.JourneyError` (exit 1: set one up); with one that
    does not answer, :class:`~journey.errors.PrefectUnavailable` (exit 75: try again later).
    """
    from journey.errors import JourneyError, PrefectUnavailable

    apply()
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        raise JourneyError(
            f"{command} needs a Prefect server: run `journey server start`, or set "
            "PREFECT_API_URL to a server's API (http://HOST:4200/api)"
        )
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        name = type(problem).__name__
        raise PrefectUnavailable(f"cannot reach the Prefect API at {url} ({name}); try again later")
    return url


@contextmanager
def flows_here() -> Iterator[str]:
    """Run flows in this process (the CLI, the demo, the benchmarks) with the defaults
    applied; yields where their runs are recorded, in words.

    On Prefect's ephemeral API each flow run goes without its heartbeat thread. The
    heartbeat lets a server mark a run whose process died as crashed; the ephemeral API
    dies with the process, so there it tells no one anything, and Prefect joins the thread
    at the end of every flow run, which waited about 0.9 s a run here (the thread sleeps
    in 1 s steps). The same goes for the server of ``journey server start`` when this
    process found it (no ``PREFECT_API_URL`` given): nothing there watches heartbeats (no
    automation is set up), and the flow runs in the command the organiser is watching,
    so the join was 0.4-0.8 s of a 3-5 s ``journey remind`` for nothing. With
    ``PREFECT_API_URL`` set, Prefect's own setting stands
    (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, 180 s by default). Environment variables
    cannot switch the heartbeat off (None is not an integer), hence a settings context.
    """
    where = apply()
    url = os.environ.get("PREFECT_API_URL")
    if url and url not in _FOUND:
        yield where
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield where
