"""The global SMTP connection limit (journey.smtp_limit) against a real Prefect server.

Two sender processes, each with its own Prefect client, send a batch over three SMTP
connections to one real SMTP server on loopback, which counts the sessions open at once.
Each sender is this module run as a script (``python -m tests.mail.test_smtp_limit``): it
says ``ready``, waits for ``go`` on its stdin (so both start sending together), sends, and
prints its outcomes as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from journey.mail.outgoing import Outgoing
from journey.mail.render import Mail
from journey.mail.transport import send_batch
from journey.settings import Settings, settings_problems
from journey.smtp_limit import SMTP_LIMIT_NAME, ensure_smtp_limit, limit_applies
from tests.prefect_server import PrefectServer, quiet_env, stop
from tests.smtp_server import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
PER_SENDER = 30
CONNECTIONS = 3


@dataclass
class SlowSmtpServer(SmtpServer):
    """The test server, taking ``data_delay`` seconds over each DATA reply, so that the
    connections of a batch stay open long enough to overlap."""

    data_delay: float = 0.03

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.data_delay)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def slow_smtp() -> Iterator[SlowSmtpServer]:
    server = SlowSmtpServer(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def api(prefect_server: PrefectServer) -> Iterator[str]:
    """This process's Prefect client pointed at the session's server; the limit is
    deleted before and after, so each test starts without it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: prefect_server.api_url}):
        _delete_limit()
        try:
            yield prefect_server.api_url
        finally:
            _delete_limit()


def _delete_limit() -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
        client.delete_global_concurrency_limit_by_name(SMTP_LIMIT_NAME)


def _read_limit() -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(SMTP_LIMIT_NAME)


def mails(tag: str, count: int) -> list[Outgoing]:
    """``count`` small messages, each with a Message-ID of its own."""
    out = []
    for i in range(1, count + 1):
        message_id = f"<{tag}-{i}@journey.test>"
        data = (
            f"From: journey@example.org\r\nTo: p{i}@example.org\r\n"
            f"Message-ID: {message_id}\r\nSubject: limit test\r\n\r\nHello\r\n"
        ).encode()
        out.append(Outgoing(i, partial(Mail, message_id, (f"p{i}@example.org",), data)))
    return out


def start_sender(
    api_url: str, smtp: SmtpServer, tag: str, limit: int | None, home: Path
) -> subprocess.Popen[str]:
    """A sender process (this module as a script), started and waiting for ``go``."""
    args = [sys.executable, "-m", "tests.mail.test_smtp_limit", smtp.host, str(smtp.port), tag]
    args += [str(PER_SENDER), str(limit or 0)]
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=quiet_env(home, PREFECT_API_URL=api_url),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        stop(process)
        pytest.fail(
            f"sender did not start: {line}{process.stderr.read() if process.stderr else ''}"
        )
    return process


def run_senders(api_url: str, smtp: SmtpServer, limit: int | None, tmp: Path) -> list[Counter[str]]:
    """Two senders, started together; each one's outcomes."""
    senders = [start_sender(api_url, smtp, f"s{n}", limit, tmp / f"home-{n}") for n in (1, 2)]
    try:
        for process in senders:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = []
        for process in senders:
            out, err = process.communicate(timeout=180)
            assert process.returncode == 0, err[-3000:]
            outcomes.append(Counter(json.loads(out.strip().splitlines()[-1])))
        return outcomes
    finally:
        for process in senders:
            stop(process)


def message_ids(smtp: SmtpServer) -> Counter[str]:
    return Counter(str(received.message["Message-ID"]) for received in smtp.messages)


def test_two_processes_never_open_more_connections_than_the_limit(
    api: str, slow_smtp: SlowSmtpServer, tmp_path: Path
) -> None:
    """Limit 2; two processes, each sending a batch over 3 connections: at most 2 SMTP
    sessions are ever open at once, every message arrives once, and every slot is
    given back."""
    ensure_smtp_limit(2)
    outcomes = run_senders(api, slow_smtp, 2, tmp_path)
    assert outcomes == [Counter(sent=PER_SENDER)] * 2
    ids = message_ids(slow_smtp)
    assert len(ids) == 2 * PER_SENDER and set(ids.values()) == {1}
    assert 1 <= slow_smtp.peak_connections <= 2
    assert _read_limit().active_slots == 0


def test_without_the_limit_the_same_senders_open_more(
    api: str, slow_smtp: SlowSmtpServer, tmp_path: Path
) -> None:
    """The control: unset, each batch opens its 3 connections, so the server sees more
    than 2 at once (the count the test above relies on does count)."""
    outcomes = run_senders(api, slow_smtp, None, tmp_path)
    assert outcomes == [Counter(sent=PER_SENDER)] * 2
    assert slow_smtp.peak_connections > 2


def test_a_missing_limit_is_created_from_the_setting(
    api: str, slow_smtp: SlowSmtpServer, tmp_path: Path
) -> None:
    """Nobody made the limit: the first connection creates it, with the setting's slots,
    rather than sending unlimited. A limit of 1 leaves the extra connections waiting
    until the batch is done; they give up then, and leave no slot taken."""
    home = tmp_path / "home"
    process = start_sender(api, slow_smtp, "only", 1, home)
    try:
        out, err = process.communicate("go\n", timeout=180)
    finally:
        stop(process)
    assert process.returncode == 0, err[-3000:]
    assert Counter(json.loads(out.strip().splitlines()[-1])) == Counter(sent=PER_SENDER)
    assert slow_smtp.peak_connections == 1
    assert len(message_ids(slow_smtp)) == PER_SENDER
    limit = _read_limit()
    assert (limit.limit, limit.active, limit.active_slots) == (1, True, 0)


def test_ensure_creates_then_updates_and_reactivates(api: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    ensure_smtp_limit(2)
    assert (_read_limit().limit, _read_limit().active) == (2, True)
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(
            SMTP_LIMIT_NAME, GlobalConcurrencyLimitUpdate(active=False)
        )
    ensure_smtp_limit(5)
    limit = _read_limit()
    assert (limit.limit, limit.active, limit.slot_decay_per_second) == (5, True, 0.0)
    with pytest.raises(ValueError, match="at least 1"):
        ensure_smtp_limit(0)


def test_no_prefect_api_means_no_limit(smtp_server: SmtpServer) -> None:
    """The CLI on Prefect's ephemeral API sends as before, setting or not."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    settings = smtp_server.settings(smtp_global_limit=1, smtp_connections=3)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        assert not limit_applies(settings)
        results = asyncio.run(send_batch(mails("none", 6), settings))
    assert [r.outcome for r in results] == ["sent"] * 6
    assert len({received.peer for received in smtp_server.messages}) == 3


def test_the_setting_is_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, smtp_global_limit=0)
    problems = settings_problems(caught.value.errors())
    assert problems == ["setting JOURNEY_SMTP_GLOBAL_LIMIT: 0 must be at least 1"]


def _main(host: str, port: str, tag: str, count: str, limit: str) -> None:
    """A sender: ready, wait for go, send one batch, print the outcomes as JSON."""
    settings = Settings(
        _env_file=None,
        smtp_host=host,
        smtp_port=int(port),
        smtp_starttls=False,
        smtp_timeout=30.0,
        smtp_retry_delays=[1.0],
        smtp_connections=CONNECTIONS,
        smtp_global_limit=int(limit) or None,
        sender="Leadership Journey <journey@example.org>",
    )
    batch = mails(tag, int(count))
    print("ready", flush=True)
    sys.stdin.readline()
    results = asyncio.run(send_batch(batch, settings))
    print(json.dumps(Counter(result.outcome for result in results)), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:6])
