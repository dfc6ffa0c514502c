"""The default mail path, as a provider is used: STARTTLS on 587 or implicit TLS on 465,
certificates checked, a login after TLS; and each way it fails named, with the notices
left pending and the password shown nowhere.

The servers are aiosmtpd on loopback with certificates from an authority made in the test
(:mod:`tests.smtp_tls`); JOURNEY_SMTP_CA_FILE trusts it for the SMTP connection alone. The
faults run through the real delivery path (:func:`deliver_all`, on SQLite and Postgres) so
that "pending" is read from the database; a refused login also through `journey remind`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.blocks.abstract import NotificationError

from journey.errors import BadSettings
from journey.mail.transport import SmtpUnavailable
from journey.services.delivery import DeliveryResult, deliver_all
from journey.settings import Settings, get_settings
from tests.cli.test_commands import journey
from tests.mail.test_transport import PEOPLE, batch, send
from tests.services.test_delivery_faults import LAUNCH, launched, notices
from tests.smtp_server import SmtpServer
from tests.smtp_tls import (
    OTHER_HOST,
    TestAuthority,
    TlsServerFactory,
    TlsSmtpServer,
    tls_servers,
)

USER, PASSWORD = "organiser", "Kite-Lantern-4419"  # the one login the servers accept
WRONG = "Not-The-Password-7781"


def use(server: TlsSmtpServer, monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    """Point JOURNEY_* at ``server`` (plus ``env``) on top of the test's database settings."""
    for name, value in {**server.env(), **env}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return get_settings()


def stopped(config: Settings) -> tuple[DeliveryResult, str]:
    """Launch, deliver; delivery must stop with every notice pending with the reason, exit
    75. Returns the result and the reason."""
    launched(config, "mk-2026")
    result = deliver_all(url=config.database_url, settings=config, now=LAUNCH)
    reason = result.unavailable
    assert reason is not None
    assert result.sent == result.failed == 0
    stored = notices(config.database_url)
    assert Counter(status for status, _, _ in stored) == {"pending": 25}
    assert all(claimed is None and error and reason in error for _, error, claimed in stored)
    error = result.incomplete()
    assert error is not None and error.exit_code == 75
    assert str(error) == f"delivery stopped: {reason}; the notices stay pending"
    return result, reason


@pytest.fixture
def authority(tmp_path: Path) -> TestAuthority:
    """A certificate authority made for this test; its PEM file is ``authority.ca_file``."""
    return TestAuthority(tmp_path)


@pytest.fixture
def tls_server_factory(authority: TestAuthority) -> Iterator[TlsServerFactory]:
    """Starts TLS servers with ``authority``'s certificates; stops them after the test."""
    with tls_servers(authority) as start:
        yield start


# The default path works


def test_starttls_required_and_validated_with_the_ca_file_sends_with_a_login(
    tls_server_factory: TlsServerFactory, authority: TestAuthority
) -> None:
    server = tls_server_factory("starttls", credentials=(USER, PASSWORD))
    config = server.settings(
        smtp_ca_file=authority.ca_file, smtp_username=USER, smtp_password=PASSWORD
    )
    assert (config.smtp_starttls, config.smtp_ssl) == (True, False)  # the defaults
    results, _ = send(batch(), config)
    assert [r.outcome for r in results] == ["sent"] * 3
    assert sorted(m.rcpt_tos[0] for m in server.messages) == sorted(a for _, a in PEOPLE)
    assert server.logins and set(server.logins) == {USER}  # one login per connection


def test_starttls_without_a_login_sends_when_the_server_needs_none(
    tls_server_factory: TlsServerFactory, authority: TestAuthority
) -> None:
    server = tls_server_factory("starttls")
    results, _ = send(batch(), server.settings(smtp_ca_file=authority.ca_file))
    assert [r.outcome for r in results] == ["sent"] * 3
    assert server.logins == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # TLS from byte 1
def test_implicit_tls_on_a_465_style_server_sends_through_the_settings(
    tls_server_factory: TlsServerFactory,
    authority: TestAuthority,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server_factory("implicit", credentials=(USER, PASSWORD))
    config = use(
        server,
        monkeypatch,
        JOURNEY_SMTP_CA_FILE=str(authority.ca_file),
        JOURNEY_SMTP_USERNAME=USER,
        JOURNEY_SMTP_PASSWORD=PASSWORD,
    )
    assert config.smtp_ssl and config.smtp_ca_file == authority.ca_file
    launched(config, cohort_id)
    result = deliver_all(url=config.database_url, settings=config, now=LAUNCH)
    assert (result.sent, result.failed, result.retry, result.unavailable) == (25, 0, 0, None)
    assert len(server.messages) == 25 and set(server.logins) == {USER}
    assert Counter(s for s, _, _ in notices(config.database_url)) == {"sent": 25}


# Each fault named, the notices pending, the password nowhere


def test_an_untrusted_certificate_is_named_and_the_notices_stay_pending(
    tls_server_factory: TlsServerFactory,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server_factory("starttls", credentials=(USER, PASSWORD))
    config = use(server, monkeypatch, JOURNEY_SMTP_USERNAME=USER, JOURNEY_SMTP_PASSWORD=PASSWORD)
    _, reason = stopped(config)  # no CA file: the system's trust store knows no test CA
    assert reason.startswith(
        f"the SMTP server's certificate at 127.0.0.1:{server.port} is not trusted "
        "(self-signed or unknown authority: "
    )
    assert reason.endswith(
        "set JOURNEY_SMTP_CA_FILE to its authority's certificate, or fix the server"
    )
    assert "could not reach" not in reason and PASSWORD not in reason
    assert server.messages == [] and server.logins == []  # nothing said before TLS


def test_an_untrusted_certificate_on_implicit_tls_is_named_too(
    tls_server_factory: TlsServerFactory,
) -> None:
    server = tls_server_factory("implicit")
    with pytest.raises(SmtpUnavailable, match="is not trusted") as caught:
        send(batch(), server.settings(smtp_retry_delays=[5.0, 5.0]))
    assert f"127.0.0.1:{server.port}" in str(caught.value)
    assert caught.value.__cause__ is None


def test_a_certificate_for_another_host_name_is_named_and_not_retried(
    tls_server_factory: TlsServerFactory,
    authority: TestAuthority,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server_factory("starttls", names=(OTHER_HOST,))
    config = use(server, monkeypatch, JOURNEY_SMTP_CA_FILE=str(authority.ca_file))
    _, reason = stopped(config)
    assert reason.startswith(
        f"the SMTP server's certificate at 127.0.0.1:{server.port} is for another host name ("
    )
    assert "mismatch" in reason
    assert reason.endswith(
        "set JOURNEY_SMTP_HOST to a name the certificate holds, or fix the server"
    )
    assert server.messages == []


def test_a_refused_login_is_named_without_the_password_and_the_notices_stay_pending(
    tls_server_factory: TlsServerFactory,
    authority: TestAuthority,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = tls_server_factory("starttls", credentials=(USER, PASSWORD))
    config = use(
        server,
        monkeypatch,
        JOURNEY_SMTP_CA_FILE=str(authority.ca_file),
        JOURNEY_SMTP_USERNAME=USER,
        JOURNEY_SMTP_PASSWORD=WRONG,
    )
    result, reason = stopped(config)
    assert reason == (
        f"the SMTP server at 127.0.0.1:{server.port} refused the login for {USER!r}: "
        "535 5.7.8 Authentication credentials invalid; "
        "check JOURNEY_SMTP_USERNAME and JOURNEY_SMTP_PASSWORD"
    )
    stored = " ".join(str(row) for row in notices(config.database_url))
    shown = f"{stored} {result.incomplete()} {result.summary()!r} {caplog.text}"
    assert WRONG not in shown and PASSWORD not in shown
    assert server.messages == []


def test_a_login_required_but_not_configured_is_named(
    tls_server_factory: TlsServerFactory,
    authority: TestAuthority,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server_factory("starttls", credentials=(USER, PASSWORD))
    config = use(server, monkeypatch, JOURNEY_SMTP_CA_FILE=str(authority.ca_file))
    _, reason = stopped(config)
    assert reason == (
        f"the SMTP server at 127.0.0.1:{server.port} requires a login "
        "(530 5.7.0 Authentication required): set JOURNEY_SMTP_USERNAME and JOURNEY_SMTP_PASSWORD"
    )


def test_starttls_turned_off_against_a_server_that_requires_it_is_named(
    tls_server_factory: TlsServerFactory,
) -> None:
    server = tls_server_factory("starttls")
    with pytest.raises(SmtpUnavailable) as caught:
        send(batch(), server.settings(smtp_starttls=False))
    assert str(caught.value).startswith(
        f"the SMTP server at 127.0.0.1:{server.port} requires STARTTLS first (530 "
    )
    assert server.messages == []


def test_a_server_without_starttls_is_named_when_starttls_is_on(
    smtp_server: SmtpServer,
) -> None:
    """The plain test server offers no STARTTLS."""
    with pytest.raises(SmtpUnavailable) as caught:
        send(batch(), smtp_server.settings(smtp_starttls=True))
    assert str(caught.value).startswith(
        f"the SMTP server at 127.0.0.1:{smtp_server.port} does not offer STARTTLS: "
    )
    assert smtp_server.messages == []


def test_implicit_tls_against_a_starttls_server_is_a_tls_fault_not_unreachable(
    tls_server_factory: TlsServerFactory, authority: TestAuthority
) -> None:
    server = tls_server_factory("starttls")
    config = server.settings(smtp_ssl=True, smtp_starttls=False, smtp_ca_file=authority.ca_file)
    with pytest.raises(SmtpUnavailable) as caught:
        send(batch(), config)
    assert str(caught.value).startswith(f"TLS with the SMTP server at 127.0.0.1:{server.port} ")


# JOURNEY_SMTP_CA_FILE itself


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("not a certificate\n", "no PEM certificate in it")],
)
def test_a_ca_file_that_cannot_be_used_is_a_settings_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None, message: str
) -> None:
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_text(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JOURNEY_SMTP_CA_FILE", str(ca_file))
    get_settings.cache_clear()
    try:
        with pytest.raises(BadSettings) as caught:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert caught.value.problems == [f"setting JOURNEY_SMTP_CA_FILE: {str(ca_file)!r}: {message}"]


def test_the_ca_file_trusts_the_authority_for_smtp_only(
    authority: TestAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process's trust store is left alone: no SSL_CERT_FILE, no default changed."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    Settings(_env_file=None, smtp_host="127.0.0.1", smtp_ca_file=authority.ca_file)
    assert "SSL_CERT_FILE" not in os.environ
    default = ssl.create_default_context()
    pem = authority.ca.cert_pem.bytes().decode()
    assert all(ssl.DER_cert_to_PEM_cert(der) != pem for der in default.get_ca_certs(True))


def test_the_alert_block_trusts_the_same_authority(
    tls_server_factory: TlsServerFactory, authority: TestAuthority
) -> None:
    """`journey alerts apply` stores the CA file's text in the block (it runs in the
    Prefect server's process, which may not see the file); alerts then go over STARTTLS."""
    from journey.alerts import email_block

    server = tls_server_factory("starttls", credentials=(USER, PASSWORD))
    config = server.settings(
        smtp_ca_file=authority.ca_file, smtp_username=USER, smtp_password=PASSWORD
    )
    block = email_block(config, ["ops@example.org"])
    assert block.ca_certificates == authority.ca_file.read_text()
    asyncio.run(block.notify("the sweep failed", "Leadership Journey: alert"))
    [received] = server.messages
    assert received.rcpt_tos == ["ops@example.org"] and server.logins == [USER]
    untrusted = block.model_copy(update={"ca_certificates": None})
    with pytest.raises(NotificationError):
        asyncio.run(untrusted.notify("the sweep failed"))
    assert len(server.messages) == 1


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_journey_remind_with_a_refused_login_exits_75_naming_it_without_the_password(
    tls_server_factory: TlsServerFactory,
    authority: TestAuthority,
    settings: Settings,
    cohort_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """75, try again later, as for an unreachable server: nothing was sent and the notices
    stay pending; the sentence says what to mend."""
    from prefect.settings import PREFECT_API_URL

    server = tls_server_factory("starttls", credentials=(USER, PASSWORD))
    use(
        server,
        monkeypatch,
        JOURNEY_SMTP_CA_FILE=str(authority.ca_file),
        JOURNEY_SMTP_USERNAME=USER,
        JOURNEY_SMTP_PASSWORD=WRONG,
    )
    launched(settings, cohort_id)
    env = {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "400"}
    result = journey("remind", "--now", "2026-09-01T11:00", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 75, output
    assert "Traceback" not in result.stderr
    assert (
        f"Delivery stopped: the SMTP server at 127.0.0.1:{server.port} refused the login for "
        f"{USER!r}: 535 5.7.8 Authentication credentials invalid; check JOURNEY_SMTP_USERNAME "
        "and JOURNEY_SMTP_PASSWORD"
    ) in output
    stored = notices(settings.database_url)
    assert Counter(status for status, _, _ in stored) == {"pending": 25}
    assert WRONG not in output + str(stored) and server.messages == []
