"""Offline, quiet defaults for Prefect, set before it is first imported.

Each is only a default: a value already in the environment wins (for example
``PREFECT_API_URL`` pointing at a running server, so runs appear in its UI).
"""

from __future__ import annotations

import os

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
