"""``journey mail test ADDRESS``: one message through the settings, against a real SMTP server.

Each test runs the real CLI in a fresh interpreter, in an empty folder, with a database URL
that names a file no one has made: the command needs no database, and must make none.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from tests.cli.test_commands import journey
from tests.smtp_server import SmtpServer, free_port

SENDER = "Leadership Journey <journey@example.org>"
TO = "organiser@example.org"
PASSWORD = "correct-horse-battery"  # the fixture's; never printed


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty working folder (no .env), whose database file must stay unmade."""
    work = tmp_path / "work"
    work.mkdir()
    return work


def smtp_env(folder: Path, host: str, port: int, **more: str) -> dict[str, str]:
    """The settings of plain SMTP to ``host:port`` (as ``server.settings()`` has them)."""
    return {
        "JOURNEY_DATABASE_URL": f"sqlite:///{folder / 'journey.db'}",
        "JOURNEY_SMTP_HOST": host,
        "JOURNEY_SMTP_PORT": str(port),
        "JOURNEY_SMTP_STARTTLS": "false",
        "JOURNEY_SMTP_TIMEOUT": "30",
        "JOURNEY_SENDER": SENDER,
        **more,
    }


def test_sends_one_message_with_a_notices_headers(smtp_server: SmtpServer, folder: Path) -> None:
    smtp_server.credentials = ("organiser", PASSWORD)
    env = smtp_env(
        folder,
        smtp_server.host,
        smtp_server.port,
        JOURNEY_SMTP_USERNAME="organiser",
        JOURNEY_SMTP_PASSWORD=PASSWORD,
    )
    result = journey(
        "mail", "test", "Organiser@Example.org", env=env, cwd=folder, probe_prefect=True
    )
    assert result.returncode == 0, result.stderr
    where = f"{smtp_server.host}:{smtp_server.port}"
    assert result.stdout == (
        f"Sent a test message to {TO} through {where} (no TLS, logged in as organiser).\n"
    )
    assert result.stderr == "no prefect\n"
    assert PASSWORD not in result.stdout
    [received] = smtp_server.messages
    assert received.rcpt_tos == [TO]
    assert received.mail_from == "journey@example.org"
    message = received.message
    assert message["To"] == TO
    assert message["From"] == SENDER
    assert message["Subject"] == "Leadership Journey: test message"
    assert message["Message-ID"].startswith("<") and message["Date"]
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert where in text and "journey@example.org" in text and PASSWORD not in text
    assert not (folder / "journey.db").exists()


def test_each_test_message_has_a_message_id_of_its_own(
    smtp_server: SmtpServer, folder: Path
) -> None:
    """A provider drops a Message-ID it has seen: a second test must still arrive."""
    env = smtp_env(folder, smtp_server.host, smtp_server.port)
    for _ in range(2):
        assert journey("mail", "test", TO, env=env, cwd=folder).returncode == 0
    first, second = (received.message["Message-ID"] for received in smtp_server.messages)
    assert first != second


def test_without_an_smtp_host_writes_one_eml_to_the_outbox_folder(folder: Path) -> None:
    env = {
        "JOURNEY_DATABASE_URL": f"sqlite:///{folder / 'journey.db'}",
        "JOURNEY_OUTBOX_DIR": str(folder / "outbox"),
        "JOURNEY_SENDER": SENDER,
    }
    result = journey("mail", "test", TO, "--now", "2026-09-01T09:00", env=env, cwd=folder)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Wrote a test message for {TO} to the outbox folder {folder / 'outbox'}.\n"
    )
    [eml] = (folder / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert (message["To"], message["From"]) == (TO, SENDER)
    assert message["Date"] == "Tue, 01 Sep 2026 08:00:00 +0000"  # 09:00 in London
    assert not (folder / "journey.db").exists()


def test_a_server_that_cannot_be_reached_is_exit_75_naming_it(folder: Path) -> None:
    port = free_port()
    result = journey("mail", "test", TO, env=smtp_env(folder, "127.0.0.1", port), cwd=folder)
    assert result.returncode == 75
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: could not reach the SMTP server at ")
    assert f"127.0.0.1:{port}" in line


def test_a_refused_login_is_exit_75_without_the_password(
    smtp_server: SmtpServer, folder: Path
) -> None:
    smtp_server.credentials = ("organiser", PASSWORD)
    wrong = "not-the-password-42"
    env = smtp_env(
        folder,
        smtp_server.host,
        smtp_server.port,
        JOURNEY_SMTP_USERNAME="organiser",
        JOURNEY_SMTP_PASSWORD=wrong,
    )
    result = journey("mail", "test", TO, env=env, cwd=folder)
    assert result.returncode == 75
    [line] = result.stderr.splitlines()
    assert line.startswith(
        f"Error: the SMTP server at {smtp_server.host}:{smtp_server.port} "
        "refused the login for 'organiser': 535"
    )
    assert wrong not in result.stdout + result.stderr
    assert smtp_server.messages == []


def test_a_refused_recipient_is_exit_1_with_the_reply_without_the_address(
    smtp_server: SmtpServer, folder: Path
) -> None:
    smtp_server.refuse_recipient(TO)
    env = smtp_env(folder, smtp_server.host, smtp_server.port)
    result = journey("mail", "test", TO, env=env, cwd=folder)
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: the SMTP server at {smtp_server.host}:{smtp_server.port} refused the "
        "message: 550 5.1.1 no such user\n"
    )
    assert smtp_server.messages == []


def test_a_4xx_reply_is_exit_75_after_one_try(smtp_server: SmtpServer, folder: Path) -> None:
    smtp_server.fail_data(1)
    env = smtp_env(folder, smtp_server.host, smtp_server.port, JOURNEY_SMTP_RETRY_DELAYS="60")
    result = journey("mail", "test", TO, env=env, cwd=folder)
    assert result.returncode == 75
    assert result.stderr == (
        f"Error: the SMTP server at {smtp_server.host}:{smtp_server.port} did not take the "
        "message: 451 4.3.0 try later\n"
    )
    assert smtp_server.data_commands == 1


@pytest.mark.parametrize(
    "address", ["not-an-address", "two@@example.org", "bj\u00f6rk@example.org"]
)
def test_a_bad_address_is_one_line_and_exit_1(
    smtp_server: SmtpServer, folder: Path, address: str
) -> None:
    env = smtp_env(folder, smtp_server.host, smtp_server.port)
    result = journey("mail", "test", address, env=env, cwd=folder)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {address!r} is not ")
    assert smtp_server.data_commands == 0
