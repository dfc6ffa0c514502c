"""Delivery over a real SMTP server on loopback, and into the outbox folder.

The first tests pin one connection, to follow each message through retries and
failures in order; the ones after ``many`` send a batch over several connections.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from icalendar import Calendar

from journey.mail.outbox_folder import write_eml_batch
from journey.mail.outgoing import Outgoing, SendResult
from journey.mail.transport import SmtpUnavailable, send_batch
from journey.settings import Settings
from tests.mail.test_render import make_message

if TYPE_CHECKING:
    from tests.smtp_server import SmtpServer


NO_SUCH_USER = "550 5.1.1 no such user"
TRY_LATER = "451 4.3.0 try later"

PEOPLE = [("Ann Ridley", "ann@example.org"), ("Bilal Khan", "bilal@example.org"),
          ("Cath Moss", "cath@example.org")]  # fmt: skip


def batch(people: Sequence[tuple[str, str]] = PEOPLE) -> list[Outgoing]:
    return [
        Outgoing(
            notice_id, partial(make_message, to_name=name, to_email=address, key=f"k/{notice_id}")
        )
        for notice_id, (name, address) in enumerate(people, start=1)
    ]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Clock:
    """Records the back-off delays instead of sleeping through them."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def send(
    messages: list[Outgoing], settings: Settings, clock: Clock | None = None
) -> tuple[list[SendResult], list[SendResult]]:
    """Send a batch; returns the results and what on_result saw, in order."""
    seen: list[SendResult] = []
    sleep = (clock or Clock()).sleep
    results = asyncio.run(send_batch(messages, settings, on_result=seen.append, sleep=sleep))
    return results, seen


def test_a_batch_arrives_whole_over_one_connection(smtp_server: SmtpServer) -> None:
    results, seen = send(batch(), smtp_server.settings(smtp_connections=1))
    assert results == seen == [SendResult(i, "sent", None, 1) for i in (1, 2, 3)]
    assert len({received.peer for received in smtp_server.messages}) == 1
    first = smtp_server.messages[0]
    assert (first.mail_from, first.rcpt_tos) == ("journey@example.org", ["ann@example.org"])
    message = first.message
    assert message["Message-ID"] == batch()[0].build().message_id
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and plain.get_content().startswith("Dear Ann Ridley,")
    assert html is not None and "<p>Dear Ann Ridley,</p>" in html.get_content()
    [invite] = list(message.iter_attachments())
    calendar = Calendar.from_ical(invite.get_content())
    [day_one, _] = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert (str(day_one["UID"]), day_one["SEQUENCE"]) == (
        "mk-2026-training-1@leadership-journey",
        0,
    )


def test_451_twice_then_accepted_is_sent_on_the_third_attempt(smtp_server: SmtpServer) -> None:
    smtp_server.fail_data(2)
    clock = Clock()
    results, _ = send(batch(PEOPLE[:1]), smtp_server.settings(smtp_connections=1), clock)
    assert results == [SendResult(1, "sent", None, 3)]
    assert clock.slept == [1.0, 2.0]
    assert len(smtp_server.messages) == 1


def test_4xx_outlasting_every_delay_is_left_for_later(smtp_server: SmtpServer) -> None:
    smtp_server.fail_data(4)
    clock = Clock()
    results, _ = send(batch(PEOPLE[:2]), smtp_server.settings(smtp_connections=1), clock)
    assert results == [SendResult(1, "retry", TRY_LATER, 4), SendResult(2, "sent", None, 1)]
    assert clock.slept == [1.0, 2.0, 3.0]


def test_550_fails_only_that_notice(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_recipient("bilal@example.org")
    clock = Clock()
    results, seen = send(batch(), smtp_server.settings(smtp_connections=1), clock)
    assert (
        results
        == seen
        == [
            SendResult(1, "sent", None, 1),
            SendResult(2, "failed", NO_SUCH_USER, 1),
            SendResult(3, "sent", None, 1),
        ]
    )
    assert clock.slept == []
    assert [r.rcpt_tos for r in smtp_server.messages] == [["ann@example.org"], ["cath@example.org"]]


def test_5xx_after_data_fails_that_notice(smtp_server: SmtpServer) -> None:
    smtp_server.fail_data(1, "554 5.6.0 message refused")
    results, _ = send(batch(PEOPLE[:2]), smtp_server.settings(smtp_connections=1))
    assert [(r.outcome, r.detail) for r in results] == [
        ("failed", "554 5.6.0 message refused"),
        ("sent", None),
    ]


def test_a_refused_sender_fails_no_notice_and_stops_the_batch(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_sender("journey@example.org")
    results, seen = send(batch(), smtp_server.settings(smtp_connections=1))
    refused = "the server refused the sender journey@example.org: 553 5.7.1 sender not allowed"
    assert (
        results
        == seen
        == [
            SendResult(1, "retry", refused, 1),
            SendResult(2, "retry", f"not tried: {refused}", 0),
            SendResult(3, "retry", f"not tried: {refused}", 0),
        ]
    )
    assert smtp_server.messages == []


def test_a_dropped_connection_mid_message_is_retried(smtp_server: SmtpServer) -> None:
    smtp_server.drop_data(1)
    clock = Clock()
    results, _ = send(batch(PEOPLE[:2]), smtp_server.settings(smtp_connections=1), clock)
    assert results == [SendResult(1, "sent", None, 2), SendResult(2, "sent", None, 1)]
    assert clock.slept == [1.0]
    assert smtp_server.data_commands == 3
    assert [r.rcpt_tos for r in smtp_server.messages] == [
        ["ann@example.org"],
        ["bilal@example.org"],
    ]


def test_a_message_that_keeps_dropping_does_not_hold_up_the_rest(smtp_server: SmtpServer) -> None:
    smtp_server.drop_data(4)
    results, _ = send(batch(PEOPLE[:2]), smtp_server.settings(smtp_connections=1))
    assert [(r.outcome, r.attempts) for r in results] == [("retry", 4), ("sent", 1)]
    assert results[0].detail is not None and results[0].detail.startswith("connection lost")


def test_a_server_gone_for_good_leaves_the_rest_untried(smtp_server: SmtpServer) -> None:
    seen: list[SendResult] = []

    def record(result: SendResult) -> None:
        seen.append(result)
        smtp_server.stop()

    clock = Clock()
    coroutine = send_batch(
        batch(), smtp_server.settings(smtp_connections=1), on_result=record, sleep=clock.sleep
    )
    results = asyncio.run(coroutine)
    assert results == seen
    assert [(r.outcome, r.attempts) for r in results] == [("sent", 1), ("retry", 4), ("retry", 0)]
    assert results[2].detail is not None and results[2].detail.startswith("not tried: ")
    assert clock.slept == [1.0, 2.0, 3.0]


def test_server_down_raises_smtp_unavailable() -> None:
    port = closed_port()
    settings = Settings(
        _env_file=None, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        smtp_retry_delays=[1.0, 2.0, 3.0], smtp_timeout=2.0,
    )  # fmt: skip
    clock = Clock()
    with pytest.raises(
        SmtpUnavailable,
        match=rf"^could not reach the SMTP server at 127\.0\.0\.1:{port} \(4 tries\)",
    ):
        send(batch(), settings, clock)
    assert clock.slept == [1.0, 2.0, 3.0]


def test_login_works_and_a_refused_one_never_shows_the_password(smtp_server: SmtpServer) -> None:
    smtp_server.credentials = ("journey", "right-horse-battery")
    good = smtp_server.settings(smtp_username="journey", smtp_password="right-horse-battery")
    assert [r.outcome for r in send(batch(PEOPLE[:1]), good)[0]] == ["sent"]
    bad = smtp_server.settings(smtp_username="journey", smtp_password="Wr0ng-Secret-Value")
    with pytest.raises(SmtpUnavailable, match="refused the login for 'journey'") as caught:
        send(batch(PEOPLE[:1]), bad)
    assert "Wr0ng-Secret-Value" not in str(caught.value) + repr(caught.value)
    assert caught.value.__cause__ is None


def test_send_batch_needs_a_host() -> None:
    with pytest.raises(ValueError, match="no SMTP host is set"):
        send(batch(), Settings(_env_file=None, smtp_host=None))


def test_an_empty_batch_does_not_connect() -> None:
    settings = Settings(_env_file=None, smtp_host="127.0.0.1", smtp_port=closed_port())
    assert send([], settings) == ([], [])


def test_write_eml_batch_writes_parseable_files_idempotently(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox" / "nested"
    seen: list[SendResult] = []
    results = write_eml_batch(batch(), outbox, on_result=seen.append)
    assert results == seen == [SendResult(i, "sent", None, 1) for i in (1, 2, 3)]
    files = sorted(outbox.iterdir())
    first_bytes = {path.name: path.read_bytes() for path in files}
    write_eml_batch(batch(), outbox)
    assert {path.name: path.read_bytes() for path in sorted(outbox.iterdir())} == first_bytes
    assert len(files) == 3 and all(path.suffix == ".eml" for path in files)
    for path in files:
        data = path.read_bytes()
        assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
        parsed: Any = email.message_from_bytes(data, policy=email.policy.default)
        assert path.name == parsed["Message-ID"].strip("<>") + ".eml"
        assert parsed.get_body(("html",)) is not None


def many(count: int) -> list[Outgoing]:
    return batch([(f"Person {i}", f"p{i}@example.org") for i in range(1, count + 1)])


def test_a_batch_is_shared_by_its_connections_each_message_once(smtp_server: SmtpServer) -> None:
    results, seen = send(many(12), smtp_server.settings(smtp_connections=3))
    assert results == [SendResult(i, "sent", None, 1) for i in range(1, 13)]  # batch order
    assert sorted(r.notice_id for r in seen) == list(range(1, 13))
    assert len({received.peer for received in smtp_server.messages}) == 3
    recipients = sorted(r.rcpt_tos[0] for r in smtp_server.messages)
    assert recipients == sorted(f"p{i}@example.org" for i in range(1, 13))


def test_a_back_off_holds_up_only_its_own_connection(smtp_server: SmtpServer) -> None:
    smtp_server.fail_data(1)  # the first DATA, on one connection, gets a 451
    settings = smtp_server.settings(smtp_connections=2, smtp_retry_delays=[0.5])
    results = asyncio.run(send_batch(many(6), settings))  # real sleeps
    assert [r.outcome for r in results] == ["sent"] * 6
    assert sorted(r.attempts for r in results) == [1, 1, 1, 1, 1, 2]
    retried = next(r for r in results if r.attempts == 2)
    order = [int(r.rcpt_tos[0][1:].split("@")[0]) for r in smtp_server.messages]
    assert order[-1] == retried.notice_id  # the others went while it waited


def test_a_refused_sender_stops_every_connection(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_sender("journey@example.org")
    results, _ = send(many(6), smtp_server.settings(smtp_connections=2))
    assert [r.outcome for r in results] == ["retry"] * 6
    assert all("refused the sender journey@example.org" in (r.detail or "") for r in results)
    assert smtp_server.messages == []


def test_a_server_gone_mid_batch_loses_nothing_over_two_connections(
    smtp_server: SmtpServer,
) -> None:
    def record(result: SendResult) -> None:
        if result.outcome == "sent":
            smtp_server.stop()

    settings = smtp_server.settings(smtp_connections=2)
    results = asyncio.run(send_batch(many(8), settings, on_result=record, sleep=Clock().sleep))
    assert [r.notice_id for r in results] == list(range(1, 9))
    assert {r.outcome for r in results} <= {"sent", "retry"}
    assert len(smtp_server.messages) == sum(r.outcome == "sent" for r in results) >= 1


def test_a_message_that_cannot_be_built_fails_alone(smtp_server: SmtpServer) -> None:
    def broken() -> Any:
        raise ValueError("template broke")

    dee = partial(make_message, to_name="Dee", to_email="dee@example.org", key="k/4")
    messages = [*many(2), Outgoing(3, broken), Outgoing(4, dee)]
    results, _ = send(messages, smtp_server.settings())
    assert [(r.notice_id, r.outcome) for r in results] == [
        (1, "sent"), (2, "sent"), (3, "failed"), (4, "sent"),
    ]  # fmt: skip
    assert results[2] == SendResult(3, "failed", "could not render: template broke", 0)
    assert len(smtp_server.messages) == 3


def test_a_message_that_cannot_be_built_fails_alone_in_the_outbox_folder(tmp_path: Path) -> None:
    def broken() -> Any:
        raise ValueError("template broke")

    results = write_eml_batch([Outgoing(7, broken), *batch(PEOPLE[:1])], tmp_path)
    assert results == [
        SendResult(7, "failed", "could not render: template broke", 0),
        SendResult(1, "sent", None, 1),
    ]
    assert len(list(tmp_path.glob("*.eml"))) == 1
