"""withdraw-trainee: a real Prefect run withdraws through the same service as the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.utilities.callables import parameter_schema
from sqlalchemy import select

from journey.db import session_scope
from journey.flows.withdraw_trainee import withdraw_trainee
from journey.models import Enrolment, EnrolmentStatus, HistoryEntry, Notice, NoticeStatus, Person
from journey.services.membership import Withdrawal
from journey.services.sweep import launch
from journey.settings import Settings
from tests.conftest import utc

AISHA = "aisha.rahman@example.org"
NOW = utc("2026-09-18T08:30")


def run_name_and_tags(state: State[Any]) -> tuple[str, list[str]]:
    flow_run_id = state.state_details.flow_run_id
    assert isinstance(flow_run_id, UUID)
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
    return run.name, sorted(run.tags)


def aisha(url: str) -> tuple[Any, ...]:
    """Her enrolment's state, the statuses of the notices about her, the lines of history."""
    with session_scope(url) as session:
        e = session.scalars(select(Enrolment).join(Person).where(Person.email == AISHA)).one()
        notices = session.scalars(select(Notice.status).where(Notice.enrolment_id == e.id))
        about = select(HistoryEntry.id).where(HistoryEntry.enrolment_id == e.id)
        lines = len(session.scalars(about).all())
        return e.status, e.withdrawn_at, e.withdrawal_reason, sorted(notices), lines


def test_every_parameter_of_withdraw_trainee_is_described_and_checked() -> None:
    properties = parameter_schema(withdraw_trainee).model_dump()["properties"]
    assert [n for n, spec in properties.items() if not spec.get("description")] == []
    assert properties["cohort_id"]["pattern"] == "^[a-z0-9][a-z0-9-]{1,62}$"
    assert properties["on"]["anyOf"][0]["format"] == "date"
    assert properties["reason"]["anyOf"][0]["maxLength"] == 500


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_withdraw_trainee_withdraws_once_and_a_dry_run_or_bad_input_writes_nothing(
    settings: Settings, cohort_id: str
) -> None:
    url = settings.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    before = aisha(url)
    trial = withdraw_trainee(cohort_id, AISHA, on=date(2026, 9, 17), now=NOW, dry_run=True)
    assert (trial.already, trial.cancelled, trial.told) == (False, 1, ("mentor", "facilitator"))
    assert aisha(url) == before
    bad = withdraw_trainee(cohort_id, AISHA, on=date(2026, 9, 19), now=NOW, return_state=True)
    assert bad.is_failed()
    assert "withdrawal date 2026-09-19 is in the future" in str(bad.message)
    assert aisha(url) == before
    state = withdraw_trainee(
        cohort_id, AISHA, on=date(2026, 9, 17), reason="moved", by="Sam", now=NOW,
        return_state=True,
    )  # fmt: skip
    assert state.is_completed()
    assert run_name_and_tags(state) == ("withdraw mk-2026 / Aisha Rahman", ["cohort:mk-2026"])
    result = state.result()
    assert result == Withdrawal(
        "mk-2026", AISHA, date(2026, 9, 17), False, True, 1, ("mentor", "facilitator")
    )
    after = aisha(url)
    assert after == (
        EnrolmentStatus.WITHDRAWN,
        utc("2026-09-16T23:00"),
        "moved",
        [NoticeStatus.CANCELLED, NoticeStatus.HELD, NoticeStatus.HELD],
        1,
    )
    again = withdraw_trainee(cohort_id, AISHA, now=utc("2026-09-20T09:00"))
    assert again.already and aisha(url) == after
