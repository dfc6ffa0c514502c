"""Calendar invitations (.ics) for training days, learning-set sessions and the graduation.

One VCALENDAR with one VEVENT per event, times in UTC. The same inputs always give the
same bytes: nothing here reads the clock; DTSTAMP is the ``stamp`` passed in. A session
that moves keeps its UID and gets a higher SEQUENCE, so calendars update the entry; a
cancelled session is sent with STATUS:CANCELLED (METHOD:CANCEL when all are cancelled).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, vCalAddress

if TYPE_CHECKING:
    from journey.mail.render import EventInfo

PRODID = "-//Leadership Journey//journey//EN"


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC)


def _param(text: str) -> str:
    """A parameter value (CN): one line, no double quotes or control characters."""
    kept = "".join(
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char
        for char in text.replace('"', "'")
    )
    return " ".join(kept.split())


def _address(email: str, name: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{_param(email)}")
    if name:
        address.params["CN"] = _param(name)
    return address


def method_for(events: Sequence[EventInfo]) -> str:
    """``CANCEL`` when every event is cancelled, else ``REQUEST``."""
    return "CANCEL" if events and all(event.cancelled for event in events) else "REQUEST"


def build_ics(
    events: Sequence[EventInfo],
    *,
    organiser_name: str,
    organiser_email: str,
    attendee_email: str,
    stamp: datetime,
) -> bytes:
    """Build one calendar (METHOD REQUEST or CANCEL) holding a VEVENT per event.

    ``stamp`` becomes every DTSTAMP; all datetimes must be timezone-aware. Raises
    ``ValueError`` when there are no events or a time is naive.
    """
    if not events:
        raise ValueError("a calendar invitation needs at least one event")
    dtstamp = _utc(stamp, "the stamp")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method_for(events))
    for info in events:
        event = Event()
        event.add("uid", info.uid)
        event.add("sequence", info.sequence)
        event.add("dtstamp", dtstamp)
        event.add("dtstart", _utc(info.starts_at, f"the start of {info.uid}"))
        event.add("dtend", _utc(info.ends_at, f"the end of {info.uid}"))
        event.add("summary", info.title)
        event.add("location", info.venue)
        event["organizer"] = _address(organiser_email, organiser_name)
        attendee = _address(attendee_email)
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        attendee.params["PARTSTAT"] = "NEEDS-ACTION"
        event.add("attendee", attendee)
        event.add("status", "CANCELLED" if info.cancelled else "CONFIRMED")
        event.add("transp", "TRANSPARENT" if info.cancelled else "OPAQUE")
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical
