"""An organiser's round trip with the real CLI: import, launch, record, remind.

The flow-running commands use the test harness's Prefect API (PREFECT_API_URL), as they
would a running `prefect server`, so each starts in seconds rather than ~20 s.
"""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest

from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.conftest import EXAMPLES

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]


def recipients(outbox: Path, subject_part: str) -> set[str]:
    found = set()
    for path in outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if subject_part in str(message["Subject"]):
            found.add(message["To"].addresses[0].addr_spec)
    return found


def test_reminders_stop_for_what_is_done(settings: Settings, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {"PREFECT_API_URL": str(PREFECT_API_URL.value())}
    outbox = tmp_path / "outbox"
    steps = [
        [
            "cohort",
            "import",
            str(EXAMPLES / "cohort.yaml"),
            "--roster",
            str(EXAMPLES / "roster.csv"),
        ],
        ["launch", "mk-2026", "--now", "2026-09-01T10:00"],
        [
            "record",
            "mk-2026",
            "aisha.rahman@example.org,yusuf.patel@example.org",
            "listening",
            "--on",
            "2026-10-20",
        ],
        ["remind", "--now", "2026-10-31T09:30"],
    ]
    outputs = []
    for step in steps:
        result = journey(*step, env=env)
        assert result.returncode == 0, (step, result.stderr)
        outputs.append(result.stdout)
    assert "Queued 20 welcomes, 5 mentor/facilitator notices" in outputs[1]
    assert f"Delivered 25 to outbox folder {outbox}" in outputs[1]
    reminded = recipients(outbox, "Listening")
    assert len(reminded) == 18
    assert not reminded & {"aisha.rahman@example.org", "yusuf.patel@example.org"}
    again = journey("remind", "--now", "2026-10-31T09:30", env=env)
    assert "Queued 0 notices" in again.stdout and "Delivered 0" in again.stdout
