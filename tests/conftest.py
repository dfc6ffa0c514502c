"""Shared fixtures: a real SQLite database per test, real SMTP, one Prefect harness.

Prefect's settings are fixed here, before anything imports Prefect: a temporary
PREFECT_HOME, analytics off, quiet logs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="journey-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
TEST_SWITCHES = {"JOURNEY_TEST_DATABASE", "JOURNEY_REQUIRE_POSTGRES"}  # the suite's own
for _key in [k for k in os.environ if k.startswith("JOURNEY_") and k not in TEST_SWITCHES]:
    del os.environ[_key]  # a developer's own settings never leak into a test
# nor their server from `journey server start`: tests that want one start their own
os.environ["JOURNEY_STATE_DIR"] = tempfile.mkdtemp(prefix="journey-state-")

from journey.cohort.specs import CohortSpec  # noqa: E402
from journey.settings import Settings, get_settings  # noqa: E402
from tests.pg import postgres_schema  # noqa: E402

pytest_plugins = ["tests.smtp_server", "tests.prefect_server"]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "mk-2026"
BACKEND = os.environ.get("JOURNEY_TEST_DATABASE", "sqlite")
# The fixture that gives a test the database JOURNEY_TEST_DATABASE chooses (``settings``,
# ``cohort_id``, ``use_smtp`` and every fixture built on them depend on it). ``pg_url`` is
# not here: its tests are on Postgres in every pass, so running them again adds nothing.
DATABASE_FIXTURES = frozenset({"db_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test that uses the chosen database ``database``.

    The Postgres pass of ``make test`` is ``pytest -m database``: a new test that takes a
    database joins it by itself, with no list of paths to keep. A test that reaches the
    database another way (a subprocess given a URL) says so with ``@pytest.mark.database``.
    """
    for item in items:
        if DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.database)


def utc(text: str) -> datetime:
    """``2026-09-01T09:00`` as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def example_with_set_a_moved(folder: Path) -> CohortSpec:
    """The example cohort with Set A's first session moved from 3 to 10 December."""
    from journey.cohort.file import read_cohort

    text = (EXAMPLES / "cohort.yaml").read_text()
    (folder / "cohort.yaml").write_text(
        text.replace("2026-12-03T17:30/19:30", "2026-12-10T17:30/19:30")
    )
    return read_cohort(folder / "cohort.yaml", EXAMPLES / "roster.csv")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file upgraded by Alembic once; each test gets a copy."""
    from journey.db import get_engine, upgrade

    path = tmp_path_factory.mktemp("template") / "journey.db"
    upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()  # checkpoints the WAL into the file
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema in the Postgres test database (empty), dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def db_url(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for this test: SQLite, or Postgres with
    JOURNEY_TEST_DATABASE=postgres (a schema of its own, upgraded by Alembic)."""
    if BACKEND == "postgres":
        from journey.db import upgrade

        with postgres_schema() as url:
            upgrade(url)
            yield url
        return
    path = tmp_path / "journey.db"
    shutil.copy(request.getfixturevalue("migrated_template"), path)
    yield f"sqlite:///{path}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings for this test (outbox folder, no SMTP), also seen by get_settings()."""
    monkeypatch.setenv("JOURNEY_DATABASE_URL", db_url)
    monkeypatch.setenv("JOURNEY_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("JOURNEY_SMTP_RETRY_DELAYS", "[0, 0]")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def use_smtp(settings: Settings, smtp_server, monkeypatch: pytest.MonkeyPatch) -> Settings:  # type: ignore[no-untyped-def]
    """Point the settings at the loopback SMTP server."""
    monkeypatch.setenv("JOURNEY_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("JOURNEY_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("JOURNEY_SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
def cohort_id(settings: Settings) -> str:
    """The example cohort (20 trainees, 10 institutions) imported, not launched."""
    from journey.cohort.file import read_cohort
    from journey.db import session_scope
    from journey.services.cohorts import import_cohort

    spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(settings.database_url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    return spec.id


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One Prefect test harness for every flow test (it costs ~30 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
