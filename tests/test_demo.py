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
    sent = int(re.search(r"^(\d+) notices sent, \d+ cancelled", out, re.M).group(1))  # type: ignore[union-attr]
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
        "overdue-organiser",
    ):
        assert kind in kinds
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] and message.get_body(("plain",)) is not None
    assert "Journey, in order: training, listening" in out
