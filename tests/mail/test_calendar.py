"""Calendar invitations: stable UIDs, sequences, methods, and the same bytes every time."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from journey.mail.calendar import build_ics
from tests.mail.test_render import STAMP, make_event


def ics(events: Any, **overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "organiser_name": "Sam Rivers",
        "organiser_email": "organiser@example.org",
        "attendee_email": "ann@example.org",
        "stamp": STAMP,
    }
    values.update(overrides)
    return build_ics(events, **values)


def test_one_event_per_session_with_its_uid_sequence_and_times_in_utc() -> None:
    calendar = Calendar.from_ical(ics([make_event(sequence=3)]))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0"
    assert "Leadership Journey" in str(calendar["PRODID"])
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "mk-2026-training-1@leadership-journey"
    assert event["SEQUENCE"] == 3
    assert event.decoded("DTSTAMP") == STAMP
    assert event.decoded("DTSTART") == datetime(2026, 9, 25, 8, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 9, 25, 15, 30, tzinfo=UTC)
    assert (str(event["SUMMARY"]), str(event["LOCATION"])) == (
        "Two-Day Training, day 1",
        "MK Quaker Centre",
    )
    assert str(event["ORGANIZER"]) == "mailto:organiser@example.org"
    assert event["ORGANIZER"].params["CN"] == "Sam Rivers"
    assert str(event["ATTENDEE"]) == "mailto:ann@example.org"
    assert str(event["STATUS"]) == "CONFIRMED"


def test_same_inputs_give_the_same_bytes() -> None:
    """A golden value, computed once: the bytes written for one event."""
    assert ics([make_event()]) == (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Leadership Journey//journey//EN\r\n"
        b"CALSCALE:GREGORIAN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
        b"UID:mk-2026-training-1@leadership-journey\r\nSEQUENCE:0\r\n"
        b"DTSTAMP:20260901T080000Z\r\nDTSTART:20260925T083000Z\r\nDTEND:20260925T153000Z\r\n"
        b"SUMMARY:Two-Day Training\\, day 1\r\nLOCATION:MK Quaker Centre\r\n"
        b'ORGANIZER;CN="Sam Rivers":mailto:organiser@example.org\r\n'
        b"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:ann@example.org\r\n"
        b"STATUS:CONFIRMED\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    events = [make_event(), make_event(uid="other@leadership-journey")]
    assert ics(events) != ics(events, stamp=STAMP + timedelta(seconds=1))


def test_times_in_other_zones_are_written_in_utc() -> None:
    start = datetime(2026, 9, 25, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    event = make_event(starts_at=start, ends_at=start + timedelta(hours=7))
    data = ics([event])
    assert b"DTSTART:20260925T083000Z" in data and b"DTEND:20260925T153000Z" in data


def test_all_cancelled_is_a_cancel_and_a_mix_stays_a_request() -> None:
    cancelled = make_event(sequence=1, cancelled=True)
    calendar = Calendar.from_ical(ics([cancelled]))
    assert str(calendar["METHOD"]) == "CANCEL"
    assert [str(e["STATUS"]) for e in calendar.walk("VEVENT")] == ["CANCELLED"]
    mixed = Calendar.from_ical(ics([make_event(uid="kept@leadership-journey"), cancelled]))
    assert str(mixed["METHOD"]) == "REQUEST"
    assert [str(e["STATUS"]) for e in mixed.walk("VEVENT")] == ["CONFIRMED", "CANCELLED"]


def test_awkward_text_stays_inside_its_property() -> None:
    hostile = 'Hall "B"; room 2\r\nATTENDEE:mailto:evil@example.org'
    data = ics([make_event(venue=hostile, title=hostile)], organiser_name=hostile)
    [event] = Calendar.from_ical(data).walk("VEVENT")
    assert str(event["LOCATION"]) == hostile.replace("\r\n", "\n")
    assert str(event["ATTENDEE"]) == "mailto:ann@example.org"
    assert b"\r\nATTENDEE:mailto:evil" not in data


def test_naive_times_and_empty_lists_are_refused() -> None:
    with pytest.raises(ValueError, match="must be timezone-aware"):
        ics([make_event()], stamp=datetime(2026, 9, 1, 9, 0))
    with pytest.raises(ValueError, match="must be timezone-aware"):
        ics([make_event(starts_at=datetime(2026, 9, 25, 9, 30))])
    with pytest.raises(ValueError, match="at least one event"):
        ics([])


def as_written(text: str) -> str:
    """What a TEXT value reads back as: one newline style, other breaks as spaces."""
    one_style = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        " " if c != "\n" and unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in one_style
    )


@given(
    title=st.text(max_size=300),
    venue=st.text(max_size=300),
    name=st.text(max_size=120),
)
@example(title="é" * 80, venue="😀" * 40, name="Ann")  # folds fall inside multi-byte characters
@example(title="a;b,c\\d\n", venue="x\r\ny\rz", name='"Q" ;:,')
@example(
    title="C:\\new\\n \\; \\,", venue="\\", name="\\:"
)  # TEXT keeps backslashes; a name has them as /
@example(title="", venue="", name="a^'b ^n ^^")  # RFC 6868 escapes in a parameter value
@settings(max_examples=300, deadline=None)
def test_any_text_reads_back_as_written_in_lines_of_75_octets(
    title: str, venue: str, name: str
) -> None:
    data = ics([make_event(title=title, venue=venue)], organiser_name=name)
    lines = data.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines)
    assert b"\r" not in b"".join(lines) and b"\n" not in b"".join(lines)
    data.decode("utf-8")  # folding never splits a character
    calendar = Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == as_written(title)
    assert str(event["LOCATION"]) == as_written(venue)
    cn = as_written(name).replace('"', "'").replace("\\", "/")
    assert event["ORGANIZER"].params["CN"] == " ".join(cn.split())
    assert str(event["ATTENDEE"]) == "mailto:ann@example.org"
    assert [c.name for c in calendar.subcomponents] == ["VEVENT"]
