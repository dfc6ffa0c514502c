"""Reading times from people, and the one place the wall clock is read."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from journey.engine import DEFAULT_TIMEZONE, zone
from journey.errors import BadDate


def wall_clock() -> datetime:
    """The real time, in UTC: called only where a user gave no ``--now``."""
    return datetime.now(UTC)


def parse_moment(text: str, tz: str = DEFAULT_TIMEZONE) -> datetime:
    """``--now``: ``2026-10-02``, ``2026-10-02T09:00`` (local to ``tz``, the zone of the
    cohort the command is about) or with an offset, as UTC.

    A local time the clocks skip in spring (``2027-03-28T01:30`` in London) does not
    exist: refused, with no guess at what was meant. One they pass twice in autumn
    (``2026-10-25T01:30``) is refused too, rather than silently taking the first: the
    message gives both readings with their offsets, either of which is accepted.
    A bare date means noon, which no clock change touches.
    """
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
        value = _local(value, text, tz)
    return value.astimezone(UTC)


def _local(naive: datetime, text: str, tz: str) -> datetime:
    """``naive`` in zone ``tz``, if it names exactly one moment there."""
    first, second = (naive.replace(tzinfo=zone(tz), fold=f) for f in (0, 1))
    if first.astimezone(UTC).astimezone(zone(tz)).replace(tzinfo=None) != naive:
        raise BadDate(
            f"--now {text} does not exist in {tz} (the clocks go forward); give another time"
        )
    if first.utcoffset() != second.utcoffset():
        readings = " or ".join(f"{text}{_offset(t)}" for t in (first, second))
        raise BadDate(
            f"--now {text} happens twice in {tz} (the clocks go back); add the offset: {readings}"
        )
    return first


def _offset(moment: datetime) -> str:
    """``+01:00``: the offset as ``--now`` accepts it."""
    return moment.isoformat()[-6:]


def parse_day(text: str) -> date:
    """A calendar date, ``YYYY-MM-DD``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadDate(f"cannot read {text!r} as a date; use YYYY-MM-DD") from None


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str, least: timedelta, most: timedelta | None = None) -> timedelta:
    """A span of clock time, ``26h``, ``90m``, ``1d2h``, ``45s`` (days, hours, minutes,
    seconds, in that order), from ``least`` to ``most``; else ValueError saying why, with
    an example. (``journey prune --older-than`` counts calendar spans, where ``m`` is a
    month: :mod:`journey.services.retention`.)"""
    found = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or found is None:
        raise ValueError(f"{text!r} is not a duration, e.g. 26h, 90m or 1d2h")
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if duration < least or (most is not None and duration > most):
        span = (
            f"at least {text_of(least)}" if most is None else f"{text_of(least)} to {text_of(most)}"
        )
        raise ValueError(f"{text!r} is out of range: choose {span}")
    return duration


def text_of(duration: timedelta) -> str:
    """A duration as :func:`parse_duration` reads it: ``1d2h``, ``90m``, ``10s``."""
    rest = int(duration.total_seconds())
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"
