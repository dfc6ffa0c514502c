"""Name the SMTP faults that are the set-up's, not the line's: a certificate not trusted
or for another host name, a TLS handshake that fails, a server without STARTTLS, a login
the server requires but none is configured.

Each is permanent for the run: it will not mend itself between back-off tries, so
:mod:`journey.mail.transport` raises ``SmtpUnavailable`` at once with the sentence made
here, which names the fault, the server (``host:port``) and the setting that mends it. The
organiser reads it in the command's output and in each pending notice's ``last_error``;
none holds the password (no exception aiosmtplib raises carries it).
"""

from __future__ import annotations

import ssl

import aiosmtplib

__all__ = ["sender_fault", "setup_fault"]

# OpenSSL's verify codes (X509_V_ERR_*): the chain ends at an authority nobody trusts here.
_UNTRUSTED = {18, 19, 20, 21, 27}  # self-signed leaf or in chain, unknown issuer, untrusted
_NAME_MISMATCH = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_NO_STARTTLS = "starttls extension not supported"
_NO_AUTH = ("auth extension", "no suitable authentication method")


def setup_fault(exc: BaseException, where: str) -> str | None:
    """What is wrong with the set-up, when ``exc`` (raised by connecting to ``where``) is
    a certificate, TLS, STARTTLS or AUTH fault; None for anything else (a line fault)."""
    tls = _ssl_error(exc)
    if isinstance(tls, ssl.SSLCertVerificationError):
        return _certificate_fault(tls, where)
    if tls is not None:
        why = tls.reason or str(tls)
        return (
            f"TLS with the SMTP server at {where} failed ({why}): check JOURNEY_SMTP_PORT and "
            "JOURNEY_SMTP_SSL (implicit TLS, port 465) or JOURNEY_SMTP_STARTTLS (port 587)"
        )
    text = str(exc).lower()
    if isinstance(exc, aiosmtplib.SMTPException) and _NO_STARTTLS in text:
        return (
            f"the SMTP server at {where} does not offer STARTTLS: check JOURNEY_SMTP_PORT "
            "(587 for STARTTLS; 465 with JOURNEY_SMTP_SSL=true), or fix the server"
        )
    if isinstance(exc, aiosmtplib.SMTPException) and any(n in text for n in _NO_AUTH):
        return (
            f"the SMTP server at {where} offers no login this client can use here ({exc}): "
            "check JOURNEY_SMTP_STARTTLS or JOURNEY_SMTP_SSL (servers offer a login over "
            "TLS only), or unset JOURNEY_SMTP_USERNAME if it needs none"
        )
    return None


def sender_fault(reply: str, where: str) -> str | None:
    """What is wrong with the set-up when MAIL FROM got ``reply`` (one line, ``530 …``):
    a login or STARTTLS the server requires first; None for any other refusal."""
    if not reply.startswith("530"):
        return None
    if "starttls" in reply.lower():
        return (
            f"the SMTP server at {where} requires STARTTLS first ({reply}): "
            "set JOURNEY_SMTP_STARTTLS=true"
        )
    return (
        f"the SMTP server at {where} requires a login ({reply}): "
        "set JOURNEY_SMTP_USERNAME and JOURNEY_SMTP_PASSWORD"
    )


def _certificate_fault(error: ssl.SSLCertVerificationError, where: str) -> str:
    why = error.verify_message or error.reason or str(error)
    text = why.lower()
    if error.verify_code in _NAME_MISMATCH or "mismatch" in text:
        return (
            f"the SMTP server's certificate at {where} is for another host name ({why}): "
            "set JOURNEY_SMTP_HOST to a name the certificate holds, or fix the server"
        )
    if error.verify_code in _UNTRUSTED or "self-signed" in text or "local issuer" in text:
        return (
            f"the SMTP server's certificate at {where} is not trusted (self-signed or "
            f"unknown authority: {why}): set JOURNEY_SMTP_CA_FILE to its authority's "
            "certificate, or fix the server"
        )
    return f"the SMTP server's certificate at {where} failed the check ({why}): fix the server"


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` (aiosmtplib wraps the one from connecting)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
