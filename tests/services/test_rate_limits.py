"""A provider's rate limits: JOURNEY_SMTP_MAX_PER_MINUTE / _PER_DAY pace sending across
every worker and run, and a 4.7.x "too many messages" reply slows a run down; what is
held back stays pending for the next sweep, nothing is lost or sent twice.

The mail server is the loopback aiosmtpd with a rate of its own (``server.limit``), which
moves only when the test says (``server.new_window()``). The run's clock is frozen at each
sweep's ``--now`` (the injectable clock of :func:`deliver_all`), so every send is stamped
with it and a sweep a minute later finds the minute's allowance free again: no waiting,
no timing. On SQLite and Postgres (JOURNEY_TEST_DATABASE=postgres).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Notice
from journey.services.delivery import DeliveryResult, RunClock, deliver_all
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import utc
from tests.reliability.outbox import launch_example
from tests.services.test_delivery_faults import LAUNCH, launched
from tests.smtp_server import SmtpServer

MINUTE = timedelta(minutes=1)


class FrozenClock(RunClock):
    """A run's clock that stays at its ``now``: each send is stamped with the sweep's time."""

    def __call__(self) -> datetime:
        return self.start


def sweep(config: Settings, at: datetime) -> DeliveryResult:
    """One delivery run, as `journey remind --now AT` runs it, on a frozen clock."""
    return deliver_all(url=config.database_url, settings=config, now=at, clock=FrozenClock(at))


def outbox(url: str) -> Counter[str]:
    with session_scope(url) as session:
        return Counter(str(s) for s in session.scalars(select(Notice.status)))


def attempts_of_pending(url: str) -> set[int]:
    with session_scope(url) as session:
        pending = select(Notice.attempts).where(Notice.status == "pending")
        return set(session.scalars(pending))


def limited(server: SmtpServer, config: Settings, **limits: int) -> Settings:
    """The test's settings (its database) sending to ``server`` under ``limits``."""
    return server.settings(database_url=config.database_url, smtp_retry_delays=[0], **limits)


def test_a_500_trainee_launch_at_30_a_minute_finishes_over_the_next_sweeps(
    settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    launch_example(settings.database_url, tmp_path, trainees=500)
    due = sum(outbox(settings.database_url).values())  # 500 welcomes, 3 mentors, 2 sets
    assert due == 505
    smtp_server.limit(per_window=30)  # the provider enforces it too
    config = limited(smtp_server, settings, smtp_max_per_minute=30)
    at = utc("2026-09-01T09:00")

    first = sweep(config, at)
    assert (first.sent, first.held_back, first.retry, first.failed) == (30, due - 30, 0, 0)
    assert first.held_by == "by the provider's limit (30 a minute)"
    assert first.incomplete() is None  # pacing, not a fault: exit 0
    assert outbox(config.database_url) == {"sent": 30, "pending": due - 30}
    assert sweep(config, at + MINUTE / 2).sent == 0  # the minute has not moved on yet

    sweeps = 1
    while outbox(config.database_url)["pending"]:
        at += MINUTE
        smtp_server.new_window()
        result = sweep(config, at)
        assert result.sent == min(30, result.sent + result.held_back)
        assert result.failed == result.retry == 0
        sweeps += 1
        assert sweeps <= 20
    assert sweeps == 17  # ceil(505 / 30)
    ids = [received.message["Message-ID"] for received in smtp_server.messages]
    assert len(ids) == due and len(set(ids)) == due  # nothing lost, nothing doubled
    assert outbox(config.database_url) == {"sent": due}
    assert smtp_server.data_commands == due  # never over the provider's limit: no 4.7.1


def test_a_slow_down_reply_holds_the_rest_back_without_failing_anything(
    settings: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    launched(settings, cohort_id)
    smtp_server.limit(per_window=10)  # no limit set here: the server's 4.7.1 paces the run
    config = limited(smtp_server, settings, smtp_connections=3)

    result = sweep(config, LAUNCH)
    assert (result.sent, result.held_back, result.failed, result.retry) == (10, 15, 0, 0)
    assert result.held_by == (
        "because the mail server asked to slow down (451 4.7.1 too many messages)"
    )
    assert result.deferred is None and result.incomplete() is None
    assert outbox(config.database_url) == {"sent": 10, "pending": 15}
    assert attempts_of_pending(config.database_url) == {0}  # not counted as tries
    assert len(smtp_server.messages) == 10
    with session_scope(config.database_url) as session:
        errors = set(session.scalars(select(Notice.last_error).where(Notice.status == "pending")))
    assert errors == {"the mail server asked to slow down (451 4.7.1 too many messages)"}

    smtp_server.new_window()
    assert sweep(config, LAUNCH + MINUTE).sent == 10
    smtp_server.new_window()
    last = sweep(config, LAUNCH + 2 * MINUTE)
    assert (last.sent, last.held_back) == (5, 0)
    ids = {received.message["Message-ID"] for received in smtp_server.messages}
    assert len(smtp_server.messages) == len(ids) == 25
    assert outbox(config.database_url) == {"sent": 25}


@pytest.mark.parametrize(
    "reply",
    ["421 4.7.0 Try again later", "450 4.7.1 rate limited", "452 4.7.28 too many recipients"],
)
def test_each_4_7_x_reply_is_a_slow_down_and_other_4xx_are_not(
    settings: Settings, cohort_id: str, smtp_server: SmtpServer, reply: str
) -> None:
    launched(settings, cohort_id)
    config = limited(smtp_server, settings, smtp_connections=1)
    smtp_server.fail_data(1, "451 4.3.0 try later")  # a plain 4xx: retried, then sent
    smtp_server.limit(per_window=3, reply=reply)
    result = sweep(config, LAUNCH)
    assert (result.sent, result.held_back, result.failed) == (3, 22, 0)
    assert result.held_by is not None and reply.split(" ", 1)[1] in result.held_by


def test_the_day_limit_holds_the_rest_until_a_day_after_the_first_sends(
    settings: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    launched(settings, cohort_id)
    config = limited(smtp_server, settings, smtp_max_per_day=10, smtp_max_per_minute=30)

    first = sweep(config, LAUNCH)
    assert (first.sent, first.held_back) == (10, 15)
    assert first.held_by == "by the provider's limit (10 a day)"
    later = sweep(config, LAUNCH + timedelta(hours=23))
    assert (later.sent, later.held_back, later.held_by) == (0, 15, first.held_by)
    next_day = sweep(config, LAUNCH + timedelta(days=1))  # the first sends leave the window
    assert (next_day.sent, next_day.held_back) == (10, 5)
    assert sweep(config, LAUNCH + timedelta(days=2)).sent == 5
    assert len(smtp_server.messages) == 25 and outbox(config.database_url) == {"sent": 25}


def test_the_outbox_folder_is_never_limited(settings: Settings, cohort_id: str) -> None:
    launched(settings, cohort_id)
    config = settings.model_copy(update={"smtp_max_per_minute": 1, "smtp_max_per_day": 1})
    result = sweep(config, LAUNCH)
    assert (result.sent, result.held_back) == (25, 0)


def test_two_workers_at_once_never_share_one_allowance(
    settings: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    """Both count and claim under the pace lock: together they send 12, not 24."""
    launched(settings, cohort_id)
    config = limited(smtp_server, settings, smtp_max_per_minute=12, batch_size=5)
    results: list[DeliveryResult] = []
    start = threading.Barrier(2)

    def worker(name: str) -> None:
        start.wait(timeout=60)
        results.append(
            deliver_all(
                url=config.database_url,
                settings=config,
                now=LAUNCH,
                worker=name,
                clock=FrozenClock(LAUNCH),
            )
        )

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2
    assert sum(r.sent for r in results) == 12 == len(smtp_server.messages)
    assert outbox(config.database_url) == {"sent": 12, "pending": 13}


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_journey_remind_says_what_it_held_back_and_exits_0(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One real run: the summary line, and exit 0 (pacing is not a fault)."""
    from prefect.settings import PREFECT_API_URL

    launched(use_smtp, cohort_id)
    monkeypatch.setenv("JOURNEY_SMTP_MAX_PER_MINUTE", "10")
    env = {"PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "400"}
    result = journey("remind", "--now", "2026-09-01T11:00", env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Delivered 10 to SMTP 127.0.0.1" in output
    assert (
        "Held back by the provider's limit (10 a minute): 15; the next sweep sends them."
    ) in output
    assert len(smtp_server.messages) == 10
    assert outbox(use_smtp.database_url) == {"sent": 10, "pending": 15}
