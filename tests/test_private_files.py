"""Personal data on disk is readable by its owner only: the SQLite file (and its WAL), the
outbox folder and its .eml files."""

from __future__ import annotations

import stat
from pathlib import Path

from journey.db import session_scope
from journey.models import Person
from journey.settings import Settings
from tests.cli.test_commands import journey
from tests.cli.test_directory import launch_sweep_deliver


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_sqlite_file_and_its_wal_are_the_owners_only(tmp_path: Path) -> None:
    db = tmp_path / "journey.db"
    url = f"sqlite:///{db}"
    result = journey("db", "upgrade", env={"JOURNEY_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert mode(db) == 0o600
    with session_scope(url) as session:
        session.add(Person(name="Aisha Rahman", email="aisha.rahman@example.org"))
        session.flush()
        wal = Path(f"{db}-wal")
        assert wal.exists() and mode(wal) == 0o600


def test_an_existing_sqlite_file_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    db.touch(mode=0o640)
    db.chmod(0o640)
    result = journey("db", "upgrade", env={"JOURNEY_DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    assert mode(db) == 0o640


def test_the_outbox_folder_and_its_messages_are_the_owners_only(
    settings: Settings, cohort_id: str
) -> None:
    assert not settings.outbox_dir.exists()
    launch_sweep_deliver(settings)
    files = list(settings.outbox_dir.glob("*.eml"))
    assert files
    assert mode(settings.outbox_dir) == 0o700
    assert {mode(f) for f in files} == {0o600}
