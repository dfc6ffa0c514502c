"""Sessions in a cohort file: ``2026-09-25T09:30/16:30`` read as aware local datetimes.

A slot is a start date and time and an end time on the same day, or an end date and time:
``YYYY-MM-DDTHH:MM/HH:MM`` or ``YYYY-MM-DDTHH:MM/YYYY-MM-DDTHH:MM``, in the cohort's zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from journey.specs import SlotSpec

DEFAULT_TIMEZONE = "Europe/London"
SLOT_FORMAT = "YYYY-MM-DDTHH:MM/HH:MM"
_SLOT = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/(?:(\d{4}-\d\d-\d\d)T)?(\d\d:\d\d)$")


class SlotError(ValueError):
    """A slot that cannot be read, or that ends before it starts."""


def zone_problem(name: object) -> str | None:
    """Why ``name`` is not a usable IANA time zone, or None if it is one."""
    if isinstance(name, str) and name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return None
    return f"unknown time zone {str(name)!r} (use an IANA name such as {DEFAULT_TIMEZONE})"


def parse_slot(value: object, zone: ZoneInfo) -> SlotSpec:
    """The slot written as ``value``, in ``zone``; raises :class:`SlotError` if it is bad."""
    bad = SlotError(f"bad date {str(value)!r}: expected {SLOT_FORMAT}")
    match = _SLOT.match(value) if isinstance(value, str) else None
    if match is None:
        raise bad
    start_day, start_clock, end_day, end_clock = match.groups()
    try:
        starts = datetime.strptime(f"{start_day}T{start_clock}", "%Y-%m-%dT%H:%M")
        ends = datetime.strptime(f"{end_day or start_day}T{end_clock}", "%Y-%m-%dT%H:%M")
    except ValueError:
        raise bad from None
    slot = SlotSpec(_local(starts, zone), _local(ends, zone))
    if slot.ends_at < slot.starts_at:
        raise SlotError("ends before it starts")
    if slot.ends_at == slot.starts_at:
        raise SlotError("ends when it starts")
    return slot


def _local(wall: datetime, zone: ZoneInfo) -> datetime:
    """``wall`` clock time in ``zone``; a time the clocks skip over is an error."""
    aware = wall.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise SlotError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks go forward)"
        )
    return aware


def order_problems(slots: Sequence[SlotSpec | None]) -> list[tuple[int, str]]:
    """(index, message) for each slot that starts before the one before it ends."""
    problems: list[tuple[int, str]] = []
    previous: SlotSpec | None = None
    for index, slot in enumerate(slots):
        if slot is None:
            continue
        if previous is not None and slot.starts_at < previous.ends_at:
            problems.append((index, "starts before the one before it ends; list them in order"))
        previous = slot
    return problems
