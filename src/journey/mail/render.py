"""Render a notice from its templates, and wrap it in an email message.

Each notice kind ``K`` is a pair of templates in ``templates/``: ``K.txt`` and ``K.html``.
Both extend a shared layout (``_layout.txt``, ``_layout.html``; a notice to the organiser
extends ``_organiser.*``, which signs it from the system). The subject is the
``{% block subject %}`` of ``K.txt``: it is rendered first, on its own, made one line, and
then passed to both bodies as ``subject``.

Every field of :class:`NoticeContext` is a template variable. People's text (names,
institutions, venues) only ever enters as a variable, never as template source, so it is
inert: escaped in HTML, literal in text, and stripped of line breaks in headers. Printing
a missing value (``None``) is an error rather than the word "None" in someone's inbox.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from email.utils import format_datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from journey.mail._headers import (
    AUTO_SUBMITTED,
    addr_spec,
    header,
    mailbox,
    sanitize_header,
    sender_domain,
    sender_mailbox,
    unsubscribe,
)
from journey.mail._mime import notice_body
from journey.mail.calendar import EventInfo, build_ics, method_of

__all__ = [
    "DigestGroup",
    "EventInfo",
    "Mail",
    "NoticeContext",
    "RenderedNotice",
    "build_message",
    "format_date",
    "format_short_date",
    "format_span",
    "message_id_for",
    "render_notice",
    "sanitize_header",
    "sender_domain",
]

_KIND = re.compile(r"[a-z0-9][a-z0-9-]*")
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class DigestGroup:
    """Part of a daily digest: a heading (a milestone and what it needs, say) and one line
    per trainee it concerns."""

    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class NoticeContext:
    """Everything one notice's templates may show; ``template`` names the notice kind."""

    template: str
    key: str
    to_name: str
    to_email: str
    cohort_id: str
    cohort_title: str
    timezone: str
    organiser_name: str
    organiser_email: str
    trainee_name: str | None = None
    milestone_title: str | None = None
    due_on: date | None = None
    window_opens: date | None = None
    mentor_name: str | None = None
    mentor_email: str | None = None
    learning_set: str | None = None
    events: tuple[EventInfo, ...] = ()
    attach_ics: bool = False
    people: tuple[str, ...] = ()
    eligible: bool | None = None
    missing: tuple[str, ...] = ()
    digest: tuple[DigestGroup, ...] = ()  # a daily digest's items, grouped
    recipient_role: str = "trainee"  # or organiser, mentor, facilitator
    joined_late: bool = False  # a trainee added after the launch (their welcome differs)


@dataclass(frozen=True)
class RenderedNotice:
    """A rendered notice: a one-line subject, both bodies, and the .ics if any."""

    subject: str
    text: str
    html: str
    ics: bytes | None


def format_date(value: date) -> str:
    """A date as people read it: ``Friday 25 September 2026``."""
    if not isinstance(value, date):
        raise ValueError(f"expected a date, got {value!r}")
    return f"{value:%A} {value.day} {value:%B %Y}"


def format_short_date(value: date | EventInfo) -> str:
    """A day as a subject line names it, ``Friday 25 September``: a date, or an event's
    local start day. A bare datetime is refused: its day depends on the time zone."""
    if isinstance(value, EventInfo):
        value = value.starts_at.astimezone(ZoneInfo(value.timezone)).date()
    elif isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"expected a date or an event, got {value!r}")
    return f"{value:%A} {value.day} {value:%B}"


def format_span(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """A time span in local time: ``Friday 25 September 2026, 09:30-16:30`` (an en dash).

    Both ends must be timezone-aware; a span over midnight names both days.
    """
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    if start.date() == end.date():
        return f"{format_date(start.date())}, {start:%H:%M}–{end:%H:%M}"
    return f"{format_date(start.date())}, {start:%H:%M} – {format_date(end.date())}, {end:%H:%M}"


def _when(event: EventInfo) -> str:
    return format_span(event.starts_at, event.ends_at, event.timezone)


def _finalize(value: object) -> object:
    if value is None:
        raise ValueError("a template printed a value that is missing (None) for this notice")
    return value


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("journey", "templates"),
        auto_reload=False,  # templates do not change while running: no stat() per render
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["longdate"] = format_date
    env.filters["shortdate"] = format_short_date
    env.filters["when"] = _when
    return env


@cache
def _template(name: str) -> Template:
    """A compiled template, looked up once (Jinja2's own lookup costs more than a cache)."""
    return _environment().get_template(name)


def message_id_for(key: str, domain: str) -> str:
    """The Message-ID for a notice key, under ``domain`` (the sender's, see
    :func:`sender_domain`): the same key and sender always give the same id, so a resend
    after a crash is recognisable (docs/RELIABILITY.md)."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _variables(ctx: NoticeContext) -> dict[str, Any]:
    return {field.name: getattr(ctx, field.name) for field in fields(ctx)}


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


def render_notice(ctx: NoticeContext, *, stamp: datetime | None = None) -> RenderedNotice:
    """Render a notice's subject, text and HTML bodies, and its calendar invitation.

    The .ics is built when ``ctx.attach_ics`` is set and there are events; ``stamp`` (the
    DTSTAMP, e.g. when the notice was queued) is then required, so that rendering the same
    notice twice gives the same bytes. Raises ``ValueError`` for a kind that is not a plain
    name, a missing stamp, or a value the templates print but the context leaves as None;
    ``jinja2.TemplateNotFound`` for a kind with no templates.
    """
    if not _KIND.fullmatch(ctx.template):
        raise ValueError(f"not a notice kind: {ctx.template!r}")
    variables = _variables(ctx)
    text_template = _template(f"{ctx.template}.txt")
    subject_block = text_template.blocks.get("subject")
    if subject_block is None:
        raise ValueError(f"template {ctx.template}.txt has no subject block")
    subject = sanitize_header("".join(subject_block(text_template.new_context(variables))))
    variables["subject"] = subject
    text = _tidy(text_template.render(variables))
    html = _template(f"{ctx.template}.html").render(variables)
    ics = None
    if ctx.attach_ics and ctx.events:
        if stamp is None:
            raise ValueError(f"notice {ctx.key!r} attaches a calendar entry but has no stamp")
        ics = build_ics(
            ctx.events,
            organiser_name=ctx.organiser_name,
            organiser_email=ctx.organiser_email,
            attendee_email=ctx.to_email,
            stamp=stamp,
        )
    return RenderedNotice(subject=subject, text=text, html=html, ics=ics)


def build_message(
    ctx: NoticeContext, rendered: RenderedNotice, *, sender: str, date: datetime
) -> Mail:
    """Wrap a rendered notice in an email: text and HTML alternatives, plus the invitation.

    ``date`` is the Date header (timezone-aware; no clock is read here). The Message-ID
    comes from the notice key, under the sender's domain, so a resend after a crash
    carries the same id, and the same inputs give the same bytes. When the organiser's
    address is known, replies go to them and ``List-Unsubscribe`` asks them, by mail, to
    stop the recipient's emails. ``Auto-Submitted`` keeps out-of-office replies away
    (RFC 3834). Raises ``ValueError`` naming the notice when the recipient has no usable
    address, or when the sender has no domain.

    The MIME layout is fixed, so it is written directly, once, as the bytes that go on
    the wire: building an ``EmailMessage`` and serialising it cost about 2.4 ms a
    message, more than sending it (docs/PERFORMANCE.md). Header lines are written by
    :mod:`journey.mail._headers`, the body (and its layout) by :mod:`journey.mail._mime`.
    """
    if date.tzinfo is None:
        raise ValueError("the Date of a message must be timezone-aware")
    to_addr = addr_spec(ctx.to_email, ctx.key)
    lines = [
        header("From", sender_mailbox(sender)),
        mailbox("To", sanitize_header(ctx.to_name), to_addr),
    ]
    if ctx.organiser_email:
        organiser = addr_spec(ctx.organiser_email, ctx.key)
        lines.append(mailbox("Reply-To", sanitize_header(ctx.organiser_name), organiser))
        if organiser.lower() != to_addr.lower():  # the organiser's own digest: no one to ask
            lines.append(
                unsubscribe(organiser=organiser, recipient=to_addr, cohort_id=ctx.cohort_id)
            )
    message_id = message_id_for(ctx.key, sender_domain(sender))
    lines += [
        header("Subject", sanitize_header(rendered.subject)),
        header("Date", format_datetime(date)),
        header("Message-ID", message_id),
        header("X-Journey-Key", sanitize_header(ctx.key)),
        AUTO_SUBMITTED,
        "MIME-Version: 1.0\r\n",
    ]
    ics, tag = rendered.ics, _content_tag(rendered)
    method = "" if ics is None else method_of(ics)
    body = notice_body(tag, rendered.text, rendered.html, ics, method)
    data = "".join(lines).encode("ascii") + body
    return Mail(message_id=message_id, recipients=(to_addr,), data=data)


@dataclass(frozen=True)
class Mail:
    """A message ready to go: its bytes as sent (CRLF line ends), envelope recipients and
    Message-ID. The same notice always gives the same bytes."""

    message_id: str
    recipients: tuple[str, ...]
    data: bytes


def _content_tag(rendered: RenderedNotice) -> str:
    """The stem of the MIME boundaries, derived from the content: same notice, same bytes."""
    digest = hashlib.sha256()
    for body in (rendered.subject, rendered.text, rendered.html):
        digest.update(body.encode("utf-8") + b"\0")
    digest.update(rendered.ics or b"")
    return f"==journey-{digest.hexdigest()[:32]}"
