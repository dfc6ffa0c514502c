"""The ``journey`` command: examples in every help, one-line errors, no Prefect where not needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup
from typer.testing import CliRunner

from journey.cli import app
from journey.settings import Settings
from tests.conftest import EXAMPLES

COMMANDS = [
    ["db", "upgrade"],
    ["cohort", "import"],
    ["session", "cancel"],
    ["launch"],
    ["record"],
    ["remind"],
    ["upcoming"],
    ["status"],
    ["demo"],
    ["cohort", "list"],
    ["cohort", "add"],
    ["withdraw"],
    ["reinstate"],
    ["person", "show"],
    ["person", "opt-out"],
    ["person", "opt-in"],
    ["report"],
    ["evaluation", "import"],
    ["evaluation", "record"],
    ["person", "export"],
    ["person", "forget"],
    ["person", "prune"],
    ["prune"],
    ["audit"],
    ["deploy"],
    ["alerts", "apply"],
    ["alerts", "list"],
    ["server", "start"],
    ["server", "status"],
    ["server", "stop"],
    ["serve"],
    ["mail"],
    ["mail", "test"],
]


def journey(
    *args: str,
    env: dict[str, str] | None = None,
    probe_prefect: bool = False,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a fresh interpreter; optionally report whether Prefect got imported."""
    code = (
        "import sys\nfrom journey.cli import main\nsys.argv = ['journey', *sys.argv[1:]]\n"
        "try:\n    main()\nfinally:\n"
        + (
            "    print('PREFECT IMPORTED' if 'prefect' in sys.modules else 'no prefect',"
            " file=sys.stderr)\n"
            if probe_prefect
            else "    pass\n"
        )
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: journey" in result.output


def _every_help() -> list[list[str]]:
    """Every command and group of the app, as the words that reach it (``[]`` is ``journey``)."""
    found: list[list[str]] = [[]]

    def walk(group: TyperGroup, words: list[str]) -> None:
        for name, command in group.commands.items():
            found.append([*words, name])
            if isinstance(command, TyperGroup):
                walk(command, [*words, name])

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    walk(root, [])
    return found


@pytest.mark.parametrize("command", _every_help(), ids=lambda words: " ".join(words) or "journey")
def test_help_prints_each_example_on_a_line_of_its_own(command: list[str]) -> None:
    """Click re-wraps a help paragraph to the terminal unless it starts with ``\\b``: at 60
    columns each example (and each of several) must still be one line, as written."""
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=60)
    assert result.exit_code == 0, result.output
    printed = [line.strip() for line in result.output.splitlines()]
    target = typer.main.get_command(app)
    for word in command:
        assert isinstance(target, TyperGroup)
        target = target.commands[word]
    written = [
        line.strip()
        for line in (target.help or "").splitlines()
        if line.strip().startswith("Example:")
    ]
    assert written, f"{' '.join(['journey', *command])} --help has no example"
    for example in written:
        assert example in printed, f"re-wrapped: {example!r}"
    assert all(line.startswith("Example:") for line in printed if "Example:" in line)


def test_everyday_commands_do_not_import_prefect(settings: Settings, cohort_id: str) -> None:
    for args in (
        ["--help"],
        ["status", cohort_id],
        ["upcoming", "--days", "3"],
        ["record", cohort_id, "aisha.rahman@example.org", "listening"],
    ):
        result = journey(*args, probe_prefect=True)
        assert result.returncode == 0, result.stderr
        assert result.stderr.strip().endswith("no prefect"), args


def test_unknown_cohort_is_one_line_and_exit_code_1(settings: Settings) -> None:
    result = journey("record", "nope", "a@example.org", "listening")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: unknown cohort 'nope'; there are no cohorts yet: "
        "journey cohort import COHORT.yaml\n"
    )


def test_an_uninitialised_database_says_what_to_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = journey("status", "mk-2026", env={"JOURNEY_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr == (
        f"Error: the database at {url} is not initialised; run: journey db upgrade\n"
    )


def test_a_bad_roster_lists_every_problem_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    roster = (EXAMPLES / "roster.csv").read_text().splitlines()
    roster[2] = roster[2].replace("david.okonkwo@example.org", "david.okonkwo@")
    roster[3] = roster[3].replace(",member,", ",gold,")
    (tmp_path / "roster.csv").write_text("\n".join(roster) + "\n")
    result = journey(
        "cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(tmp_path / "roster.csv")
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 2 problems found; nothing was written"
    assert lines[1].startswith(f"{tmp_path / 'roster.csv'}:3: email: ")
    assert lines[2].startswith(f"{tmp_path / 'roster.csv'}:4: place: unknown place type 'gold'")
    assert "Traceback" not in result.stderr


def test_import_record_and_status_as_an_organiser_would(settings: Settings) -> None:
    imported = journey(
        "cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(EXAMPLES / "roster.csv")
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("Imported cohort mk-2026: 20 trainees added, 0 updated.")
    recorded = journey(
        "record", "mk-2026", "aisha.rahman@example.org,yusuf.patel@example.org", "training"
    )
    assert recorded.stdout == "training: 2 recorded.\n"
    again = journey("record", "mk-2026", "aisha.rahman@example.org", "training")
    assert again.stdout == "training: 0 recorded, 1 already recorded.\n"
    report = json.loads(
        journey("status", "mk-2026", "--format", "json", "--now", "2026-10-01").stdout
    )
    aisha = next(t for t in report["trainees"] if t["email"] == "aisha.rahman@example.org")
    assert aisha["milestones"]["training"] == "done"
    assert report["launched"] is False


def test_attendance_from_a_csv_file(settings: Settings, cohort_id: str, tmp_path: Path) -> None:
    sheet = tmp_path / "set-1.csv"
    sheet.write_text("name,email\nAisha,aisha.rahman@example.org\nYusuf,yusuf.patel@example.org\n")
    result = journey(
        "record", cohort_id, f"@{sheet}", "learning-set-1", "--now", "2026-12-09T12:00"
    )
    assert (result.returncode, result.stdout) == (0, "learning-set-1: 2 recorded.\n")


def test_csv_status_cannot_smuggle_a_formula(settings: Settings, tmp_path: Path) -> None:
    roster = (
        (EXAMPLES / "roster.csv").read_text().replace("Margaret O'Connor", "=cmd|' /C calc'!A0")
    )
    (tmp_path / "roster.csv").write_text(roster)
    journey(
        "cohort", "import", str(EXAMPLES / "cohort.yaml"), "--roster", str(tmp_path / "roster.csv")
    )
    out = journey("status", "mk-2026", "--format", "csv").stdout.splitlines()
    assert out[1].startswith("'=cmd|' /C calc'!A0,")


def test_launching_an_unknown_cohort_fails_before_prefect_starts(settings: Settings) -> None:
    result = journey("launch", "nope", probe_prefect=True)
    assert result.returncode == 1
    assert result.stderr == (
        "Error: unknown cohort 'nope'; there are no cohorts yet: "
        "journey cohort import COHORT.yaml\nno prefect\n"
    )


def test_upcoming_lists_a_long_window_as_plain_columns(settings: Settings, cohort_id: str) -> None:
    from journey.db import session_scope
    from journey.services.sweep import launch
    from tests.conftest import utc

    with session_scope(settings.database_url) as session:
        launch(session=session, cohort_id=cohort_id, now=utc("2026-09-01T09:00"))
    short = CliRunner().invoke(app, ["upcoming", "--days", "3", "--now", "2026-09-01T09:00"])
    assert short.exit_code == 0 and "┃ Due (local)" in short.output  # a table
    long = CliRunner().invoke(app, ["upcoming", "--days", "400", "--now", "2026-09-01T09:00"])
    assert long.exit_code == 0
    header, rule, *rows, total = long.output.splitlines()
    assert header.split() == [
        "Due",
        "(local)",
        "Cohort",
        "To",
        "About",
        "Notice",
        "Milestone",
        "State",
    ]
    assert set(rule) == {"-", " "}
    assert total == f"{len(rows)} notices." and len(rows) > 500
    assert rows[0].startswith("Tue 01 Sep 2026 10:00  mk-2026  ") and rows[0].endswith("queued")
    assert rows[-1].endswith("planned")
