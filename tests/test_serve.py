"""``journey serve`` against a real Prefect server: deployments, schedules, a form run."""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.server.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import func, select

from journey.db import session_scope
from journey.models import Completion
from journey.programme import load_programme
from journey.serving import reminder_crons, rule_times
from journey.settings import Settings
from tests.prefect_server import BIN, PrefectServer, quiet_env
from tests.test_cli import journey

LONDON = ZoneInfo("Europe/London")


def test_the_default_programme_needs_sweeps_at_eight_and_nine() -> None:
    times = rule_times([load_programme("default")])
    assert reminder_crons(times, None) == ["0 8 * * *", "0 9 * * *"]
    assert reminder_crons(times, "30 7 * * 1-5") == ["30 7 * * 1-5"]


def test_the_cron_stays_at_eight_local_across_both_clock_changes() -> None:
    schedule = CronSchedule(cron="0 8 * * *", timezone="Europe/London")
    for start, hours_utc in (
        (datetime(2027, 3, 27, tzinfo=UTC), [8, 7, 7]),
        (datetime(2026, 10, 24, tzinfo=UTC), [7, 8, 8]),
    ):
        dates = asyncio.run(schedule.get_dates(n=3, start=start))
        assert [d.astimezone(LONDON).hour for d in dates] == [8, 8, 8]
        assert [d.astimezone(UTC).hour for d in dates] == hours_utc


def test_serve_with_no_server_says_so_in_one_line(settings: Settings) -> None:
    result = journey("serve", env={"PREFECT_API_URL": "http://127.0.0.1:9/api"})
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot reach the Prefect API at http://127.0.0.1:9/api")
    assert len(result.stderr.splitlines()) == 1


def wait_for_deployments(count: int, timeout: float = 90) -> list[str]:
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            names = sorted(
                f"{client.read_flow(d.flow_id).name}/{d.name}" for d in client.read_deployments()
            )
            if len(names) >= count or time.monotonic() > deadline:
                return names


@pytest.mark.prefect
def test_serve_offers_the_deployments_and_runs_the_record_form(
    served: PrefectServer, settings: Settings, cohort_id: str
) -> None:
    assert wait_for_deployments(5) == [
        "deliver-notices/organiser",
        "launch-cohort/organiser",
        "record-completion/organiser",
        "send-reminders/daily",
        "trainee-journey/organiser",
    ]
    with get_client(sync_client=True) as client:
        daily = client.read_deployment_by_name("send-reminders/daily")
        crons = sorted((s.schedule.cron, s.schedule.timezone) for s in daily.schedules)  # type: ignore[union-attr]
        form = client.read_deployment_by_name(
            "record-completion/organiser"
        ).parameter_openapi_schema
    assert crons == [("0 8 * * *", "Europe/London"), ("0 9 * * *", "Europe/London")]
    assert form["properties"]["milestone"]["$ref"] == "#/definitions/MilestoneId"
    assert form["definitions"]["MilestoneId"]["enum"][:2] == ["training", "listening"]
    assert form["properties"]["milestone"]["description"].startswith("A milestone id")
    run = run_deployment(
        "record-completion/organiser",
        timeout=120,
        parameters={
            "cohort_id": cohort_id,
            "emails": ["aisha.rahman@example.org"],
            "milestone": "listening",
            "on": "2026-11-02",
        },
    )
    assert run.state is not None and run.state.is_completed(), run.state
    assert run.name == "record mk-2026 listening"
    assert sorted(run.tags) == ["cohort:mk-2026", "leadership-journey", "milestone:listening"]
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 1


@pytest.mark.prefect
def test_prefect_yaml_deploys_to_a_work_pool(prefect_server: PrefectServer, tmp_path: Path) -> None:
    """For organisations with workers: `prefect deploy --all` accepts the project's file."""
    root = Path(__file__).resolve().parent.parent
    env = quiet_env(
        tmp_path / "home", PREFECT_API_URL=prefect_server.api_url, JOURNEY_PROJECT_DIR=str(root)
    )
    prefect = [str(BIN / "prefect"), "--no-prompt"]
    for args in (["work-pool", "create", "journey", "--type", "process"], ["deploy", "--all"]):
        result = subprocess.run(
            [*prefect, *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with (
        temporary_settings({PREFECT_API_URL: prefect_server.api_url}),
        get_client(sync_client=True) as client,
    ):
        pooled = [d for d in client.read_deployments() if d.work_pool_name == "journey"]
        daily = client.read_deployment_by_name("send-reminders/daily")
    assert len(pooled) == 5
    assert sorted(s.schedule.cron for s in daily.schedules) == ["0 8 * * *", "0 9 * * *"]  # type: ignore[union-attr]
