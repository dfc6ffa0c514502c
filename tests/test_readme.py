"""Every command in the README's code blocks, so the README cannot drift from the CLI.

Each ``journey …`` line is parsed by the real Click command tree (an unknown command or
option, or a bad value, fails here), and must be listed below as run or parse-only. The
commands a newcomer runs on one machine with no outside service are then run for real, in
README order, in a folder of their own: a SQLite file, an outbox folder, the example cohort.
The commands are run as written, without ``--now``: the test fixes the one wall clock of the
CLI (``journey.timeutil.wall_clock``) at a moment of the programme for each instead.
``make`` lines must name a target of the Makefile; any other program must be known here.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup

from journey.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^\s*```(?:sh|bash|shell|console)\s*\n(.*?)^\s*```", re.M | re.S)
ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")

# The programs in the README's code blocks that are not this project's CLI or Makefile.
OTHER_PROGRAMS = {"source", "export", "psql", "prefect", ".venv/bin/pytest", ".venv/bin/python"}

# Run for real, in README order: each command and the UTC moment the clock shows meanwhile
# (None: the command does not read the clock).
RUN: dict[str, str | None] = {
    "journey db upgrade": None,
    "journey cohort import examples/mk-2026/cohort.yaml --roster examples/mk-2026/roster.csv": (
        "2026-08-01T09:00"
    ),
    "journey launch mk-2026": "2026-09-01T09:00",
    "journey record mk-2026 aisha.rahman@example.org training": "2026-09-27T09:00",
    "journey record mk-2026 @set-a-december.csv learning-set-1": "2026-12-04T09:00",
    "journey record mk-2026 aisha.rahman@example.org mentoring-1 --on 2026-11-02": (
        "2026-12-04T09:00"
    ),
    "journey upcoming --days 14": "2026-12-04T09:00",
    "journey remind": "2026-12-04T09:00",
    "journey status mk-2026": "2026-12-04T09:00",
    "journey session cancel mk-2026 learning-set 2 --set 'Set A'": "2026-12-04T09:00",
    "journey cohort list": "2026-12-04T09:00",
    "journey person show aisha.rahman@example.org": "2026-12-04T09:00",
    "journey evaluation import mk-2026 after-training.csv": "2026-12-04T09:00",
    "journey evaluation record mk-2026 aisha.rahman@example.org score=9": "2026-12-04T09:00",
    "journey report mk-2026 --format html --out report.html": "2026-12-04T09:00",
    "journey audit mk-2026": None,
    "journey person export aisha.rahman@example.org --out aisha.json": "2026-12-04T09:00",
    "journey mail test you@example.org": None,  # into the outbox folder: no SMTP host is set
    "journey server status": None,
    "journey server stop": None,
    "journey withdraw mk-2026 yusuf.patel@example.org --on 2026-11-03 --reason 'moved to Leeds'": (
        "2026-12-05T09:00"
    ),
    "journey reinstate mk-2026 yusuf.patel@example.org": "2026-12-05T09:00",
    "journey person opt-out david.okonkwo@example.org": "2026-12-05T09:00",
    "journey person opt-in david.okonkwo@example.org": "2026-12-05T09:00",
    "journey cohort add mk-2026 --roster newcomers.csv --on 2026-11-16": "2026-12-05T09:00",
    "journey record mk-2026 aisha.rahman@example.org listening --on 2026-11-05": (
        "2026-12-05T09:00"
    ),
    "journey record mk-2026 aisha.rahman@example.org listening --undo": "2026-12-05T09:00",
}
EXIT_CODES = {"journey server status": 1}  # the README: "exit 0 running, 1 not"

# Parsed only, and why.
PARSE_ONLY = {
    "journey server start": "starts a Prefect server in the background (test_local_server.py)",
    "journey serve": "runs until stopped, serving deployments to a Prefect server",
    "journey deploy --pool journey": "needs a Prefect server and makes a work pool on it",
    "journey alerts apply --to organiser@example.org": "needs a Prefect server",
}

# The files the README's commands name, as an organiser would have them.
FILES = {
    "set-a-december.csv": (
        "name,email\nMargaret O'Connor,margaret.oconnor@example.org\n"
        "Ruth Pemberton,ruth.pemberton@example.org\n"
    ),
    "after-training.csv": (
        "email,score,relational-power-before,relational-power-after,leadership-before,"
        "leadership-after,motivation-before,motivation-after,comments\n"
        "yusuf.patel@example.org,10,3,6,,,,,\n,8,5,10,4,8,7,7,Loved the role plays\n"
    ),
    "newcomers.csv": (
        "name,email,institution,place,follow_up,mentor,learning_set\n"
        "Zainab Hussain,zainab.hussain@example.org,MK Central Mosque,fee,no,,\n"
    ),
}

# A fresh interpreter whose wall clock shows argv[1] (UTC; empty: the real clock).
RUNNER = """\
import sys
from datetime import datetime

import journey.timeutil

if sys.argv[1]:
    moment = datetime.fromisoformat(sys.argv[1] + "+00:00")
    journey.timeutil.wall_clock = lambda: moment
from journey.cli import main

sys.argv = ["journey", *sys.argv[2:]]
main()
"""


def readme_commands() -> list[list[str]]:
    """Each command line of the README's shell blocks, as words, in order, without
    comments, a trailing ``&`` or leading ``NAME=value`` settings."""
    found = []
    for block in FENCE.findall(README.read_text(encoding="utf-8")):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and ASSIGNMENT.match(words[0]):
                words.pop(0)
            if words and words[-1] == "&":
                words.pop()
            if words:
                found.append(words)
    return found


def journey_commands() -> list[str]:
    """The distinct ``journey …`` lines, in README order, each as ``shlex.join`` gives it."""
    lines = [shlex.join(words) for words in readme_commands() if words[0] == "journey"]
    return list(dict.fromkeys(lines))


def test_every_journey_command_is_run_or_parse_only_with_a_reason() -> None:
    assert not RUN.keys() & PARSE_ONLY.keys()
    assert set(journey_commands()) == RUN.keys() | PARSE_ONLY.keys()
    assert [c for c in journey_commands() if c in RUN] == list(RUN), "RUN is in README order"


@pytest.mark.parametrize("line", journey_commands())
def test_every_journey_command_parses(line: str) -> None:
    """The real command tree reads it: the group and subcommand path, then its options
    and arguments (Click, as Typer vendors it, raises on an unknown one or a bad value)."""
    command = typer.main.get_command(app)
    words, path = shlex.split(line)[1:], ["journey"]
    while isinstance(command, TyperGroup) and words and not words[0].startswith("-"):
        sub = command.commands.get(words[0])
        assert sub is not None, f"{' '.join(path)} has no command {words[0]!r}"
        command, path = sub, [*path, words.pop(0)]
    assert not isinstance(command, TyperGroup), f"{line}: names a group, not a command"
    with command.make_context(" ".join(path), words) as ctx:
        assert ctx.command is command


def test_every_other_line_is_a_make_target_or_a_known_program() -> None:
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    for words in readme_commands():
        if words[0] == "make":
            assert set(words[1:]) <= targets, words
        elif words[0] != "journey":
            assert words[0] in OTHER_PROGRAMS, f"classify this README command: {words}"


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_harness")
def test_a_newcomers_commands_run_in_readme_order(tmp_path: Path) -> None:
    """On one machine with no outside service: the commands that need no Prefect server
    of their own, against a SQLite file and an outbox folder. PREFECT_API_URL names the
    test harness's Prefect API, as it would a running server: flows start in seconds."""
    from prefect.settings import PREFECT_API_URL

    (tmp_path / "examples").symlink_to(ROOT / "examples")
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    env = {
        **os.environ,
        "JOURNEY_DATABASE_URL": f"sqlite:///{tmp_path / 'journey.db'}",
        "JOURNEY_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
    }
    for line in journey_commands():
        if line not in RUN:
            continue
        result = subprocess.run(
            [sys.executable, "-c", RUNNER, RUN[line] or "", *shlex.split(line)[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert result.returncode == EXIT_CODES.get(line, 0), (line, result.stderr)
    assert (tmp_path / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert len(list((tmp_path / "outbox").glob("**/*.eml"))) > 25  # launch, then the sweep


def test_the_layout_section_names_every_part_of_the_tree() -> None:
    """The README's Layout block names each top-level folder, and each module and package of
    ``src/journey/`` (a file moved or added without the README fails here)."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("```", 2)[1]
    named = set(re.findall(r"[\w.]+/?", block))
    package = ROOT / "src" / "journey"
    parts = {
        p.name + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if not p.name.startswith(("_", ".")) and p.name != "py.typed"
    }
    folders = {"flows/", "tasks/", "models/", "templates/", "tests/", "bench/", "docs/"}
    assert parts | folders <= named, sorted((parts | folders) - named)
