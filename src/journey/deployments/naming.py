"""The names the deployments go by. Nothing here imports Prefect: ``journey deploy`` reads
:data:`SECRET_BLOCK` for its option's default when the command line is built."""

from __future__ import annotations

import re

SWEEP_FLOW = "send-reminders"
SWEEP_PREFIX = "daily"
ON_DEMAND = "organiser"
REFRESH_FLOW = "refresh-deployments"
REFRESH = "refresh"
TAGS = ["leadership-journey"]
SECRET_BLOCK = "journey-smtp-password"  # noqa: S105  (a block's name, not a password)


def zone_slug(zone: str) -> str:
    """``Europe/London`` -> ``europe-london``; ``Etc/GMT+5`` -> ``etc-gmtplus5`` (so it
    differs from ``Etc/GMT-5``, ``etc-gmt-5``)."""
    return re.sub(r"[^a-z0-9]+", "-", zone.lower().replace("+", "plus")).strip("-")


def sweep_name(zone: str) -> str:
    """The send-reminders deployment of a time zone: ``daily-europe-london``."""
    return f"{SWEEP_PREFIX}-{zone_slug(zone)}"


def is_sweep(name: str) -> bool:
    """Whether a send-reminders deployment name is one of ours: ``daily-<zone>``, or the
    single ``daily`` of earlier versions."""
    return name == SWEEP_PREFIX or name.startswith(f"{SWEEP_PREFIX}-")
