"""A real SMTP server on loopback (aiosmtpd) for tests, which can be told to misbehave.

Use the ``smtp_server`` fixture (wire it in with ``pytest_plugins = ["tests.smtp_server"]``
or import it). It records every message it accepts, parsed, in ``.messages``; its knobs:

- ``fail_data(times, reply)``: answer the next ``times`` DATA commands with ``reply``
  (default ``451 4.3.0 try later``) instead of accepting the message;
- ``refuse_recipient(address, reply)``: refuse that RCPT TO (default ``550 5.1.1 no such
  user``);
- ``refuse_sender(address, reply)``: refuse that MAIL FROM (default ``553 5.7.1 sender not
  allowed``);
- ``drop_data(times)``: hang up on the next ``times`` DATA commands, after the message
  has been sent but before replying;
- ``limit(per_window, reply)``: a provider's rate limit, without a clock: once
  ``per_window`` messages were accepted in this window, answer DATA with ``reply`` (default
  ``451 4.7.1 too many messages``) until ``new_window()`` is called;
- ``credentials = (user, password)``: the only login it accepts (AUTH is offered without
  TLS, for tests only);
- ``stop()``: go away mid-test (the fixture stops it at teardown either way).

``open_connections`` counts the SMTP sessions open now, ``peak_connections`` the most
that were ever open at once (each connection counted from accepted to lost).

``server.settings(**overrides)`` gives Settings pointing at it: plain SMTP, no TLS.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from journey.settings import Settings

NO_SUCH_USER = "550 5.1.1 no such user"
SENDER_NOT_ALLOWED = "553 5.7.1 sender not allowed"
TRY_LATER = "451 4.3.0 try later"
TOO_MANY = "451 4.7.1 too many messages"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Received:
    """One message the server accepted: the envelope, and the message parsed."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    peer: Any  # the client's (host, port): one value per connection


@dataclass
class SmtpServer:
    """The running server's address, what it has received, and its knobs."""

    host: str
    port: int
    messages: list[Received] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    data_commands: int = 0
    open_connections: int = 0
    peak_connections: int = 0
    _data_replies: list[str] = field(default_factory=list)
    _drops: int = 0
    _refused: dict[str, str] = field(default_factory=dict)
    _refused_senders: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None
    _per_window: int | None = None
    _in_window: int = 0
    _over_limit: str = TOO_MANY

    def start(self) -> None:
        """Start listening (the fixture does this)."""
        self._controller = _CountingController(
            self,
            hostname=self.host,
            port=self.port,
            authenticator=self.authenticate,
            auth_require_tls=False,
            ready_timeout=5.0,
        )
        self._controller.start()

    def stop(self) -> None:
        """Stop listening and drop open connections, e.g. to play a server going away."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def fail_data(self, times: int, reply: str = TRY_LATER) -> None:
        """Answer the next ``times`` DATA commands with ``reply``."""
        with self._lock:
            self._data_replies.extend([reply] * times)

    def refuse_recipient(self, address: str, reply: str = NO_SUCH_USER) -> None:
        """Refuse RCPT TO for ``address`` with ``reply``."""
        with self._lock:
            self._refused[address.lower()] = reply

    def refuse_sender(self, address: str, reply: str = SENDER_NOT_ALLOWED) -> None:
        """Refuse MAIL FROM for ``address`` with ``reply``."""
        with self._lock:
            self._refused_senders[address.lower()] = reply

    def drop_data(self, times: int = 1) -> None:
        """Hang up on the next ``times`` DATA commands without replying."""
        with self._lock:
            self._drops += times

    def limit(self, per_window: int, reply: str = TOO_MANY) -> None:
        """Accept at most ``per_window`` messages until :meth:`new_window`; answer the DATA
        of any more with ``reply`` (the window is the test's to move: no clock)."""
        with self._lock:
            self._per_window, self._in_window, self._over_limit = per_window, 0, reply

    def new_window(self) -> None:
        """The rate limit's window moves on: ``per_window`` more messages are accepted."""
        with self._lock:
            self._in_window = 0

    def settings(self, **overrides: Any) -> Settings:
        """Settings that send to this server over plain SMTP."""
        values: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_starttls": False,
            "smtp_ssl": False,
            "smtp_timeout": 5.0,
            "smtp_retry_delays": [1.0, 2.0, 3.0],
            "sender": "Leadership Journey <journey@example.org>",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    def connection_opened(self) -> None:
        """A client connected (called by the server's protocol)."""
        with self._lock:
            self.open_connections += 1
            self.peak_connections = max(self.peak_connections, self.open_connections)

    def connection_closed(self) -> None:
        """A client's connection ended, however it ended."""
        with self._lock:
            self.open_connections -= 1

    # aiosmtpd hooks

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: Any
    ) -> str:
        reply = self._refused_senders.get(address.lower())
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        reply = self._refused.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.data_commands += 1
            if self._drops:
                self._drops -= 1
                server.transport.close()
                return "421 4.4.2 connection dropped"
            if self._data_replies:
                return self._data_replies.pop(0)
            if self._per_window is not None:
                if self._in_window >= self._per_window:
                    return self._over_limit
                self._in_window += 1  # counted here, under the lock, so never over the limit
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, session.peer)
        with self._lock:
            self.messages.append(received)
        return "250 2.0.0 accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """aiosmtpd authenticator: accept exactly ``credentials``."""
        ok = (
            self.credentials is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)


class _CountingSMTP(SMTP):
    """aiosmtpd's SMTP protocol, telling the server when a connection opens and ends."""

    def __init__(self, server: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counted_by = server
        self.counted = False

    def connection_made(self, transport: Any) -> None:
        if not self.counted:  # called again after STARTTLS, on the same connection
            self.counted = True
            self.counted_by.connection_opened()
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self.counted:
            self.counted = False
            self.counted_by.connection_closed()
        super().connection_lost(error)


class _CountingController(Controller):
    """aiosmtpd's Controller, serving each connection with :class:`_CountingSMTP`."""

    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, self.handler, **self.SMTP_kwargs)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh SMTP server on 127.0.0.1, stopped after the test."""
    server = SmtpServer(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
