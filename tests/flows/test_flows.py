"""Real Prefect runs of every flow (one shared test harness): names, tags, safety to re-run."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.states import State
from sqlalchemy import func, select

from journey.db import session_scope
from journey.flows.deliver_notices import deliver_notices
from journey.flows.launch_cohort import launch_cohort
from journey.flows.record_completion import record_completion
from journey.flows.send_reminders import send_reminders
from journey.flows.trainee_journey import trainee_journey
from journey.models import Completion, Notice
from journey.services.outcomes import RecordSummary
from journey.settings import Settings
from journey.tasks.common import AddressesWithheld
from tests.conftest import utc
from tests.smtp_server import SmtpServer

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
LAUNCH = utc("2026-09-01T09:00")


def run_record(state: State[Any]) -> tuple[str, list[str]]:
    flow_run_id = state.state_details.flow_run_id
    assert isinstance(flow_run_id, UUID)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
    return run.name, sorted(run.tags)


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_launch_cohort_twice_sends_each_notice_once(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    state = launch_cohort(cohort_id, now=LAUNCH, return_state=True)
    assert state.is_completed()
    assert run_record(state) == ("launch mk-2026", ["cohort:mk-2026"])
    summary = state.result()
    assert (summary.welcomes, summary.delivery.sent) == (20, 25)
    assert summary.artifacts == {
        "table": "mk-2026-progress-table",
        "progress": "mk-2026-progress",
        "summary": "mk-2026-summary",
    }
    again = launch_cohort(cohort_id, now=utc("2026-09-02T09:00"))
    assert again.delivery is not None and again.delivery.sent == 0
    assert len(smtp_server.messages) == 25 and count(use_smtp.database_url, Notice) == 25


def test_send_reminders_sweeps_and_delivers_and_is_safe_to_rerun(
    use_smtp: Settings, cohort_id: str, smtp_server: SmtpServer
) -> None:
    launch_cohort(cohort_id, now=LAUNCH)
    at = utc("2026-09-18T08:00")  # training -7d@09:00 BST
    state = send_reminders(now=at, return_state=True)
    assert run_record(state)[0] == "reminders 2026-09-18"
    assert state.result().delivery.sent == 20
    again = send_reminders(now=at).delivery
    assert again is not None and again.sent == 0
    assert deliver_notices(now=at).sent == 0
    assert len(smtp_server.messages) == 45


def test_trainee_journey_is_named_and_tagged_for_the_cohort(
    settings: Settings, cohort_id: str
) -> None:
    launch_cohort(cohort_id, now=LAUNCH)
    state = trainee_journey(
        cohort_id, "aisha.rahman@example.org", now=utc("2026-09-24T08:30"), return_state=True
    )
    name, tags = run_record(state)
    assert name == "journey mk-2026 / Aisha Rahman"  # her name, never her address
    assert tags == ["cohort:mk-2026"]
    result = state.result()
    assert result.position == "training"
    # Her -7d and -1d training reminders are both due: only the latest goes (catch-up).
    assert (result.queued.queued, result.queued.superseded) == (1, 1)


TRAINED = utc("2026-09-26T18:00")  # after both training days


def test_record_completion_with_bad_input_fails_the_run_and_writes_nothing(
    settings: Settings, cohort_id: str
) -> None:
    state = record_completion(
        cohort_id, ["ghost@example.org"], "listening", now=LAUNCH, return_state=True
    )
    assert state.is_failed()
    assert "no trainee of cohort 'mk-2026' has the address given" in str(state.message)
    assert "ghost" not in str(state.message)
    with pytest.raises(AddressesWithheld, match="has the address given"):
        state.result()
    state = record_completion(
        cohort_id, ["aisha.rahman@example.org"], "lisening", now=LAUNCH, return_state=True
    )
    assert state.is_failed()
    assert "unknown milestone 'lisening'; the programme has: training, listening" in str(
        state.message
    )
    assert count(settings.database_url, Completion) == 0
    trial = record_completion(
        cohort_id, ["aisha.rahman@example.org"], "training", now=TRAINED, dry_run=True
    )
    assert trial == RecordSummary(recorded=1, already=0)
    assert count(settings.database_url, Completion) == 0
    done = record_completion(cohort_id, ["aisha.rahman@example.org"], "training", now=TRAINED)
    assert done == RecordSummary(recorded=1, already=0)
    assert count(settings.database_url, Completion) == 2  # both training days


def test_the_smtp_password_can_come_from_a_prefect_secret_block_and_never_shows(
    use_smtp: Settings,
    cohort_id: str,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prefect.blocks.system import Secret

    from journey.settings import get_settings

    secret = "right-horse-battery-staple"
    Secret(value=secret).save("journey-smtp-password", overwrite=True)
    smtp_server.credentials = ("journey", secret)
    monkeypatch.setenv("JOURNEY_SMTP_USERNAME", "journey")
    monkeypatch.setenv("JOURNEY_SMTP_PASSWORD_BLOCK", "journey-smtp-password")
    get_settings.cache_clear()
    caplog.set_level("DEBUG")
    summary = launch_cohort(cohort_id, now=LAUNCH)
    assert summary.delivery is not None and summary.delivery.sent == 25
    assert len(smtp_server.messages) == 25
    assert secret not in repr(summary) and secret not in caplog.text
    assert secret not in repr(get_settings()) and secret not in str(get_settings().model_dump())
