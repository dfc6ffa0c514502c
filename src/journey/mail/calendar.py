"""Calendar invitations (.ics) for training days, learning-set sessions and the graduation.

One VCALENDAR with one VEVENT per event, times in UTC. The same inputs always give the
same bytes: nothing here reads the clock; DTSTAMP is the ``stamp`` passed in. A session
that moves keeps its UID and gets a higher SEQUENCE, so calendars update the entry; a
cancelled session is sent with STATUS:CANCELLED (METHOD:CANCEL when all are cancelled).

The lines are written here, after RFC 5545: TEXT values escaped (``\\``, ``;``, ``,``,
newlines), parameter values quoted, lines folded at 75 octets without splitting a UTF-8
character, CRLF line ends. A general iCalendar library cost about 1 ms a message, half of
all the work of sending one (docs/PERFORMANCE.md); the tests read what is written here
back with one (icalendar), generated text included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from journey.mail._headers import sanitize_header, unbroken

PRODID = "-//Leadership Journey//journey//EN"
LINE_OCTETS = 75  # longest content line before folding, CRLF excluded (RFC 5545 3.1)
_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", ";": "\\;", ",": "\\,", "\n": "\\n"})
_PARAM_SWAPS = str.maketrans({'"': "'", "\\": "/"})
_METHOD = re.compile(rb"^METHOD:([A-Z-]+)\r$", re.MULTILINE)


@dataclass(frozen=True)
class EventInfo:
    """One calendar event: a training day, a learning-set session, the graduation."""

    uid: str
    sequence: int
    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    cancelled: bool = False


def _utc(value: datetime, what: str) -> str:
    """An aware moment as a UTC DATE-TIME: ``20260925T083000Z``."""
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """A TEXT value: newlines (any style) as ``\\n``; backslash, ``;`` and ``,`` escaped;
    other control characters and line or paragraph separators as spaces (:func:`unbroken`).

    Escaping (RFC 5545 3.3.11) is this value type's own; spacing is kept as written, unlike
    a mail header's (:func:`sanitize_header`), so a title's bytes do not change here."""
    return unbroken(value.replace("\r\n", "\n").replace("\r", "\n").translate(_TEXT_ESCAPES))


def _param(text: str) -> str:
    """A quoted parameter value (CN) on one line, made as a header's is (breaks as spaces,
    runs of spaces as one). A double quote cannot appear in one, so it becomes ``'``; a
    backslash, which some readers take as an escape and RFC 5545 does not, becomes ``/``;
    ``^`` is written ``^^`` (RFC 6868)."""
    return '"' + sanitize_header(text.translate(_PARAM_SWAPS)).replace("^", "^^") + '"'


def _address(email: str) -> str:
    """A CAL-ADDRESS (a mailto: URI) on one line, with nothing that could end the line."""
    return "mailto:" + "".join(c for c in email if c.isprintable() and c not in ' "')


def _fold(line: str) -> bytes:
    """One content line as UTF-8, folded every 75 octets (a CRLF and a space), never
    inside a character."""
    data = line.encode("utf-8")
    if len(data) <= LINE_OCTETS:
        return data + b"\r\n"
    parts = []
    start, limit = 0, LINE_OCTETS
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # a continuation byte: back up to the character's start
            end -= 1
        parts.append(data[start:end])
        start, limit = end, LINE_OCTETS - 1  # continuation lines begin with the space
    parts.append(data[start:])
    return b"\r\n ".join(parts) + b"\r\n"


def method_for(events: Sequence[EventInfo]) -> str:
    """``CANCEL`` when every event is cancelled, else ``REQUEST``."""
    return "CANCEL" if events and all(event.cancelled for event in events) else "REQUEST"


def method_of(ics: bytes) -> str:
    """The METHOD a calendar written by :func:`build_ics` declares: what the
    ``text/calendar`` part's ``method`` parameter must say (RFC 6047 2.4)."""
    found = _METHOD.search(ics)
    if found is None:
        raise ValueError("the calendar declares no METHOD")
    return found.group(1).decode("ascii")


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
    organizer = f"ORGANIZER;CN={_param(organiser_name)}:{_address(organiser_email)}"
    attendee = "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:" + _address(attendee_email)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method_for(events)}",
    ]
    for info in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_text(info.uid)}",
            f"SEQUENCE:{int(info.sequence)}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART:{_utc(info.starts_at, f'the start of {info.uid}')}",
            f"DTEND:{_utc(info.ends_at, f'the end of {info.uid}')}",
            f"SUMMARY:{_text(info.title)}",
            f"LOCATION:{_text(info.venue)}",
            organizer,
            attendee,
            f"STATUS:{'CANCELLED' if info.cancelled else 'CONFIRMED'}",
            f"TRANSP:{'TRANSPARENT' if info.cancelled else 'OPAQUE'}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)
