"""``journey deploy --pool`` against a real Prefect server: the deployments on a work pool,
a send-reminders deployment per cohort time zone, no password in the job variables, the
record form, idempotence, and refresh-deployments adding and removing zones."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlalchemy import update

from journey.db import session_scope
from journey.deployments import absolute_sqlite, job_env, zone_slug
from journey.models import Cohort
from journey.programme import default_programme_text, load_programme
from journey.settings import Settings
from journey.tasks.plan import cohorts_in_zone
from tests.conftest import EXAMPLES, utc
from tests.prefect_server import BIN, PrefectServer, events_to, quiet_env

DEFAULT_IDS = list(load_programme("default").ids)
PASSWORD = "correct-horse-battery-staple"
ON_DEMAND = [
    "deliver-notices/organiser",
    "funder-report/organiser",
    "launch-cohort/organiser",
    "record-completion/organiser",
    "trainee-journey/organiser",
    "withdraw-trainee/organiser",
]


def import_cohort_in(url: str, folder: Path, cohort_id: str, zone: str, custom: bool) -> None:
    """The example cohort as ``cohort_id`` in time zone ``zone``; with ``custom``, on its own
    programme: the default one with Stage 2 (``issues``) replaced by ``house-meetings``,
    and every 09:00 rule at 10:30 instead."""
    from journey.cohort.file import read_cohort
    from journey.services.cohorts import import_cohort

    here = folder / cohort_id
    here.mkdir()
    cohort = (EXAMPLES / "cohort.yaml").read_text()
    cohort = cohort.replace("id: mk-2026", f"id: {cohort_id}").replace(
        "timezone: Europe/London", f"timezone: {zone}"
    )
    if custom:
        (here / "custom.yaml").write_text(
            default_programme_text()
            .replace("id: default", "id: custom")
            .replace("@09:00", "@10:30")
            .replace(
                '{id: issues, title: "Stage 2: Issues"',
                '{id: house-meetings, title: "Stage 2: House meetings"',
            )
        )
        cohort = cohort.replace("programme: default", "programme: custom.yaml")
    (here / "cohort.yaml").write_text(cohort)
    spec = read_cohort(here / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))


def deploy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``journey deploy`` in a process of its own, as an operator runs it."""
    return subprocess.run(
        [str(BIN / "journey"), "deploy", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def deploy_env(settings: Settings, prefect_server: PrefectServer, tmp_path: Path) -> dict[str, str]:
    """The operator's environment: the test's database, an SMTP server with a password,
    a global SMTP connection limit."""
    return quiet_env(
        tmp_path / "prefect-home",
        PREFECT_API_URL=prefect_server.api_url,
        JOURNEY_DATABASE_URL=settings.database_url,
        JOURNEY_OUTBOX_DIR=str(settings.outbox_dir),
        JOURNEY_SMTP_HOST="127.0.0.1",
        JOURNEY_SMTP_PORT="2525",
        JOURNEY_SMTP_STARTTLS="false",
        JOURNEY_SMTP_USERNAME="journey",
        JOURNEY_SMTP_PASSWORD=PASSWORD,
        JOURNEY_SMTP_GLOBAL_LIMIT="2",
    )


@pytest.fixture
def on_server(prefect_server: PrefectServer) -> Iterator[None]:
    """This process's Prefect client (and its flow runs) pointed at the test server."""
    with (
        temporary_settings({PREFECT_API_URL: prefect_server.api_url}),
        events_to(prefect_server.api_url),
    ):
        yield


def on_pool(pool: str) -> dict[str, DeploymentResponse]:
    """The deployments on a work pool, by ``flow/name``."""
    with get_client(sync_client=True) as client:
        found = client.read_deployments()
        flows = {f.id: f.name for f in client.read_flows()}
    return {f"{flows[d.flow_id]}/{d.name}": d for d in found if d.work_pool_name == pool}


def crons(deployment: DeploymentResponse) -> list[tuple[str, str | None]]:
    out = []
    for s in deployment.schedules:
        assert isinstance(s.schedule, CronSchedule)
        out.append((s.schedule.cron, s.schedule.timezone))
    return sorted(out)


@pytest.mark.prefect
def test_deploy_puts_a_sweep_per_zone_and_the_forms_on_the_pool_without_the_password(
    settings: Settings, deploy_env: dict[str, str], on_server: None, tmp_path: Path
) -> None:
    url = settings.database_url
    import_cohort_in(url, tmp_path, "mk-2026", "Europe/London", custom=False)
    import_cohort_in(url, tmp_path, "nyc-2026", "America/New_York", custom=True)
    result = deploy(deploy_env, "--pool", "pool-a")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Work pool pool-a: created (type process)." in result.stdout
    deployed = on_pool("pool-a")
    london = "send-reminders/daily-europe-london"
    new_york = "send-reminders/daily-america-new-york"
    assert sorted(deployed) == sorted([*ON_DEMAND, london, new_york, "refresh-deployments/refresh"])
    for name, d in deployed.items():
        assert d.entrypoint and d.entrypoint.startswith("journey.flows."), name
        assert ":" not in d.entrypoint and not d.pull_steps, name  # no checkout needed
        assert PASSWORD not in d.model_dump_json(), name
    assert deployed[london].entrypoint == "journey.flows.send_reminders.send_reminders"
    assert crons(deployed[london]) == [
        ("0 8 * * *", "Europe/London"),
        ("0 9 * * *", "Europe/London"),
    ]
    assert crons(deployed[new_york]) == [
        ("0 8 * * *", "America/New_York"),
        ("30 10 * * *", "America/New_York"),
    ]
    assert deployed[new_york].parameters == {"timezone": "America/New_York"}
    for sweep in (deployed[london], deployed[new_york]):
        limit, options = sweep.global_concurrency_limit, sweep.concurrency_options
        assert limit is not None and limit.limit == 1
        assert options is not None
        assert options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
    refresh = deployed["refresh-deployments/refresh"]
    assert refresh.global_concurrency_limit is not None
    assert refresh.global_concurrency_limit.limit == 1
    assert refresh.concurrency_options is not None
    assert refresh.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    env: dict[str, Any] = deployed[london].job_variables["env"]
    assert env["JOURNEY_SMTP_PASSWORD_BLOCK"] == "journey-smtp-password"
    assert "JOURNEY_SMTP_PASSWORD" not in env
    assert env["JOURNEY_SMTP_HOST"] == "127.0.0.1"
    assert env["JOURNEY_SMTP_STARTTLS"] == "false"
    assert env["JOURNEY_SMTP_GLOBAL_LIMIT"] == "2"
    assert env["JOURNEY_DATABASE_URL"] == absolute_sqlite(url)
    secret = Secret.load("journey-smtp-password")
    assert isinstance(secret, Secret) and secret.get() == PASSWORD
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name("journey-smtp").limit == 2
    form = deployed["record-completion/organiser"].parameter_openapi_schema
    assert form is not None
    assert form["properties"]["milestone"]["enum"] == [*DEFAULT_IDS, "house-meetings"]
    assert form["properties"]["milestone"]["description"].startswith("A milestone id")


@pytest.mark.prefect
def test_deploying_twice_changes_nothing_the_second_time_and_says_so(
    settings: Settings, deploy_env: dict[str, str], on_server: None, tmp_path: Path
) -> None:
    import_cohort_in(settings.database_url, tmp_path, "mk-2026", "Europe/London", custom=False)
    first = deploy(deploy_env, "--pool", "pool-b", "--refresh-every", "30m")
    assert first.returncode == 0, first.stdout + first.stderr
    before = {name: d.updated for name, d in on_pool("pool-b").items()}
    second = deploy(deploy_env, "--pool", "pool-b", "--refresh-every", "30m")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Work pool pool-b: exists." in second.stdout
    assert "SMTP password: already in Prefect Secret block" in second.stdout
    assert "Nothing changed: 8 deployments already as defined." in second.stdout
    assert {name: d.updated for name, d in on_pool("pool-b").items()} == before
    assert "updated (schedules)" in deploy(deploy_env, "--pool", "pool-b").stdout  # back to 1h


@pytest.mark.prefect
def test_refresh_adds_a_new_zones_sweep_and_removes_one_no_cohort_uses(
    settings: Settings, deploy_env: dict[str, str], on_server: None, tmp_path: Path
) -> None:
    from journey.flows.refresh_deployments import refresh_deployments

    url = settings.database_url
    import_cohort_in(url, tmp_path, "mk-2026", "Europe/London", custom=False)
    result = deploy(deploy_env, "--pool", "pool-c")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [n for n in on_pool("pool-c") if n.startswith("send-reminders/")] == [
        "send-reminders/daily-europe-london"
    ]
    import_cohort_in(url, tmp_path, "tokyo-2026", "Asia/Tokyo", custom=False)
    done = refresh_deployments()
    assert done["created"] == ["send-reminders/daily-asia-tokyo"]
    tokyo = on_pool("pool-c")["send-reminders/daily-asia-tokyo"]
    assert crons(tokyo) == [("0 8 * * *", "Asia/Tokyo"), ("0 9 * * *", "Asia/Tokyo")]
    assert tokyo.job_variables == on_pool("pool-c")["launch-cohort/organiser"].job_variables
    with session_scope(url) as session:
        session.execute(update(Cohort).values(timezone="Europe/London"))
    done = refresh_deployments()
    assert done["removed"] == ["send-reminders/daily-asia-tokyo"]
    assert "send-reminders/daily-asia-tokyo" not in on_pool("pool-c")
    assert list(refresh_deployments()) == ["unchanged"]  # nothing left to do


@pytest.mark.prefect
def test_deploy_with_no_server_says_so_in_one_line_and_exits_75(
    settings: Settings, tmp_path: Path
) -> None:
    env = quiet_env(
        tmp_path / "home",
        PREFECT_API_URL="http://127.0.0.1:9/api",
        JOURNEY_DATABASE_URL=settings.database_url,
    )
    result = deploy(env, "--pool", "journey")
    assert result.returncode == 75, result.stdout + result.stderr
    assert result.stderr.startswith("Error: cannot reach the Prefect API at http://127.0.0.1:9/api")
    assert len(result.stderr.splitlines()) == 1
    env.pop("PREFECT_API_URL")
    result = deploy(env, "--pool", "journey")
    assert result.returncode == 1
    assert result.stderr.startswith("Error: journey deploy needs a Prefect server")


def test_a_refresh_period_that_cannot_be_read_is_a_usage_error(settings: Settings) -> None:
    result = deploy(quiet_env(Path("/nonexistent")), "--pool", "p", "--refresh-every", "2w")
    assert result.returncode == 2
    assert "'2w' is not a duration, e.g. 26h, 90m or 1d2h" in result.stderr


def test_zone_names_and_job_variables(settings: Settings) -> None:
    assert zone_slug("Europe/London") == "europe-london"
    assert zone_slug("America/Argentina/Buenos_Aires") == "america-argentina-buenos-aires"
    assert zone_slug("Etc/GMT+5") != zone_slug("Etc/GMT-5")
    assert absolute_sqlite("sqlite:///journey.db") == f"sqlite:///{Path.cwd() / 'journey.db'}"
    assert absolute_sqlite("postgresql+psycopg://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    with_password = settings.model_copy(update={"smtp_password": "x"})
    env = job_env(with_password, None)
    assert "JOURNEY_SMTP_PASSWORD" not in json.dumps(env)
    assert env["JOURNEY_SMTP_RETRY_DELAYS"] == "[0.0, 0.0]"  # set by the test's settings
    assert env["JOURNEY_OUTBOX_DIR"] == str(settings.outbox_dir.resolve())


def test_a_zones_sweep_is_limited_to_that_zones_cohorts(settings: Settings, tmp_path: Path) -> None:
    url = settings.database_url
    import_cohort_in(url, tmp_path, "mk-2026", "Europe/London", custom=False)
    import_cohort_in(url, tmp_path, "nyc-2026", "America/New_York", custom=False)
    with session_scope(url) as session:
        assert cohorts_in_zone(session, "America/New_York", None) == ["nyc-2026"]
        assert cohorts_in_zone(session, "America/New_York", ["mk-2026"]) == []
        assert cohorts_in_zone(session, "Asia/Tokyo", None) == []  # never every cohort
        assert cohorts_in_zone(session, "Europe/London", ["mk-2026", "nyc-2026"]) == ["mk-2026"]


@pytest.mark.prefect
def test_a_zones_sweep_run_queues_for_that_zones_cohorts_only(
    settings: Settings, on_server: None, tmp_path: Path
) -> None:
    from journey.flows.send_reminders import send_reminders
    from journey.services.sweep import launch

    url = settings.database_url
    import_cohort_in(url, tmp_path, "mk-2026", "Europe/London", custom=False)
    import_cohort_in(url, tmp_path, "nyc-2026", "America/New_York", custom=False)
    with session_scope(url) as session:
        for cohort in ("mk-2026", "nyc-2026"):
            launch(session=session, cohort_id=cohort, now=utc("2026-09-01T09:00"))
    at = utc("2026-10-02T13:00")
    zoned = send_reminders(now=at, timezone="America/New_York", dry_run=True)
    assert zoned.queued.cohorts == ["nyc-2026"]
    assert zoned.queued.queued > 0
    everyone = send_reminders(now=at, dry_run=True)
    assert everyone.queued.cohorts == ["mk-2026", "nyc-2026"]
    assert everyone.queued.queued > zoned.queued.queued
