"""The README's first command: ``journey demo`` on embedded defaults, end to end."""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.prefect
def test_the_demo_walks_nine_months_into_the_outbox(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "160"}
    env.pop("PREFECT_API_URL", None)
    folder = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "journey.cli", "demo", "--dir", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Imported 20 trainees from 10 institutions" in out
    sent = int(re.search(r"^(\d+) emails sent \(", out, re.M).group(1))  # type: ignore[union-attr]
    files = sorted((folder / "outbox").glob("*.eml"))
    assert sent == len(files) > 400
    kinds = re.search(r"By kind: (.*)", out).group(1)  # type: ignore[union-attr]
    for kind in (
        "welcome",
        "stage-reminder",
        "mentoring-booking",
        "session-invitation",
        "presentation-reminder",
        "graduation-invitation",
        "digest",
    ):
        assert kind in kinds
    assert "overdue-organiser" not in kinds  # told in the organiser's daily digest
    for happening in ("opts out of email", "then corrected to", "withdraws:", "joins late:"):
        assert happening in out
    roles = re.search(r"Emails by role: (.*)", out).group(1)  # type: ignore[union-attr]
    assert "organiser " in roles and "organiser 0" not in roles
    assert re.search(r"organiser \d+ \(at most 1 to one person in a day\)", roles)
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] and message.get_body(("plain",)) is not None
    assert "Journey, in order: training, listening" in out
