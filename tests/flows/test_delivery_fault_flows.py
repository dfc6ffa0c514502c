"""A flow run whose delivery falls short ends Failed, with the reason as its message,
after recording and publishing what it did; the delivery task does not repeat waits the
transport already made."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.states import State
from sqlalchemy import select

from journey.db import session_scope
from journey.errors import DeliveryIncomplete
from journey.flows.deliver_notices import deliver_notices
from journey.flows.launch_cohort import launch_cohort
from journey.flows.send_reminders import send_reminders
from journey.models import Notice
from journey.services.outcomes import DeliverySummary, LaunchSummary, SweepSummary
from journey.services.sweep import launch
from journey.settings import Settings, get_settings
from tests.conftest import utc
from tests.smtp_server import SmtpServer, free_port

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
LAUNCH = utc("2026-09-01T09:00")
AISHA = "aisha.rahman@example.org"


def statuses(url: str) -> Counter[tuple[str, str | None]]:
    with session_scope(url) as session:
        return Counter((n.status.value, n.last_error) for n in session.scalars(select(Notice)))


def failure(state: State[Any]) -> DeliveryIncomplete:
    """The error a Failed run ended with (what the CLI reads its exit code from)."""
    assert state.is_failed(), state
    error = state.result(raise_on_failure=False)
    assert isinstance(error, DeliveryIncomplete)
    return error


def delivery_task_runs(state: State[Any]) -> list[int]:
    """How many times each deliver-batch task of the run ran (retries count)."""
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    flow_run_id = state.state_details.flow_run_id
    assert isinstance(flow_run_id, UUID)
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="deliver-batch")),
        )
    return [run.run_count for run in runs]


def test_send_reminders_fails_when_the_outbox_cannot_be_written(
    settings: Settings, cohort_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    outbox = tmp_path / "a-file" / "outbox"
    monkeypatch.setenv("JOURNEY_OUTBOX_DIR", str(outbox))
    get_settings.cache_clear()
    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    state = send_reminders(now=LAUNCH, return_state=True)
    reason = f"cannot write to the outbox folder {outbox}: Not a directory (JOURNEY_OUTBOX_DIR)"
    assert f"delivery stopped: {reason}; the notices stay pending" in str(state.message)
    error = failure(state)
    assert error.exit_code == 75
    assert isinstance(error.summary, SweepSummary) and error.summary.delivery is not None
    assert error.summary.delivery.unavailable == reason
    assert error.summary.queued.queued == 0  # the sweep's part was done and kept
    assert statuses(settings.database_url) == {("pending", reason): 25}
    assert delivery_task_runs(state) == [1]


def test_launch_cohort_fails_when_the_mail_server_cannot_be_reached(
    settings: Settings, cohort_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("JOURNEY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("JOURNEY_SMTP_PORT", str(port))
    monkeypatch.setenv("JOURNEY_SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    state = launch_cohort(cohort_id, now=LAUNCH, return_state=True)
    where = f"could not reach the SMTP server at 127.0.0.1:{port} (3 tries)"
    assert f"delivery stopped: {where}" in str(state.message)
    error = failure(state)
    assert error.exit_code == 75 and isinstance(error.summary, LaunchSummary)
    assert (error.summary.welcomes, error.summary.first_launch) == (20, True)
    assert error.summary.artifacts is not None
    assert error.summary.artifacts["table"] == "mk-2026-progress-table"  # published first
    assert [status for status, _ in statuses(settings.database_url).elements()] == ["pending"] * 25
    # The transport tried three times; the task did not retry on top of that.
    assert delivery_task_runs(state) == [1]


def test_deliver_notices_fails_when_a_notice_is_refused_for_good(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    smtp_server.refuse_recipient(AISHA)
    with session_scope(use_smtp.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    state = deliver_notices(now=LAUNCH, return_state=True)
    assert "1 notice failed for good: notice " in str(state.message)
    assert ": 550 5.1.1 no such user" in str(state.message)
    error = failure(state)
    assert error.exit_code == 1
    assert isinstance(error.summary, DeliverySummary) and error.summary.sent == 24
    assert len(smtp_server.messages) == 24
    assert statuses(use_smtp.database_url)[("failed", "550 5.1.1 no such user")] == 1


def test_a_run_that_delivers_everything_still_completes(settings: Settings, cohort_id: str) -> None:
    state = launch_cohort(cohort_id, now=LAUNCH, return_state=True)
    assert state.is_completed()
    assert state.result().delivery.sent == 25
