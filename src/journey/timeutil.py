"""Reading times from people, and the one place the wall clock is read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from journey.engine import zone
from journey.errors import BadDate


def wall_clock() -> datetime:
    """The real time, in UTC: called only where a user gave no ``--now``."""
    return datetime.now(UTC)


def parse_moment(text: str, tz: str = "Europe/London") -> datetime:
    """``2026-10-02``, ``2026-10-02T09:00`` (local to ``tz``) or with an offset, as UTC."""
    try:
        if len(text) == 10:
            value = datetime.combine(date.fromisoformat(text), time(12, 0))
        else:
            value = datetime.fromisoformat(text)
    except ValueError:
        raise BadDate(
            f"cannot read {text!r} as a time; use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz))
    return value.astimezone(UTC)


def parse_day(text: str) -> date:
    """A calendar date, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadDate(f"cannot read {text!r} as a date; use YYYY-MM-DD") from None
