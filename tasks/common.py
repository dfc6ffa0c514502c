"""What every task needs: the database URL and settings of this process, and the clock."""

from __future__ import annotations

from datetime import datetime

from journey.settings import Settings, get_settings
from journey.timeutil import wall_clock


def settings() -> Settings:
    return get_settings()


def resolve_now(now: datetime | None) -> datetime:
    """The time a flow was asked to act at; the wall clock when none was given."""
    return now if now is not None else wall_clock()
