"""``--now`` without an offset is read in the zone of the cohort a command is about, and
``journey upcoming`` shows each row in its own cohort's zone (a list may span cohorts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from journey.cohort.file import read_cohort
from journey.db import session_scope
from journey.models import Completion
from journey.services.cohorts import import_cohort
from journey.services.sweep import launch
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES, utc

AISHA = "aisha.rahman@example.org"
NEW_YORK = "ny-2026"


@pytest.fixture
def new_york(settings: Settings, tmp_path: Path) -> str:
    """The example cohort again as ``ny-2026``, run on New York time: its sessions are at
    the same local times as the London one's, five hours later in UTC."""
    text = (EXAMPLES / "cohort.yaml").read_text()
    text = text.replace("id: mk-2026", f"id: {NEW_YORK}", 1)
    text = text.replace("timezone: Europe/London", "timezone: America/New_York", 1)
    (tmp_path / "cohort.yaml").write_text(text)
    spec = read_cohort(tmp_path / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(settings.database_url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    return spec.id


def launched(url: str, *cohort_ids: str) -> None:
    with session_scope(url) as session:
        for cohort_id in cohort_ids:
            launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T12:00"))


def test_now_is_read_at_nine_in_new_york_for_a_new_york_cohort(
    settings: Settings, new_york: str
) -> None:
    result = journey("record", new_york, AISHA, "listening", "--now", "2026-10-02T09:00")
    assert (result.returncode, result.stderr) == (0, "")
    with session_scope(settings.database_url) as session:
        recorded = session.scalars(select(Completion.recorded_at)).one()
    assert recorded == utc("2026-10-02T13:00")  # 09:00 EDT, not 09:00 BST (08:00 UTC)


def test_upcoming_for_one_cohort_reads_now_in_its_zone(settings: Settings, new_york: str) -> None:
    """The training's -7d@09:00 reminder is at 09:00 New York time on 18 September: a day
    from 09:30 on the 17th (New York) reaches it; a day from 09:30 London time would not."""
    launched(settings.database_url, new_york)
    args = ("upcoming", "--cohort", new_york, "--days", "1", "--now", "2026-09-17T09:30")
    result = journey(*args)
    assert result.returncode == 0, result.stderr
    assert "Fri 18 Sep 2026 09:00" in result.stdout


def test_upcoming_over_every_cohort_shows_each_row_in_its_cohorts_zone(
    settings: Settings, cohort_id: str, new_york: str
) -> None:
    """Both cohorts' reminders are at 09:00 on their own clocks: so the list says."""
    launched(settings.database_url, cohort_id, new_york)
    result = journey("upcoming", "--days", "8", "--now", "2026-09-12T12:00")
    assert result.returncode == 0, result.stderr
    reminders = {
        (cells[1], cells[0])
        for cells in table_rows(result.stdout)
        if cells[4] == "session-reminder"
    }
    assert reminders == {
        (cohort_id, "Fri 18 Sep 2026 09:00"),  # 08:00 UTC
        (NEW_YORK, "Fri 18 Sep 2026 09:00"),  # 13:00 UTC
    }


def table_rows(output: str) -> list[list[str]]:
    """The cells of each row of a rich table: due, cohort, to, about, notice, milestone, state."""
    lines = [line for line in output.splitlines() if line.startswith("│")]
    return [[cell.strip() for cell in line.split("│")[1:-1]] for line in lines]
