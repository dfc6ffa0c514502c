"""Mail header lines, written as the bytes that go on the wire (CRLF line ends).

People's text reaches a header only through :func:`sanitize_header`, so a name can never
start a header of its own. Short ASCII goes as it is; long ASCII is folded at its spaces;
anything else is encoded (RFC 2047). A URL header is neither: see :func:`unsubscribe`.

The calendar keeps its lines whole with :func:`unbroken` too: this module imports nothing
of the package, so ``render`` and ``calendar`` both import it, and neither the other.
"""

from __future__ import annotations

import email.policy
import re
import unicodedata
from email.header import Header
from email.utils import formataddr, parseaddr
from functools import lru_cache
from urllib.parse import quote

MAX_LINE = 998  # RFC 5322: no line may be longer, CRLF excluded
AUTO_SUBMITTED = "Auto-Submitted: auto-generated\r\n"  # RFC 3834: not for auto-replies
_LONGEST_WORD = 900  # a word this long goes through the standard library's folding
_SHORT = 80  # a header line this long (CRLF included) goes as it is
_ADDR_SPEC = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LITERAL = re.compile(r"\[[!-Z^-~]*\]")
_BREAKING = frozenset({"Cc", "Zl", "Zp"})  # control characters, line and paragraph separators


def unbroken(text: str) -> str:
    """``text`` with every control character and line or paragraph separator as a space,
    so it cannot end the header or calendar line it is written on. Nothing else changes:
    a calendar TEXT value keeps its spacing (see :func:`sanitize_header` for headers)."""
    if text.isprintable():  # no control characters or separators: the common case
        return text
    return "".join(" " if unicodedata.category(char) in _BREAKING else char for char in text)


def sanitize_header(value: str) -> str:
    """Make text safe for a mail header: no CR/LF or other control characters, one line.

    Line and paragraph separators and every control character become spaces
    (:func:`unbroken`); runs of whitespace collapse to one space; the ends are stripped.
    """
    return " ".join(unbroken(value).split())


def addr_spec(addr: str, key: str) -> str:
    """An address as the envelope and headers take it, or ValueError naming the notice."""
    cleaned = sanitize_header(addr)
    if not (cleaned.isascii() and _ADDR_SPEC.fullmatch(cleaned)):
        raise ValueError(f"notice {key!r}: not an email address: {addr!r}")
    return cleaned


@lru_cache(maxsize=8)  # one sender for every message: parse it once
def sender_mailbox(value: str) -> str:
    """The From mailbox, ``Name <addr>``, or ValueError when it holds no address. A
    domain that is not ASCII is written IDNA-encoded, as :func:`sender_domain` gives it."""
    name, addr = parseaddr(sanitize_header(value))
    if not addr:
        raise ValueError(f"the sender is not an email address: {value!r}")
    local, at, domain = addr.rpartition("@")
    if at and not domain.isascii():
        addr = f"{local}@{sender_domain(value)}"
    return formataddr((name, addr))


@lru_cache(maxsize=8)
def sender_domain(value: str) -> str:
    """The domain of the sender's address, for the right-hand side of a Message-ID:
    lower-cased, IDNA-encoded when not ASCII (``Bücher.example`` gives
    ``xn--bcher-kva.example``), a trailing root dot dropped.

    Ids under the sender's own domain are what spam filters expect (an ``.invalid`` one
    counts against a message). ValueError when the sender has no domain a Message-ID
    can carry.
    """
    local, at, domain = parseaddr(sanitize_header(value))[1].rpartition("@")
    domain = domain.lower().removesuffix(".") if local and at else ""
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""  # an empty label, or one over 63 characters
    if not (_DOT_ATOM.fullmatch(domain) or _DOMAIN_LITERAL.fullmatch(domain)):
        raise ValueError(f"the sender's address has no usable domain: {value!r}")
    return domain


def header(name: str, value: str) -> str:
    """One header line (CRLF) for one-line text: as is when short ASCII; folded at its
    spaces when long ASCII; else encoded (RFC 2047, see :func:`_encoded_words`)."""
    line = f"{name}: {value}\r\n"
    if value.isascii() and len(line) <= _SHORT:
        return line
    if value.isascii() and " " in value and max(map(len, value.split(" "))) < _LONGEST_WORD:
        return _folded(name, value)
    if value.isascii():
        return str(email.policy.SMTP.header_factory(name, value).fold(policy=email.policy.SMTP))
    return f"{name}: {_encoded_words(name, value)}\r\n"


def _folded(name: str, value: str) -> str:
    """Long ASCII text folded before its spaces (RFC 5322 2.2.3), lines of at most 78
    where the words allow; unfolding gives the text back exactly. (The standard library's
    folding put a break straight after ``Subject:`` when the text held parentheses, and a
    reader then saw the subject start with a space.)"""
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > _SHORT - 2 and line.strip() not in ("", f"{name}:"):
            lines.append(line)
            line = ""
        line += " " + word
    return "\r\n".join([*lines, line]) + "\r\n"


def mailbox(name: str, display_name: str, addr: str) -> str:
    """An address header line: ``Name <addr>``, the name quoted or encoded as needed."""
    if display_name.isascii():
        return header(name, formataddr((display_name, addr)))
    return f"{name}: {_encoded_words(name, display_name)} <{addr}>\r\n"


def _encoded_words(name: str, text: str) -> str:
    """``text`` as RFC 2047 encoded words (UTF-8, base64), folded onto lines of at most 76.

    The whole text is encoded, spaces too, so the whitespace between two words (which a
    reader drops) is never text's own. The standard library's ``policy.SMTP`` folding
    lost a space of a long non-ASCII name that way, found by a Hypothesis test.
    """
    return Header(text, "utf-8", header_name=name).encode(linesep="\r\n")


def unsubscribe(*, organiser: str, recipient: str, cohort_id: str) -> str:
    """The ``List-Unsubscribe`` line (RFC 2369): a mailto to the organiser whose subject
    names who asks and for which cohort, so a mail client's "unsubscribe" writes the
    request the organiser acts on (``journey person opt-out``). Both addresses are plain
    addr-specs (see :func:`addr_spec`); the URL is percent-encoded (RFC 6068).

    A URL is never folded inside its angle brackets (readers take the whitespace out, and
    :func:`header` would encode a long one as RFC 2047 words, which no client reads as a
    URL): a long one goes on a continuation line of its own. Should even that pass 998
    characters (absurdly long addresses), the subject is left out.
    """
    subject = f"Stop emails to {recipient} ({sanitize_header(cohort_id)})"
    to = f"mailto:{quote(organiser, safe='@+')}"
    url = f"<{to}?subject={quote(subject, safe='@')}>"
    if len(url) + 1 > MAX_LINE:
        url = f"<{to}>"
    line = f"List-Unsubscribe: {url}\r\n"
    return line if len(line) <= _SHORT else f"List-Unsubscribe:\r\n {url}\r\n"
