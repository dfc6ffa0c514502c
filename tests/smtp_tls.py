"""The loopback SMTP server of :mod:`tests.smtp_server`, speaking TLS as providers do, with
certificates from a certificate authority made for the test (trustme).

- :class:`TestAuthority`: a fresh authority, its certificate written as a PEM file (what
  ``JOURNEY_SMTP_CA_FILE`` names), and server contexts with a certificate it issued for
  ``127.0.0.1``/``localhost`` or, for the name-mismatch fault, for another host name;
- :class:`TlsSmtpServer`: :class:`~tests.smtp_server.SmtpServer` with every knob kept, that
  either requires STARTTLS before anything else (``mode="starttls"``, port-587 style) or
  speaks TLS from the first byte (``mode="implicit"``, port-465 style). With
  ``credentials`` set it requires that login (over TLS only) before MAIL FROM, and records
  who logged in to each accepted message's connection in ``.logins``.

A test makes an authority, then servers with :func:`tls_servers` (each stopped on
leaving it). Only 127.0.0.1 is ever dialled.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import trustme
from aiosmtpd.smtp import AuthResult

from journey.settings import Settings
from tests.smtp_server import SmtpServer, _CountingController, free_port

Mode = Literal["starttls", "implicit"]
OTHER_HOST = "mail.elsewhere.example"  # a name the test server's address is not


class TestAuthority:
    """A certificate authority made for one test, and certificates it issues."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, folder: Path) -> None:
        self.ca = trustme.CA()
        self.ca_file = folder / "test-authority.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self, *names: str) -> ssl.SSLContext:
        """A server-side context holding a certificate for ``names`` (default: this
        machine's loopback, as ``127.0.0.1`` and ``localhost``)."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*(names or ("127.0.0.1", "localhost"))).configure_cert(context)
        return context


@dataclass
class TlsSmtpServer(SmtpServer):
    """The test SMTP server over TLS: STARTTLS required, or implicit TLS."""

    mode: Mode = "starttls"
    tls_context: ssl.SSLContext | None = None
    logins: list[str] = field(default_factory=list)  # one per successful AUTH

    def start(self) -> None:
        """Listen, requiring STARTTLS or speaking TLS at once, and a login if
        ``credentials`` is set (offered only once the line is TLS)."""
        assert self.tls_context is not None
        tls: dict[str, Any] = (
            {"tls_context": self.tls_context, "require_starttls": True}
            if self.mode == "starttls"
            else {"ssl_context": self.tls_context}
        )
        self._controller = _CountingController(
            self,
            hostname=self.host,
            port=self.port,
            authenticator=self.authenticate,
            auth_required=self.credentials is not None,
            # aiosmtpd counts only STARTTLS as TLS; on implicit TLS every byte is over TLS
            auth_require_tls=self.mode == "starttls",
            ready_timeout=30.0,
            **tls,
        )
        self._controller.start()

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        result = super().authenticate(server, session, envelope, mechanism, auth_data)
        if result.success:
            with self._lock:
                self.logins.append(auth_data.login.decode())
        return result

    def settings(self, **overrides: Any) -> Settings:
        """Settings that send to this server the way a provider is used: STARTTLS, or
        implicit TLS, with no CA file unless ``smtp_ca_file`` is given."""
        values: dict[str, Any] = {
            "smtp_starttls": self.mode == "starttls",
            "smtp_ssl": self.mode == "implicit",
            "smtp_timeout": 30.0,
        }
        values.update(overrides)
        return super().settings(**values)

    def env(self) -> dict[str, str]:
        """The same as ``JOURNEY_*`` variables (host, port and TLS mode)."""
        return {
            "JOURNEY_SMTP_HOST": self.host,
            "JOURNEY_SMTP_PORT": str(self.port),
            "JOURNEY_SMTP_STARTTLS": str(self.mode == "starttls").lower(),
            "JOURNEY_SMTP_SSL": str(self.mode == "implicit").lower(),
            "JOURNEY_SMTP_TIMEOUT": "30",
        }


class TlsServerFactory(Protocol):
    def __call__(
        self,
        mode: Mode = "starttls",
        *,
        names: tuple[str, ...] = (),
        credentials: tuple[str, str] | None = None,
    ) -> TlsSmtpServer: ...


@contextmanager
def tls_servers(authority: TestAuthority) -> Iterator[TlsServerFactory]:
    """Start TLS test servers on 127.0.0.1 with certificates from ``authority`` (for
    ``names``, default the loopback); each is stopped on leaving."""
    started: list[TlsSmtpServer] = []

    def start(
        mode: Mode = "starttls",
        *,
        names: tuple[str, ...] = (),
        credentials: tuple[str, str] | None = None,
    ) -> TlsSmtpServer:
        server = TlsSmtpServer(
            host="127.0.0.1",
            port=free_port(),
            credentials=credentials,
            mode=mode,
            tls_context=authority.server_context(*names),
        )
        server.start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()
