"""The README's first command: ``journey demo`` on embedded defaults, end to end."""

from __future__ import annotations

import csv
import email
import email.policy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from journey.cli.demo.run import DEMO_FILES
from journey.services.report import md_escape


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
    left = {p.name for p in folder.iterdir()}
    assert left <= {*DEMO_FILES, "outbox"}  # so a second run may empty the folder
    assert {"after-training.csv", "at-graduation.csv", "report.md", "report.html"} <= left
    assert f"The funder's report is {(folder / 'report.md').resolve()}" in out
    check_the_funders_report(folder)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":  # the sample the README links to
        sample = Path(__file__).resolve().parents[2] / "docs" / "funder-report-sample.html"
        sample.write_bytes((folder / "report.html").read_bytes())


def forms(path: Path) -> tuple[int, int, list[str]]:
    """A typed-up questionnaire's responses: named, anonymous, and the comments."""
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    named = sum(1 for r in rows if r["email"])
    return named, len(rows) - named, [r["comments"] for r in rows if r["comments"]]


def check_the_funders_report(folder: Path) -> None:
    """report.md holds the year's figures, and every form typed up in the demo folder."""
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert report.startswith("# Funder's report: ")
    assert "30 Jun 2027 13:00" in report.split("\n## ", 1)[0]  # made as at the demo's end
    assert re.search(r"^21 leaders from 10 institutions .* enrolled\.", report, re.M)
    assert re.search(r"^\| all places \| 21 \| \d+ \|$", report, re.M)
    assert re.search(r"^1 trainee withdrew", report, re.M)
    assert re.search(r"^\d+ of the \d+ trainees it is open to are eligible", report, re.M)
    evaluation = report.split("## Evaluation\n", 1)[1]
    titles = [
        md_escape(t)
        for t in (
            "After the Two-Day Training",
            "After the last Action Learning Set",
            "At graduation",
        )
    ]
    files = ["after-training.csv", "after-last-set.csv", "at-graduation.csv"]
    sections = re.split(r"^### ", evaluation, flags=re.M)[1:]
    assert [s.split("\n", 1)[0] for s in sections] == titles
    for section, file in zip(sections, files, strict=True):
        named, anonymous, comments = forms(folder / file)
        assert named >= 5 and anonymous >= 1 and len(comments) >= 1
        assert f"\n{named + anonymous} responses ({named} named, {anonymous} anonymous).\n" in (
            section
        )
        assert all(section.count(md_escape(c)) == 1 for c in comments)
        score = re.search(
            r"^\| The .* out of 10 \| (\d+) \| ([\d.]+) \| ([\d.]+) \|$", section, re.M
        )
        assert score is not None and int(score[1]) == named + anonymous
        assert 6 <= float(score[2]) <= 10
    assert "@" not in evaluation  # anonymous or not, no one is named in the report
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>") and "After the Two-Day" in html
