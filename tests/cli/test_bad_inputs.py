"""Bad input, table-driven (issue 11): each row of ``tests/cli/bad_inputs_cases.py`` runs the
real CLI in a fresh interpreter and must get its exact message and exit code, import no
Prefect, and change nothing: every table of the database (row counts and a checksum of
every row) and every file in the folder it ran in are as they were, and no outbox appears.

The database is the test's own (SQLite, or Postgres with JOURNEY_TEST_DATABASE=postgres),
holding the example cohort imported on 1 Aug 2026, launched where the row says so. A row
whose setting points the CLI at another database still has this one checked.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from journey.db import session_scope
from journey.models import Base
from journey.settings import Settings
from tests.cli.bad_inputs_cases import (
    CASES,
    COHORT,
    COHORT_FILE,
    COMMANDS,
    DATABASE,
    ROSTER,
    ROSTER_CASES,
    SETTINGS,
    Case,
)
from tests.cli.test_commands import journey

Snapshot = dict[str, tuple[int, str]]


def database_snapshot(url: str) -> Snapshot:
    """Each table's row count and a checksum of its rows, in primary-key order."""
    found = {}
    with session_scope(url) as session:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows = [repr(tuple(row)) for row in session.execute(query)]
            found[table.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def folder_snapshot(folder: Path) -> dict[str, str]:
    """Every path under ``folder`` (links as their target) with a checksum of its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = f"-> {os.readlink(path)}"
        elif path.is_file():
            found[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[name] = "folder"
    return found


def lay_out(folder: Path, case: Case) -> None:
    """The example cohort file and roster, then the case's own files and links over them."""
    files: dict[str, str | bytes] = {"cohort.yaml": COHORT, "roster.csv": ROSTER, **case.files}
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for name, target in case.links.items():
        (folder / name).symlink_to(target)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_a_bad_input_gets_one_clear_message_and_changes_nothing(
    case: Case, settings: Settings, cohort_id: str, tmp_path: Path
) -> None:
    url = settings.database_url
    if case.prepare is not None:
        case.prepare(url)
    folder = tmp_path / "case"
    lay_out(folder, case)
    before = (database_snapshot(url), folder_snapshot(folder))
    result = journey(*case.args, env=dict(case.env), cwd=folder, probe_prefect=True)
    assert result.stderr.endswith("no prefect\n"), result.stderr
    message = result.stderr.removesuffix("no prefect\n")
    assert (result.returncode, result.stdout, message) == (case.code, "", case.message)
    assert (database_snapshot(url), folder_snapshot(folder)) == before
    assert not settings.outbox_dir.exists()


def test_the_table_has_sixty_rows_or_more_from_every_part() -> None:
    """Issue 11 asks for at least 60 bad inputs: the cohort file, the roster, command-line
    arguments, settings and environment faults. Each id once (pytest would suffix a twin)."""
    parts = [COHORT_FILE, ROSTER_CASES, COMMANDS, SETTINGS, DATABASE]
    assert min(len(part) for part in parts) >= 10
    ids = [case.id for case in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)
