"""Invitations laid out as Outlook and Gmail expect, read back by two independent parsers.

The calendar goes twice: as a ``text/calendar; method=...`` part, the last of the
``multipart/alternative`` (what those clients turn into an invitation with Accept and
Decline), and as an ``invite.ics`` attachment for the rest. Each copy is read by
``icalendar`` and by ``ical``, which share no code, and the two copies must say the same.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from journey.mail.render import EventInfo, Mail
from tests.mail.test_render import make_context, make_event, make_message


@dataclass(frozen=True)
class Seen:
    """What a parser read from one calendar: its METHOD, and per event UID, SEQUENCE,
    DTSTART (UTC) and STATUS."""

    method: str
    events: tuple[tuple[str, int, datetime, str], ...]


def by_icalendar(data: bytes) -> Seen:
    calendar = Calendar.from_ical(data)
    events = tuple(
        (
            str(event["UID"]),
            int(event["SEQUENCE"]),
            event.decoded("DTSTART").astimezone(UTC),
            str(event["STATUS"]),
        )
        for event in calendar.walk("VEVENT")
    )
    return Seen(str(calendar["METHOD"]), events)


def by_ical(data: bytes) -> Seen:
    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    events = tuple(
        (
            event.uid or "",
            int(event.sequence or 0),
            datetime.fromisoformat(event.dtstart.isoformat()).astimezone(UTC),
            str(event.status.value if event.status else ""),
        )
        for event in calendar.events
    )
    return Seen(str(calendar.method), events)


def expected(events: tuple[EventInfo, ...], method: str) -> Seen:
    return Seen(
        method,
        tuple(
            (e.uid, e.sequence, e.starts_at, "CANCELLED" if e.cancelled else "CONFIRMED")
            for e in events
        ),
    )


def parts(mail: Mail) -> tuple[EmailMessage, EmailMessage, EmailMessage, EmailMessage]:
    """The message's text, HTML, calendar and attachment parts, after checking the layout:
    mixed[alternative[text/plain, text/html, text/calendar], attachment]."""
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert isinstance(message, EmailMessage) and message.defects == []
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert isinstance(alternative, EmailMessage) and isinstance(attachment, EmailMessage)
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, calendar = alternative.iter_parts()
    assert [p.get_content_type() for p in (plain, html, calendar)] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert not calendar.is_attachment() and calendar.get_content_charset() == "utf-8"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "application/ics"
    assert list(message.iter_attachments()) == [attachment]
    assert message.get_body(("plain",)) is plain and message.get_body(("html",)) is html
    assert isinstance(plain, EmailMessage) and isinstance(html, EmailMessage)
    assert isinstance(calendar, EmailMessage)
    return plain, html, calendar, attachment


def read_both(mail: Mail) -> tuple[str, bytes, bytes]:
    """The calendar part's method parameter, and the bytes of both calendar copies."""
    _, _, calendar, attachment = parts(mail)
    inline, attached = calendar.get_payload(decode=True), attachment.get_payload(decode=True)
    assert isinstance(inline, bytes) and isinstance(attached, bytes)
    return str(calendar.get_param("method")), inline, attached


CASES: dict[str, dict[str, Any]] = {
    "welcome, two training days": {},
    "session-updated, moved": {
        "template": "session-updated",
        "events": (make_event(sequence=1, starts_at=datetime(2026, 12, 10, 17, 30, tzinfo=UTC)),),
    },
    "session-cancelled": {
        "template": "session-cancelled",
        "events": (make_event(sequence=2, cancelled=True),),
    },
    "one of two cancelled": {
        "template": "session-updated",
        "events": (make_event(), make_event(uid="b@leadership-journey", cancelled=True)),
    },
}


@pytest.mark.parametrize("case", CASES)
def test_both_copies_of_the_invitation_read_the_same_with_two_parsers(case: str) -> None:
    ctx = make_context(**CASES[case])
    method, inline, attached = read_both(make_message(ctx))
    assert inline == attached
    want = expected(ctx.events, "CANCEL" if case == "session-cancelled" else "REQUEST")
    for data in (inline, attached):
        assert by_icalendar(data) == want
        assert by_ical(data) == want
    assert method == want.method  # the part says what the calendar says (RFC 6047)


def test_the_calendar_part_is_what_outlook_and_gmail_look_for() -> None:
    mail = make_message()
    _, _, calendar, _ = parts(mail)
    assert b'\r\nContent-Type: text/calendar; charset="UTF-8"; method=REQUEST\r\n' in mail.data
    assert (calendar.get_param("method"), calendar.get_param("charset")) == ("REQUEST", "UTF-8")
    assert calendar["Content-Disposition"] is None  # shown as the invitation, not a file
    assert calendar["Content-Transfer-Encoding"] == "base64"
    assert mail.data.isascii()  # 7-bit, whatever the server offers
    assert max(len(line) for line in mail.data.split(b"\r\n")) <= 998  # RFC 5322


def test_the_text_and_html_stay_as_before() -> None:
    plain, html, _, _ = parts(make_message())
    assert plain.get_content().startswith("Dear Ann Ridley,")
    assert "<p>Dear Ann Ridley,</p>" in html.get_content()


def test_a_notice_without_an_invitation_has_no_calendar_at_all() -> None:
    mail = make_message(template="stage-reminder", events=(), attach_ics=False)
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert b"text/calendar" not in mail.data and b"invite.ics" not in mail.data
