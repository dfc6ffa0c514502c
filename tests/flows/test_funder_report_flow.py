"""funder-report: a real Prefect run publishes the report ``journey report --format md`` prints."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.utilities.callables import parameter_schema

from journey.db import session_scope
from journey.flows.funder_report import PublishedReport, funder_report, report_key
from journey.services.evaluation import import_responses
from journey.services.record import record
from journey.services.report import md_escape
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import utc
from tests.flows.test_withdraw_flow import run_name_and_tags

NOW = "2026-10-02T12:00:00+00:00"
MARGARET, RUTH = "margaret.oconnor@example.org", "ruth.pemberton@example.org"
RESPONSES = f"""\
email,score,relational-power-before,relational-power-after,leadership-before,leadership-after,motivation-before,motivation-after,comments
{MARGARET},9,3,8,4,7,6,9,The listening exercise changed how I talk to neighbours.
{RUTH},8,2,6,5,6,7,8,
,7,4,7,3,6,5,7,More time for one-to-ones please.
"""


def artifacts_of(state: Any) -> list[Any]:
    """The run's keyed artifacts (Prefect's own records of a failure have no key)."""
    flow_run_id = state.state_details.flow_run_id
    assert isinstance(flow_run_id, UUID)
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return [a for a in found if a.key]


def test_every_parameter_of_funder_report_is_described_and_checked() -> None:
    properties = parameter_schema(funder_report).model_dump()["properties"]
    assert [n for n, spec in properties.items() if not spec.get("description")] == []
    ids = properties["cohort_ids"]
    assert (ids["minItems"], ids["items"]["pattern"]) == (1, "^[a-z0-9][a-z0-9-]{1,62}$")
    assert properties["artifact_key"]["anyOf"][0]["pattern"] == "^[a-z0-9][a-z0-9-]{0,199}$"
    assert report_key(["mk-2026", "mk-2025", "mk-2026"]) == "funder-report-mk-2025-mk-2026"


@pytest.fixture
def autumn(settings: Settings, cohort_id: str) -> Settings:
    """The example cohort launched, training recorded for two, and three responses to the
    after-training questionnaire (one anonymous) imported."""
    url = settings.database_url
    with session_scope(url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    with session_scope(url) as session:
        record(
            session=session,
            cohort_id=cohort_id,
            emails=[MARGARET, RUTH],
            milestone="training",
            on=date(2026, 9, 25),
            now=utc("2026-09-27T12:00"),
        )
        import_responses(
            session=session,
            cohort_id=cohort_id,
            file="after-training.csv",
            text=RESPONSES,
            questionnaire_id="after-training",
            now=utc("2026-09-28T12:00"),
        )
    return settings


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_funder_report_publishes_what_journey_report_prints(autumn: Settings) -> None:
    printed = journey("report", "mk-2026", "--format", "md", "--now", NOW)
    assert printed.returncode == 0, printed.stderr
    assert "3 responses (2 named, 1 anonymous)." in printed.stdout
    state = funder_report(["mk-2026"], now=NOW, return_state=True)  # type: ignore[arg-type]
    assert state.is_completed(), state.message
    result = state.result()
    assert result == PublishedReport("funder-report-mk-2026", printed.stdout)
    assert run_name_and_tags(state) == ("funder report mk-2026", ["cohort:mk-2026"])
    [artifact] = artifacts_of(state)
    assert (artifact.key, artifact.type) == ("funder-report-mk-2026", "markdown")
    assert artifact.data == printed.stdout
    title = md_escape("Two-Day Training 2026")  # as the report's own heading has it
    assert artifact.description == f"Funder's report: {title} (mk-2026) at Fri 02 Oct 2026 13:00"
    again = funder_report(["mk-2026"], now=NOW, artifact_key="autumn-grant", return_state=True)  # type: ignore[arg-type]
    [keyed] = artifacts_of(again)
    assert (keyed.key, keyed.data) == ("autumn-grant", printed.stdout)


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_an_unknown_cohort_fails_the_run_with_one_line_and_publishes_nothing(
    autumn: Settings,
) -> None:
    state = funder_report(["mk-2026", "mk-2099"], now=NOW, return_state=True)  # type: ignore[arg-type]
    assert state.is_failed()
    assert "unknown cohort 'mk-2099'; known cohorts: mk-2026" in str(state.message)
    assert artifacts_of(state) == []
    assert run_name_and_tags(state) == (
        "funder report mk-2026, mk-2099",
        ["cohort:mk-2026", "cohort:mk-2099"],
    )
