"""The body of a notice's email, written as the bytes that go on the wire (CRLF line ends).

The layout is fixed, so it is written directly rather than built as an ``EmailMessage``
(docs/PERFORMANCE.md). Without an invitation the body is a ``multipart/alternative`` of
the text and HTML. With one, it is what Outlook and Gmail show as an invitation (with
Accept and Decline), and what other clients still offer as a file::

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST (or CANCEL)   <- read by Outlook, Gmail, Apple Mail
      application/ics, attachment "invite.ics"     <- the same calendar, for the rest

The attachment is ``application/ics`` (as Gmail's own invitations are), so no client
takes it for a second invitation. Bodies are quoted-printable UTF-8, so an .eml in the
outbox folder stays readable; the calendar is base64, so the message stays 7-bit and
its lines short, whatever the server.
"""

from __future__ import annotations

import base64
import binascii

_CRLF = b"\r\n"


def multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    """A multipart entity (its Content-Type line, then its parts) with ``boundary``."""
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n'
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + _CRLF for part in parts)
    return head.encode("ascii") + body + f"--{boundary}--\r\n".encode("ascii")


def text_part(body: str, subtype: str) -> bytes:
    """A ``text/<subtype>`` part, UTF-8, quoted-printable."""
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", _CRLF)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def notice_body(boundary_stem: str, text: str, html: str, ics: bytes | None, method: str) -> bytes:
    """The whole body: the alternatives, and with a calendar (``ics``, whose METHOD is
    ``method``) the layout of the module's docstring."""
    alternatives = [text_part(text, "plain"), text_part(html, "html")]
    if ics is None:
        return multipart("alternative", f"{boundary_stem}-1", alternatives)
    encoded = base64.encodebytes(ics).replace(b"\n", _CRLF)  # lines of 76: well under 998
    calendar = (
        f'Content-Type: text/calendar; charset="UTF-8"; method={method}\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    attachment = (
        'Content-Type: application/ics; name="invite.ics"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        'Content-Disposition: attachment; filename="invite.ics"\r\n\r\n'
    )
    alternatives.append(calendar.encode("ascii") + encoded)
    inner = multipart("alternative", f"{boundary_stem}-1", alternatives)
    return multipart("mixed", f"{boundary_stem}-0", [inner, attachment.encode("ascii") + encoded])
