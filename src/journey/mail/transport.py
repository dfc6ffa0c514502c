"""Deliver messages over a few SMTP connections per batch (an outbox folder instead:
:mod:`journey.mail.outbox_folder`).

Outcomes per message: ``sent``; ``failed`` (the server refused it for good, a 5xx reply,
or it could not be built); ``retry`` (a 4xx reply or a dropped line outlasted every
back-off delay; leave it pending); ``held`` (the server asked to slow down with a 4.7.x
reply: this and every message not yet taken stay pending, no attempt counted, and the
batch takes no more). ``on_result`` is called as soon as each outcome is
known, so the caller can record sends while the batch goes on.

Each message is built (rendered) just before it is sent, in the same event loop as the
connections: while one connection waits for the server's reply, the next message is
built for another. The server, not the client, limits a single connection here (see
docs/PERFORMANCE.md), so a few connections keep both busy.
Passwords appear in no message, log line or exception, and a server's reply is kept
without the addresses it quotes (:func:`journey.mail.redact.redact`): replies end up in
the outbox's ``last_error``, and in Prefect's logs and events.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any, TypeVar

import aiosmtplib

from journey.mail.outgoing import LOST_CLAIM, OnResult, Outgoing, SendResult, build_or_fail
from journey.mail.redact import redact
from journey.mail.render import Mail
from journey.mail.setup_faults import sender_fault, setup_fault
from journey.settings import Settings, ca_context
from journey.smtp_limit import SlotUnavailable, smtp_slot

__all__ = ["SmtpUnavailable", "send_batch"]

Sleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")

# The line dropped or timed out: try again on a fresh connection.
_LINE_ERRORS = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    OSError,
)


class SmtpUnavailable(Exception):
    """The SMTP server could not be reached, or cannot be used as configured (its
    certificate, STARTTLS, the login); nothing more is sent. The message names the fault,
    the server and the mend, never the password."""


class _SenderRefused(Exception):
    """MAIL FROM got a 5xx: no message in the batch can go, and none is at fault."""

    def __init__(self, detail: str, attempts: int) -> None:
        super().__init__(detail)
        self.detail, self.attempts = detail, attempts


class _SlowDown(Exception):
    """A 4.7.x "too many messages" reply: the server is pacing this sender, not judging
    the message. The batch takes no more messages; the rest are held back, pending."""

    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.detail = f"the mail server asked to slow down ({reply})"


_SLOW_DOWN_CODES = frozenset({421, 450, 451, 452})
_SLOW_DOWN_STATUS = re.compile(r"\s*4\.7\.\d{1,3}\b")  # RFC 3463: 4.7.x, security or policy


def _slow_down(exc: Exception) -> str | None:
    """The server's reply when ``exc`` is a "slow down" (421/450/451/452 with enhanced
    status 4.7.x, e.g. ``451 4.7.1 Too many messages``), else None. At RCPT TO, every
    refusal must be one."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        replies = [(r.code, r.message) for r in exc.recipients]
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        replies = [(exc.code, exc.message)]
    else:
        return None
    slow = all(
        code in _SLOW_DOWN_CODES and _SLOW_DOWN_STATUS.match(message) for code, message in replies
    )
    return _reply(*replies[0]) if replies and slow else None


def _reply(code: int, message: str) -> str:
    """A server's reply on one line, without the addresses it quotes."""
    return redact(" ".join(f"{code} {message}".split()))


def _classify(exc: Exception) -> tuple[bool, str]:
    """``(permanent, detail)`` for an error raised while sending one message; the detail
    holds no address (an exception's text may quote one)."""
    permanent, detail = _judge(exc)
    return permanent, redact(detail)


def _judge(exc: Exception) -> tuple[bool, str]:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        detail = "; ".join(_reply(r.code, r.message) for r in exc.recipients)
        return all(code >= 500 for code in codes), detail
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return False, _reply(exc.code, exc.message)  # on reconnecting: not this message's fault
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code >= 500, _reply(exc.code, exc.message)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return False, f"connection lost: {exc}"
    if isinstance(exc, _LINE_ERRORS):
        return False, str(exc) or type(exc).__name__
    return True, str(exc)  # SMTPNotSupported, ValueError (an address that cannot be sent)


def _client(settings: Settings) -> aiosmtplib.SMTP:
    """A client for the configured server; certificates are always checked, against
    JOURNEY_SMTP_CA_FILE's authorities when it is set (this connection only), else the
    system's trust store."""
    password = settings.smtp_password
    ca_file = settings.smtp_ca_file
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.effective_smtp_port,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        use_tls=settings.smtp_ssl,
        start_tls=settings.smtp_starttls and not settings.smtp_ssl,
        timeout=settings.smtp_timeout,
        tls_context=ca_context(ca_file) if ca_file is not None else None,
    )


@dataclass(frozen=True)
class _TryAgain:
    """A try that failed in a way worth another (a 4xx reply, a dropped line): why."""

    detail: str


async def _with_backoff(
    attempt: Callable[[int], Awaitable[_T | _TryAgain]], delays: Sequence[float], sleep: Sleep
) -> _T | _TryAgain:
    """``attempt(0)``, then again after each back-off delay while it says :class:`_TryAgain`;
    the first other outcome, or the last :class:`_TryAgain` once every delay is spent. The one
    retry policy of both connecting and sending; an error ``attempt`` raises ends it."""
    outcome = await attempt(0)
    for number, delay in enumerate(delays, start=1):
        if not isinstance(outcome, _TryAgain):
            break
        await sleep(delay)
        outcome = await attempt(number)
    return outcome


async def _connect(client: aiosmtplib.SMTP, settings: Settings, sleep: Sleep) -> None:
    """Open the batch's connection, with the back-off delays; else raise SmtpUnavailable."""
    where = settings.smtp_server
    delays = settings.smtp_retry_delays
    outcome = await _with_backoff(lambda _: _connect_once(client, settings, where), delays, sleep)
    if isinstance(outcome, _TryAgain):
        tries = len(delays) + 1
        problem = f"could not reach the SMTP server at {where} ({tries} tries)"
        raise SmtpUnavailable(f"{problem}: {outcome.detail}")


async def _connect_once(
    client: aiosmtplib.SMTP, settings: Settings, where: str
) -> _TryAgain | None:
    """One try at connecting: None once connected; SmtpUnavailable when it never can be
    (a certificate, STARTTLS or login fault will not mend itself between tries)."""
    try:
        await client.connect()
    except aiosmtplib.SMTPAuthenticationError as exc:
        user = settings.smtp_username
        problem = f"the SMTP server at {where} refused the login for {user!r}"
        mend = "check JOURNEY_SMTP_USERNAME and JOURNEY_SMTP_PASSWORD"
        raise SmtpUnavailable(f"{problem}: {_reply(exc.code, exc.message)}; {mend}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        fault = setup_fault(exc, where)
        if fault is not None:
            raise SmtpUnavailable(fault) from None
        permanent, detail = _classify(exc)
        if permanent:
            raise SmtpUnavailable(f"the SMTP server at {where} said: {detail}") from None
        return _TryAgain(detail)
    return None


async def _deliver(
    client: aiosmtplib.SMTP,
    notice_id: int,
    mail: Mail,
    envelope_from: str,
    settings: Settings,
    sleep: Sleep,
) -> SendResult:
    """Send one message, retrying 4xx replies and dropped lines after each back-off delay."""
    delays = settings.smtp_retry_delays
    outcome = await _with_backoff(
        lambda attempt: _send_once(client, notice_id, mail, envelope_from, attempt), delays, sleep
    )
    if isinstance(outcome, _TryAgain):
        return SendResult(notice_id, "retry", outcome.detail, len(delays) + 1)
    return outcome


async def _send_once(
    client: aiosmtplib.SMTP, notice_id: int, mail: Mail, envelope_from: str, attempt: int
) -> SendResult | _TryAgain:
    """One try at sending (``attempt`` counts from 0), reconnecting first if the line dropped.
    A 5xx to MAIL FROM raises :class:`_SenderRefused`: it is no message's fault; a 4.7.x
    "slow down" reply at any step raises :class:`_SlowDown`, without waiting to try again."""
    try:
        if not client.is_connected:
            await client.connect()
        refused, _ = await client.sendmail(envelope_from, mail.recipients, mail.data)
    except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
        slow = _slow_down(exc)
        if slow is not None:
            raise _SlowDown(slow) from None
        permanent, detail = _classify(exc)
        if permanent and isinstance(exc, aiosmtplib.SMTPSenderRefused):
            raise _SenderRefused(detail, attempt + 1) from None
        if isinstance(exc, _LINE_ERRORS):
            client.close()
        if permanent:
            return SendResult(notice_id, "failed", detail, attempt + 1)
        return _TryAgain(detail)
    partly = "; ".join(f"{redact(rcpt)}: {_reply(*reply)}" for rcpt, reply in refused.items())
    return SendResult(notice_id, "sent", partly or None, attempt + 1)


class _Batch:
    """One batch being sent: the messages not yet taken, shared by its connections."""

    def __init__(
        self,
        messages: Sequence[Outgoing],
        settings: Settings,
        sleep: Sleep,
        on_result: OnResult | None,
        still_held: Callable[[int], bool] | None,
    ) -> None:
        self.settings, self.sleep = settings, sleep
        self.on_result, self.still_held = on_result, still_held
        self.envelope_from = parseaddr(settings.sender)[1]
        self.todo: Iterator[tuple[int, Outgoing]] = iter(enumerate(messages))
        self.results: list[SendResult | None] = [None] * len(messages)
        self.gone: str | None = None  # why the server can no longer be reached, once it cannot
        self.fault: str | None = None  # a login or STARTTLS it requires first: SmtpUnavailable
        self.slowed: str | None = None  # the server asked to slow down: hold the rest back
        self.done = False  # every message has been taken
        self.waiting: set[asyncio.Task[Any]] = set()  # extra connections waiting for a slot

    async def first(self, group: asyncio.TaskGroup, extra: int) -> None:
        """The batch's first connection: take a slot, connect with the back-off delays
        (else raise :class:`SmtpUnavailable`), start ``extra`` more connections, send."""
        async with _first_slot(self.settings):
            client = _client(self.settings)
            await _connect(client, self.settings, self.sleep)
            for _ in range(extra):
                self.start_extra(group)
            await self.run(client)

    async def run(self, client: aiosmtplib.SMTP) -> None:
        """Send messages over ``client``, connected, until none are left; then quit."""
        try:
            for index, item in self.todo:  # each message is taken by one connection
                result = await self._one(client, item)
                self.results[index] = result
                if self.on_result is not None:
                    self.on_result(result)
        finally:
            await _quit(client)
        self._drained()

    def start_extra(self, group: asyncio.TaskGroup) -> None:
        """Open one more connection in ``group``, once it has a slot of the global limit."""
        task = group.create_task(self._extra())
        self.waiting.add(task)

    async def _extra(self) -> None:
        """An extra connection: take a slot (waiting while the others send), connect and
        send. One that cannot get a slot or connect leaves the batch to the others; one
        still waiting when no message is left is cancelled (:meth:`_drained`)."""
        try:
            async with smtp_slot(self.settings):
                self._not_waiting()  # from here on it is never cancelled
                if self.done:
                    return
                client = _client(self.settings)
                try:
                    await client.connect()
                except (aiosmtplib.SMTPException, OSError):
                    return
                await self.run(client)
        except SlotUnavailable:
            return

    def _not_waiting(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.waiting.discard(task)

    def _drained(self) -> None:
        """No message is left to take: extra connections still waiting for a slot give up
        (Prefect gives back a slot granted to one as it is cancelled)."""
        self.done = True
        for task in self.waiting:
            task.cancel()
        self.waiting.clear()

    async def _one(self, client: aiosmtplib.SMTP, item: Outgoing) -> SendResult:
        if self.slowed is not None:  # no more taken in this run; no attempt counted
            return SendResult(item.notice_id, "held", self.slowed, 0)
        if self.gone is None and not client.is_connected:
            self.gone = await _reconnect(client)
        if self.gone is not None:
            return SendResult(item.notice_id, "retry", f"not tried: {self.gone}", 0)
        if self.still_held is not None and not self.still_held(item.notice_id):
            return SendResult(item.notice_id, "retry", LOST_CLAIM, 0)
        mail = build_or_fail(item)
        if isinstance(mail, SendResult):
            return mail
        try:
            return await _deliver(
                client, item.notice_id, mail, self.envelope_from, self.settings, self.sleep
            )
        except _SlowDown as slow:
            self.slowed = self.slowed or slow.detail
            return SendResult(item.notice_id, "held", slow.detail, 0)
        except _SenderRefused as refused:
            self.fault = self.fault or sender_fault(refused.detail, self.settings.smtp_server)
            self.gone = self.fault or (
                f"the server refused the sender {self.envelope_from}: {refused.detail}"
            )
            return SendResult(item.notice_id, "retry", self.gone, refused.attempts)


async def send_batch(
    messages: Sequence[Outgoing],
    settings: Settings,
    *,
    on_result: OnResult | None = None,
    sleep: Sleep = asyncio.sleep,
    still_held: Callable[[int], bool] | None = None,
) -> list[SendResult]:
    """Send a batch over up to ``settings.smtp_connections`` SMTP connections at once and
    return an outcome per message, in the batch's order.

    The envelope sender is the address in ``settings.sender``; recipients are each
    message's envelope recipients. If the server cannot be reached at the start, or cannot
    be used as configured (its certificate, STARTTLS, the login: :mod:`.setup_faults`),
    raises :class:`SmtpUnavailable` (the caller leaves everything pending); so too, once
    every outcome is reported, when MAIL FROM met a 530 (a login required first). If it
    goes away for good mid-batch, a message in flight comes back as ``retry`` after its back-off
    delays, and the rest as ``retry`` with no attempt; likewise, from the message in
    flight on, when the server refuses the sender itself (5xx to MAIL FROM), since that
    is no notice's fault. A message waiting out a back-off delay holds up only its own
    connection.

    ``still_held(notice_id)``, when given, is asked just before each message: if the
    caller's claim on it has gone (another worker took it over), it is not sent and comes
    back as ``retry`` with :data:`LOST_CLAIM`.

    With ``settings.smtp_global_limit`` and a Prefect server, each connection first takes
    a slot of the global limit (:mod:`journey.smtp_limit`) and holds it until it quits:
    the first one waits for its slot (if the Prefect server cannot be asked, that is
    :class:`SmtpUnavailable`); an extra one waits while the others send, and gives up
    once no message is left for it.
    """
    if not settings.smtp_host:
        raise ValueError("no SMTP host is set; write the batch to the outbox folder instead")
    if not messages:
        return []
    batch = _Batch(messages, settings, sleep, on_result, still_held)
    extra = min(settings.smtp_connections, len(messages)) - 1
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(batch.first(group, extra))
    except BaseExceptionGroup as errors:
        alone = errors.exceptions[0] if len(errors.exceptions) == 1 else None
        if isinstance(alone, SmtpUnavailable):  # raised before any other connection began
            raise alone from None
        raise
    if batch.fault is not None:  # every outcome is reported (as retry); the batch stops
        raise SmtpUnavailable(batch.fault)
    return [result for result in batch.results if result is not None]


@asynccontextmanager
async def _first_slot(settings: Settings) -> AsyncIterator[None]:
    """The first connection's slot of the global limit; none to be had is the server
    being unavailable for this batch (everything stays pending)."""
    async with AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(smtp_slot(settings))
        except SlotUnavailable as exc:
            raise SmtpUnavailable(str(exc)) from None
        yield


async def _reconnect(client: aiosmtplib.SMTP) -> str | None:
    """Connect again once, without waiting; the reason it failed, or None."""
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        return _classify(exc)[1]
    return None


async def _quit(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
