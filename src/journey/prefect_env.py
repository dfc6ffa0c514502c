"""Offline, quiet defaults for Prefect, set before it is first imported.

Each is only a default: a value already in the environment wins (for example
``PREFECT_API_URL`` pointing at a running server, so runs appear in its UI).
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
    """Set the defaults; returns where flow runs will be recorded, in words."""
    url = os.environ.get("PREFECT_API_URL")
    for key, value in {**DEFAULTS, **({} if url else EPHEMERAL_ONLY)}.items():
        os.environ.setdefault(key, value)
    return f"Prefect server {url}" if url else "Prefect's ephemeral API (runs are not kept)"


@contextmanager
def flows_here() -> Iterator[str]:
    """Run flows in this process (the CLI, the demo, the benchmarks) with the defaults
    applied; yields where their runs are recorded, in words.

    On Prefect's ephemeral API each flow run goes without its heartbeat thread. The
    heartbeat lets a server mark a run whose process died as crashed; the ephemeral API
    dies with the process, so there it tells no one anything, and Prefect joins the thread
    at the end of every flow run, which waited about 0.9 s a run here (the thread sleeps
    in 1 s steps). With ``PREFECT_API_URL`` set, Prefect's own setting stands
    (``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``, 180 s by default). Environment variables
    cannot switch the heartbeat off (None is not an integer), hence a settings context.
    """
    where = apply()
    if os.environ.get("PREFECT_API_URL"):
        yield where
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield where
