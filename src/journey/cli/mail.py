"""``journey mail test``: one message through the mail settings, before the first launch.

The message goes the way every notice goes: built by :func:`journey.mail.render.build_message`
(so its headers are a notice's), sent by :func:`journey.mail.transport.send_batch` or
written by :func:`journey.mail.outbox_folder.write_eml_batch`, with the settings delivery
uses (the password from its Prefect Secret block when one is named). So a setting that
would stop the launch's notices (TLS, a login, a certificate authority, a refused sender)
stops this message too, and the error says which. It needs no database and no Prefect.
"""

from __future__ import annotations

import asyncio
import html
import uuid
from datetime import datetime
from typing import Annotated

import typer

from journey.cli._app import NowOption, mail_app, now_from
from journey.errors import BadAddress, DeliveryIncomplete
from journey.mail.outgoing import Outgoing, SendResult
from journey.mail.render import Mail, NoticeContext, RenderedNotice, build_message
from journey.settings import Settings

SUBJECT = "Leadership Journey: test message"


@mail_app.command("test")
def send_test(
    address: Annotated[str, typer.Argument(help="Who gets the test message.")],
    now: NowOption = None,
) -> None:
    """Send one test message to ADDRESS through the mail settings (JOURNEY_SMTP_*, or the
    outbox folder when no JOURNEY_SMTP_HOST is set), the way notices go: the same TLS,
    login, certificate authority and headers. One try, no waiting between tries. Needs no
    database. Exits 75 when the server or outbox folder could not be used (unreachable,
    TLS or the login refused, a 4xx reply: fix the settings or try again later), 1 when
    ADDRESS is not an address or the server refused the message for good (a 5xx reply).
    The password is never printed.

    \b
    Example: journey mail test organiser@example.org
    """
    from journey.tasks.common import settings as delivery_settings

    to = _checked(address)
    config = delivery_settings().model_copy(update={"smtp_retry_delays": []})
    mail = _test_mail(to, config, now_from(now))
    if config.smtp_host:
        result, where = _send(mail, config), config.smtp_server
        _settle(result, where)
        typer.echo(f"Sent a test message to {to} through {where} ({_route(config)}).")
    else:
        _write(mail, config)
        folder = config.outbox_dir.resolve()
        typer.echo(f"Wrote a test message for {to} to the outbox folder {folder}.")


def _checked(address: str) -> str:
    """The address as notices would be sent to it, or :class:`BadAddress` saying why not
    (the check a roster's addresses get)."""
    from journey.cohort.reading import normal_email

    checked, problem = normal_email(address.strip())
    if problem is None:
        return checked
    raise BadAddress(problem if address in problem else f"{address!r}: {problem}")


def _route(config: Settings) -> str:
    """How the message went, in words: ``STARTTLS, logged in as USER`` (never the password)."""
    tls = "implicit TLS" if config.smtp_ssl else "STARTTLS" if config.smtp_starttls else "no TLS"
    login = f"logged in as {config.smtp_username}" if config.smtp_username else "no login"
    return f"{tls}, {login}"


def _test_mail(to: str, config: Settings, date: datetime) -> Mail:
    """The message, with a notice's headers. Its key is new each time: a provider that
    drops a Message-ID it has seen before would otherwise swallow a second test."""
    where = (
        f"the SMTP server {config.smtp_server} ({_route(config)})"
        if config.smtp_host
        else f"the outbox folder {config.outbox_dir.resolve()}"
    )
    text = (
        "This is a test message from Leadership Journey (journey mail test).\n\n"
        f"It went through {where}, from {config.sender}.\n\n"
        "If it reached you, notices will go out the same way. Nothing needs doing.\n"
    )
    body = "".join(f"<p>{html.escape(part)}</p>\n" for part in text.strip().split("\n\n"))
    context = NoticeContext(
        template="mail-test",
        key=f"mail-test:{uuid.uuid4()}",
        to_name="",
        to_email=to,
        cohort_id="",
        cohort_title="",
        timezone="UTC",
        organiser_name="",
        organiser_email="",
    )
    rendered = RenderedNotice(subject=SUBJECT, text=text, html=body, ics=None)
    return build_message(context, rendered, sender=config.sender, date=date)


def _send(mail: Mail, config: Settings) -> SendResult:
    """Send over SMTP; the server being unusable is :class:`DeliveryIncomplete` (75)."""
    from journey.mail.transport import SmtpUnavailable, send_batch

    try:
        (result,) = asyncio.run(send_batch([Outgoing(0, lambda: mail)], config))
    except SmtpUnavailable as exc:
        raise DeliveryIncomplete(str(exc), DeliveryIncomplete.TRY_LATER) from None
    return result


def _settle(result: SendResult, where: str) -> None:
    """A message not sent is an error: 1 when refused for good, else 75 (retry: a 4xx
    reply, the sender refused; held: the server asked to slow down, 4.7.x)."""
    if result.outcome == "failed":
        message = f"the SMTP server at {where} refused the message: {result.detail}"
        raise DeliveryIncomplete(message, DeliveryIncomplete.FAILED_FOR_GOOD)
    if result.outcome != "sent":
        message = f"the SMTP server at {where} did not take the message: {result.detail}"
        raise DeliveryIncomplete(message, DeliveryIncomplete.TRY_LATER)


def _write(mail: Mail, config: Settings) -> None:
    """Write the .eml; a folder that cannot be written is :class:`DeliveryIncomplete` (75)."""
    from journey.mail.outbox_folder import OutboxUnavailable, write_eml_batch

    try:
        write_eml_batch([Outgoing(0, lambda: mail)], config.outbox_dir)
    except OutboxUnavailable as exc:
        raise DeliveryIncomplete(
            f"{exc} (JOURNEY_OUTBOX_DIR)", DeliveryIncomplete.TRY_LATER
        ) from None
