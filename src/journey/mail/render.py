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

import base64
import binascii
import email.policy
import hashlib
import re
import unicodedata
from dataclasses import dataclass, fields
from datetime import date, datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape

from journey.mail.calendar import build_ics, method_for

__all__ = [
    "EventInfo",
    "Mail",
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
        auto_reload=False,  # templates do not change while running: no stat() per render
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


@cache
def _template(name: str) -> Template:
    """A compiled template, looked up once (Jinja2's own lookup costs more than a cache)."""
    return _environment().get_template(name)


def sanitize_header(value: str) -> str:
    """Make text safe for a mail header: no CR/LF or other control characters, one line.

    Line and paragraph separators and every control character become spaces; runs of
    whitespace collapse to one space; the ends are stripped.
    """
    if value.isprintable():  # no control characters or separators: the common case
        return " ".join(value.split())
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
    """Wrap a rendered notice in an email: text and HTML alternatives, plus ``invite.ics``.

    ``date`` is the Date header (timezone-aware; no clock is read here). The Message-ID
    comes from the notice key, so a resend after a crash carries the same id, and the
    same inputs give the same bytes. Replies go to the organiser (when their address is
    known). Raises ``ValueError`` naming the notice when the recipient has no usable address.

    The MIME layout is fixed, so it is written directly, once, as the bytes that go on
    the wire: building an ``EmailMessage`` and serialising it cost about 2.4 ms a
    message, more than sending it (docs/PERFORMANCE.md). Header values that are short
    ASCII go as they are; any other is encoded and folded by the standard library's
    ``policy.SMTP`` (RFC 2047). Bodies are quoted-printable UTF-8, so an .eml in the
    outbox folder stays readable; the .ics is base64.
    """
    if date.tzinfo is None:
        raise ValueError("the Date of a message must be timezone-aware")
    to_addr = _addr_spec(ctx.to_email, ctx.key)
    lines = [
        _header("From", _sender(sender)),
        _mailbox("To", sanitize_header(ctx.to_name), to_addr),
    ]
    if ctx.organiser_email:
        organiser = _addr_spec(ctx.organiser_email, ctx.key)
        lines.append(_mailbox("Reply-To", sanitize_header(ctx.organiser_name), organiser))
    message_id = message_id_for(ctx.key)
    lines += [
        _header("Subject", sanitize_header(rendered.subject)),
        _header("Date", format_datetime(date)),
        _header("Message-ID", message_id),
        _header("X-Journey-Key", sanitize_header(ctx.key)),
        "MIME-Version: 1.0\r\n",
    ]
    tag = _content_tag(rendered)
    body = _multipart(
        "alternative", f"{tag}-1", [_text(rendered.text, "plain"), _text(rendered.html, "html")]
    )
    if rendered.ics is not None:
        body = _multipart("mixed", f"{tag}-0", [body, _invite(rendered.ics, ctx)])
    data = "".join(lines).encode("ascii") + body
    return Mail(message_id=message_id, recipients=(to_addr,), data=data)


@dataclass(frozen=True)
class Mail:
    """A message ready to go: its bytes as sent (CRLF line ends), envelope recipients and
    Message-ID. The same notice always gives the same bytes."""

    message_id: str
    recipients: tuple[str, ...]
    data: bytes


_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
_CRLF = b"\r\n"


def _addr_spec(addr: str, key: str) -> str:
    """An address as the envelope and headers take it, or ValueError naming the notice."""
    cleaned = sanitize_header(addr)
    if not (cleaned.isascii() and _ADDR_SPEC.fullmatch(cleaned)):
        raise ValueError(f"notice {key!r}: not an email address: {addr!r}")
    return cleaned


@lru_cache(maxsize=8)  # one sender for every message: parse it once
def _sender(sender: str) -> str:
    name, addr = parseaddr(sanitize_header(sender))
    if not addr:
        raise ValueError(f"the sender is not an email address: {sender!r}")
    return formataddr((name, addr))


def _header(name: str, value: str) -> str:
    """One header line (CRLF) for one-line text: as is when short ASCII; folded at its
    spaces when long ASCII; else encoded (RFC 2047, see :func:`_encoded_words`)."""
    line = f"{name}: {value}\r\n"
    if value.isascii() and len(line) <= 80:
        return line
    if value.isascii():
        return str(email.policy.SMTP.header_factory(name, value).fold(policy=email.policy.SMTP))
    return f"{name}: {_encoded_words(name, value)}\r\n"


def _mailbox(name: str, display_name: str, addr: str) -> str:
    """An address header line: ``Name <addr>``, the name quoted or encoded as needed."""
    if display_name.isascii():
        return _header(name, formataddr((display_name, addr)))
    return f"{name}: {_encoded_words(name, display_name)} <{addr}>\r\n"


def _encoded_words(name: str, text: str) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, base64), folded onto lines of at most 76.

    The whole text is encoded, spaces too, so the whitespace between two words (which a
    reader drops) is never text's own. The standard library's ``policy.SMTP`` folding
    lost a space of a long non-ASCII name that way, found by a Hypothesis test.
    """
    return Header(text, "utf-8", header_name=name).encode(linesep="\r\n")


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n'
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + _CRLF for part in parts)
    return head.encode("ascii") + body + f"--{boundary}--\r\n".encode("ascii")


def _text(body: str, subtype: str) -> bytes:
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", _CRLF)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def _invite(ics: bytes, ctx: NoticeContext) -> bytes:
    head = (
        f'Content-Type: text/calendar; charset="utf-8"; method="{method_for(ctx.events)}"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="invite.ics"\r\n\r\n'
    )
    return head.encode("ascii") + base64.encodebytes(ics).replace(b"\n", _CRLF)


def _content_tag(rendered: RenderedNotice) -> str:
    """The stem of the MIME boundaries, derived from the content: same notice, same bytes."""
    digest = hashlib.sha256()
    for body in (rendered.subject, rendered.text, rendered.html):
        digest.update(body.encode("utf-8") + b"\0")
    digest.update(rendered.ics or b"")
    return f"==journey-{digest.hexdigest()[:32]}"
