"""``journey serve`` against a real Prefect server: deployments, schedules, a form run."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.server.schemas.schedules import CronSchedule
from sqlalchemy import func, select

from journey.db import session_scope
from journey.deployments import offered_milestones, reminder_crons, rule_times
from journey.models import Completion
from journey.programme import default_programme_text, load_programme
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc
from tests.prefect_server import PrefectServer

LONDON = ZoneInfo("Europe/London")
DEFAULT_IDS = list(load_programme("default").ids)


def import_custom_cohort(url: str, folder: Path) -> str:
    """The example cohort as ``mk-custom``, on its own programme: the default one with
    Stage 2 (``issues``) replaced by ``house-meetings``."""
    from journey.cohort.file import read_cohort
    from journey.services.cohorts import import_cohort

    (folder / "custom.yaml").write_text(
        default_programme_text()
        .replace("id: default", "id: custom")
        .replace(
            '{id: issues, title: "Stage 2: Issues"',
            '{id: house-meetings, title: "Stage 2: House meetings"',
        )
    )
    cohort = (EXAMPLES / "cohort.yaml").read_text()
    (folder / "cohort.yaml").write_text(
        cohort.replace("id: mk-2026", "id: mk-custom").replace(
            "programme: default", "programme: custom.yaml"
        )
    )
    spec = read_cohort(folder / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    return spec.id


def test_the_default_programme_needs_sweeps_at_eight_and_nine() -> None:
    times = rule_times([load_programme("default")])
    assert reminder_crons(times, None) == ["0 8 * * *", "0 9 * * *"]
    assert reminder_crons(times, "30 7 * * 1-5") == ["30 7 * * 1-5"]


def test_the_form_offers_the_stored_programmes_milestones_or_else_the_defaults(
    settings: Settings, tmp_path: Path
) -> None:
    url = settings.database_url
    assert offered_milestones(settings) == DEFAULT_IDS  # no cohorts yet
    import_custom_cohort(url, tmp_path)
    custom = offered_milestones(settings)
    assert custom[:4] == ["training", "listening", "house-meetings", "research"]
    assert "issues" not in custom
    from journey.cohort.file import read_cohort
    from journey.services.cohorts import import_cohort

    with session_scope(url) as session:
        spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    assert offered_milestones(settings) == [*DEFAULT_IDS, "house-meetings"]  # mk-2026 first


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
    assert result.returncode == 75  # try again later, as for a mail server or database
    assert result.stderr.startswith("Error: cannot reach the Prefect API at http://127.0.0.1:9/api")
    assert len(result.stderr.splitlines()) == 1


SERVED = [
    "deliver-notices/organiser",
    "funder-report/organiser",
    "launch-cohort/organiser",
    "record-completion/organiser",
    "send-reminders/daily-europe-london",
    "trainee-journey/organiser",
    "withdraw-trainee/organiser",
]


def wait_for_deployments(expected: list[str], timeout: float = 90) -> list[str]:
    """The deployments on the server that are not on a work pool (other tests may have
    left some there), once ``expected`` are all there, or when time is up."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            found = client.read_deployments()
            flows = {f.id: f.name for f in client.read_flows()}
            names = sorted(f"{flows[d.flow_id]}/{d.name}" for d in found if not d.work_pool_name)
            if set(expected) <= set(names) or time.monotonic() > deadline:
                return names


def wait_for_milestones(expected: list[str], timeout: float = 90) -> list[str]:
    """The record form's milestone choices, once they are ``expected`` (an earlier test's
    ``journey serve`` may have left its own on the server), or when time is up."""
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            form = client.read_deployment_by_name(
                "record-completion/organiser"
            ).parameter_openapi_schema
            offered: list[str] = form["properties"]["milestone"]["enum"]
            if offered == expected or time.monotonic() > deadline:
                return offered
            time.sleep(0.5)


def record_from_the_form(cohort_id: str, milestone: str, on: str) -> FlowRun:
    """Run record-completion/organiser for Aisha, as the UI's form would, and wait for it;
    as if on the day after ``on`` (a date after now is refused), whatever the wall clock."""
    parameters = {
        "cohort_id": cohort_id,
        "emails": ["aisha.rahman@example.org"],
        "milestone": milestone,
        "on": on,
        "now": f"{date.fromisoformat(on) + timedelta(days=1)}T12:00:00+00:00",
    }
    run = run_deployment("record-completion/organiser", timeout=120, parameters=parameters)
    assert isinstance(run, FlowRun)
    return run


@pytest.mark.prefect
def test_serve_offers_the_deployments_and_runs_the_record_form(
    served: PrefectServer, settings: Settings, cohort_id: str
) -> None:
    names = wait_for_deployments(SERVED)
    assert [n for n in names if n in SERVED or n.startswith("send-reminders/")] == SERVED
    with get_client(sync_client=True) as client:
        daily = client.read_deployment_by_name("send-reminders/daily-europe-london")
        crons = sorted((s.schedule.cron, s.schedule.timezone) for s in daily.schedules)  # type: ignore[union-attr]
        form = client.read_deployment_by_name(
            "record-completion/organiser"
        ).parameter_openapi_schema
    assert crons == [("0 8 * * *", "Europe/London"), ("0 9 * * *", "Europe/London")]
    assert daily.parameters == {"timezone": "Europe/London"}  # the zone's cohorts only
    limit = daily.global_concurrency_limit
    assert limit is not None and limit.limit == 1  # one sweep of a zone at a time
    assert wait_for_milestones(DEFAULT_IDS) == DEFAULT_IDS  # the one cohort's programme
    assert form["properties"]["milestone"]["description"].startswith("A milestone id")
    run = record_from_the_form(cohort_id, "listening", "2026-11-02")
    assert run.state is not None and run.state.is_completed(), run.state
    assert run.name == "record mk-2026 listening"
    assert sorted(run.tags) == ["cohort:mk-2026", "leadership-journey", "milestone:listening"]
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(Completion)) == 1


@pytest.fixture
def custom_cohort(settings: Settings, tmp_path: Path) -> str:
    """A cohort on its own programme, stored before ``served`` starts ``journey serve``."""
    return import_custom_cohort(settings.database_url, tmp_path)


@pytest.mark.prefect
def test_the_served_form_offers_a_custom_programmes_milestone_and_records_it(
    custom_cohort: str, served: PrefectServer, settings: Settings
) -> None:
    assert "record-completion/organiser" in wait_for_deployments(SERVED)
    offered = [*DEFAULT_IDS, "house-meetings"]  # mk-2026's programme, then mk-custom's
    assert wait_for_milestones(offered) == offered
    run = record_from_the_form(custom_cohort, "house-meetings", "2026-12-01")
    assert run.state is not None and run.state.is_completed(), run.state
    with session_scope(settings.database_url) as session:
        done = session.scalars(select(Completion.milestone)).all()
    assert done == ["house-meetings"]
