"""Render a notice from its templates, and wrap it in an email message.

Each notice kind ``K`` is a pair of templates in ``templates/``: ``K.txt`` and ``K.html``.
Both extend a shared layout (``_layout.txt``, ``_layout.html``). The subject is the
``{% block subject %}`` of ``K.txt``: it is rendered first, on its own, made one line, and
then passed to both bodies as ``subject``.

Every field of :class:`NoticeContext` is a template variable. People's text (names,
institutions, venues) only ever enters as a variable, never as template source, so it is
inert: escaped in HTML, literal in text, and stripped of line breaks in headers. Printing
a missing value (``None``) is an error rather than the word "None" in someone's inbox.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from journey.mail.calendar import build_ics, method_for

__all__ = [
    "EventInfo",
    "NoticeContext",
    "RenderedNotice",
    "build_message",
    "format_date",
    "format_span",
    "message_id_for",
    "render_notice",
    "sanitize_header",
]

_KIND = re.compile(r"[a-z0-9][a-z0-9-]*")
_BLANK_LINES = re.compile(r"\n{3,}")


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
        autoescape=select_autoescape(["html"], default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["longdate"] = format_date
    env.filters["when"] = _when
    return env


def sanitize_header(value: str) -> str:
    """Make text safe for a mail header: no CR/LF or other control characters, one line.

    Line and paragraph separators and every control character become spaces; runs of
    whitespace collapse to one space; the ends are stripped.
    """
    cleaned = "".join(
        " " if unicodedata.category(char) in {"Cc", "Zl", "Zp"} else char for char in value
    )
    return " ".join(cleaned.split())


def message_id_for(key: str, domain: str = "leadership-journey.invalid") -> str:
    """The Message-ID for a notice key: the same key always gives the same id."""
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
    env = _environment()
    variables = _variables(ctx)
    text_template = env.get_template(f"{ctx.template}.txt")
    subject_block = text_template.blocks.get("subject")
    if subject_block is None:
        raise ValueError(f"template {ctx.template}.txt has no subject block")
    subject = sanitize_header("".join(subject_block(text_template.new_context(variables))))
    variables["subject"] = subject
    text = _tidy(text_template.render(variables))
    html = env.get_template(f"{ctx.template}.html").render(variables)
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
) -> EmailMessage:
    """Wrap a rendered notice in an email: text and HTML alternatives, plus ``invite.ics``.

    ``date`` is the Date header (timezone-aware; no clock is read here). The Message-ID
    comes from the notice key, so a resend after a crash carries the same id, and the
    same inputs give the same bytes. Replies go to the organiser (when their address is
    known). Raises ``ValueError`` naming the notice when the recipient has no usable address.
    """
    if date.tzinfo is None:
        raise ValueError("the Date of a message must be timezone-aware")
    message = EmailMessage(policy=email.policy.default)
    message["From"] = sanitize_header(sender)
    message["To"] = _address(ctx.to_name, ctx.to_email, ctx.key)
    if ctx.organiser_email:
        message["Reply-To"] = _address(ctx.organiser_name, ctx.organiser_email, ctx.key)
    message["Subject"] = sanitize_header(rendered.subject)
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id_for(ctx.key)
    message["X-Journey-Key"] = sanitize_header(ctx.key)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    if rendered.ics is not None:
        message.add_attachment(
            rendered.ics,
            maintype="text",
            subtype="calendar",
            filename="invite.ics",
            params={"method": method_for(ctx.events)},
        )
    _fix_boundaries(message, rendered)
    return message


def _address(name: str, addr: str, key: str) -> Address:
    """A header address, or ValueError naming the notice when ``addr`` is not one."""
    try:
        return Address(display_name=sanitize_header(name), addr_spec=sanitize_header(addr))
    except (ValueError, IndexError, HeaderParseError):
        raise ValueError(f"notice {key!r}: not an email address: {addr!r}") from None


def _fix_boundaries(message: EmailMessage, rendered: RenderedNotice) -> None:
    """Derive MIME boundaries from the content, so the same notice gives the same bytes."""
    digest = hashlib.sha256()
    for body in (rendered.subject, rendered.text, rendered.html):
        digest.update(body.encode("utf-8") + b"\0")
    digest.update(rendered.ics or b"")
    for index, part in enumerate(p for p in message.walk() if p.is_multipart()):
        part.set_boundary(f"==journey-{digest.hexdigest()[:32]}-{index}")
