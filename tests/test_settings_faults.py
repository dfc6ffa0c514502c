"""Bad settings and a database that cannot be used: one line naming the setting, exit 1
(75 for a server that does not answer: try again later), never a traceback, nothing written.

Each case runs the real CLI in a fresh interpreter, in an empty folder of its own, as a
new user would meet it. Only 127.0.0.1 is ever dialled.
"""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DatabaseError, OperationalError

from journey.db import database_fault
from journey.errors import BadSettings, DatabaseUnavailable
from journey.settings import Settings, get_settings, retry_delays
from tests.cli.test_commands import journey
from tests.pg import SERVER

STATUS, UPGRADE = ("status", "mk-2026"), ("db", "upgrade")
URLS = "sqlite:///journey.db or postgresql+psycopg://user:password@host/journey"
BAD_SETTINGS = [
    ("JOURNEY_SMTP_PORT", "abc", "'abc' is not a whole number"),
    ("JOURNEY_SMTP_PORT", "70000", "'70000' must be at most 65535"),
    ("JOURNEY_SMTP_PORT", "0", "'0' must be at least 1"),
    ("JOURNEY_BATCH_SIZE", "-5", "'-5' must be at least 1"),
    ("JOURNEY_BATCH_SIZE", "2.5", "'2.5' is not a whole number"),
    ("JOURNEY_LEASE_SECONDS", "0", "'0' must be at least 10"),
    ("JOURNEY_SMTP_CONNECTIONS", "0", "'0' must be at least 1"),
    ("JOURNEY_SETTLE_EVERY", "0", "'0' must be at least 1"),
    ("JOURNEY_SMTP_TIMEOUT", "0", "'0' must be more than 0"),
    ("JOURNEY_SMTP_TIMEOUT", "soon", "'soon' is not a number"),
    ("JOURNEY_SMTP_STARTTLS", "maybe", "'maybe' is not true or false"),
    ("JOURNEY_SMTP_RETRY_DELAYS", "oops", "'oops' is not a list of seconds, e.g. 2,10,30"),
    ("JOURNEY_SMTP_RETRY_DELAYS", "[2, 10", "'[2, 10' is not a list of seconds, e.g. 2,10,30"),
    ("JOURNEY_SMTP_RETRY_DELAYS", "2,-1", "'2,-1': each delay must be 0 to 3600 seconds"),
    (
        "JOURNEY_SENDER",
        "journey",
        "'journey' is not an address, e.g. Leadership Journey <journey@example.org>",
    ),
]


def fails(folder: Path, env: dict[str, str], *args: str, code: int = 1) -> str:
    """Run ``journey ARGS`` (default: ``status mk-2026``) in ``folder``; it must fail with
    ``code``, print nothing on stdout and no traceback. Returns its stderr."""
    result = journey(*(args or ("status", "mk-2026")), env=env, cwd=folder)
    assert (result.returncode, result.stdout) == (code, ""), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


@pytest.mark.parametrize(("name", "value", "message"), BAD_SETTINGS, ids=lambda v: str(v))
def test_a_bad_setting_is_one_line_naming_it(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    stderr = fails(tmp_path, {name: value})
    assert stderr == f"Error: setting {name}: {message}\n"
    assert list(tmp_path.iterdir()) == []  # no database, no outbox


def test_several_bad_settings_are_each_named_under_a_count(tmp_path: Path) -> None:
    env = {"JOURNEY_SMTP_PORT": "abc", "JOURNEY_BATCH_SIZE": "-5", "JOURNEY_LEASE_SECONDS": "0"}
    stderr = fails(tmp_path, env, "upcoming")
    assert stderr == (
        "Error: 3 settings are wrong\n"
        "setting JOURNEY_SMTP_PORT: 'abc' is not a whole number\n"
        "setting JOURNEY_BATCH_SIZE: '-5' must be at least 1\n"
        "setting JOURNEY_LEASE_SECONDS: '0' must be at least 10\n"
    )


def test_settings_are_checked_before_any_command_runs(tmp_path: Path) -> None:
    """Even one that reads no setting of its own: a bad value is named at once, not met
    half-way through a sweep."""
    stderr = fails(tmp_path, {"JOURNEY_SMTP_PORT": "abc"}, "db", "upgrade")
    assert stderr == "Error: setting JOURNEY_SMTP_PORT: 'abc' is not a whole number\n"
    assert list(tmp_path.iterdir()) == []


def test_a_bad_value_in_dot_env_is_reported_the_same_way(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JOURNEY_SMTP_PORT=abc\nJOURNEY_BATCH_SIZE=-5\n")
    stderr = fails(tmp_path, {})
    assert stderr == (
        "Error: 2 settings are wrong\n"
        "setting JOURNEY_SMTP_PORT: 'abc' is not a whole number\n"
        "setting JOURNEY_BATCH_SIZE: '-5' must be at least 1\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == [".env"]


def test_a_dot_env_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes("JOURNEY_SENDER=Jérôme <j@example.org>\n".encode("latin-1"))
    stderr = fails(tmp_path, {})
    assert stderr == "Error: .env: not UTF-8 text (byte 0xe9 at position 16); save it as UTF-8\n"


def test_retry_delays_read_as_commas_or_a_json_list() -> None:
    assert retry_delays("2, 10,30") == [2.0, 10.0, 30.0]
    assert retry_delays("[0, 0.5]") == [0.0, 0.5]
    assert retry_delays("") == []
    assert retry_delays([1, 2]) == [1.0, 2.0]


def test_get_settings_raises_bad_settings_not_a_validation_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flows and tasks read the same settings: they meet a JourneyError too."""
    monkeypatch.setenv("JOURNEY_SMTP_PORT", "abc")
    get_settings.cache_clear()
    try:
        with pytest.raises(BadSettings, match=r"^setting JOURNEY_SMTP_PORT: 'abc' is not a whole"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_good_settings_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_SMTP_RETRY_DELAYS", "1,2")
    monkeypatch.setenv("JOURNEY_SMTP_PORT", "2525")
    assert (Settings().smtp_retry_delays, Settings().smtp_port) == ([1.0, 2.0], 2525)


# --- JOURNEY_DATABASE_URL -------------------------------------------------------------


def url_fails(folder: Path, url: str, *args: str, code: int = 1) -> str:
    return fails(folder, {"JOURNEY_DATABASE_URL": url}, *args, code=code)


@pytest.mark.parametrize(
    ("url", "command", "message"),
    [
        ("garbage", STATUS, f"'garbage' is not a database URL; e.g. {URLS}"),
        ("garbage", UPGRADE, f"'garbage' is not a database URL; e.g. {URLS}"),
        ("", STATUS, f"'' is not a database URL; e.g. {URLS}"),
        (
            "mysql://journey@127.0.0.1/journey",
            STATUS,
            f"'mysql' databases are not supported; use {URLS}",
        ),
        (
            "oracle://journey@127.0.0.1/journey",
            UPGRADE,
            f"'oracle' databases are not supported; use {URLS}",
        ),
        (
            "sqlite+aiosqlite:///journey.db",
            STATUS,
            f"the driver 'aiosqlite' is for asyncio, which the journey does not use; use {URLS}",
        ),
        (
            "postgresql+nope://journey@127.0.0.1/journey",
            STATUS,
            f"the driver 'nope' is not known; use {URLS}",
        ),
    ],
    ids=["garbage-status", "garbage-upgrade", "empty", "mysql", "oracle-upgrade", "async", "nope"],
)
def test_a_database_url_that_cannot_work_is_named(
    tmp_path: Path, url: str, command: tuple[str, ...], message: str
) -> None:
    stderr = url_fails(tmp_path, url, *command)
    assert stderr == f"Error: setting JOURNEY_DATABASE_URL: {message}\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(importlib.util.find_spec("psycopg2") is not None, reason="psycopg2 here")
def test_a_driver_not_installed_is_named(tmp_path: Path) -> None:
    stderr = url_fails(tmp_path, "postgresql+psycopg2://journey@127.0.0.1/journey")
    assert stderr == (
        f"Error: setting JOURNEY_DATABASE_URL: the driver 'psycopg2' is not installed; use {URLS}\n"
    )


@pytest.mark.parametrize("command", [STATUS, UPGRADE], ids=" ".join)
def test_a_file_that_is_not_sqlite_is_named_and_left_alone(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping: milk, eggs, a database.\n" * 100)
    stderr = url_fails(tmp_path, f"sqlite:///{notes}", *command)
    assert stderr == f"Error: setting JOURNEY_DATABASE_URL: {notes} is not a SQLite database\n"
    assert notes.read_text() == "Shopping: milk, eggs, a database.\n" * 100
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("command", [STATUS, UPGRADE], ids=" ".join)
def test_a_sqlite_file_in_a_folder_that_does_not_exist_is_named(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Not "not initialised; run: journey db upgrade", which could not help; and upgrade
    makes no folder, so a typo in the path makes no stray tree."""
    missing = tmp_path / "no-such-folder"
    stderr = url_fails(tmp_path, f"sqlite:///{missing}/journey.db", *command)
    assert stderr == (
        f"Error: setting JOURNEY_DATABASE_URL: the folder {missing} does not exist "
        "(for the SQLite file journey.db)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_naming_a_folder_is_named(tmp_path: Path) -> None:
    stderr = url_fails(tmp_path, f"sqlite:///{tmp_path}")
    assert (
        stderr
        == f"Error: setting JOURNEY_DATABASE_URL: {tmp_path} is a folder, not a SQLite file\n"
    )


def test_a_new_sqlite_file_is_not_initialised_until_upgraded_then_made(tmp_path: Path) -> None:
    """The one case where "run: journey db upgrade" is the right advice; asking does not
    create the file, and upgrade does."""
    url = f"sqlite:///{tmp_path}/journey.db"
    stderr = url_fails(tmp_path, url)
    assert stderr == f"Error: the database at {url} is not initialised; run: journey db upgrade\n"
    assert list(tmp_path.iterdir()) == []
    upgraded = journey("db", "upgrade", env={"JOURNEY_DATABASE_URL": url}, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("Database ready at schema ")
    listed = journey("cohort", "list", env={"JOURNEY_DATABASE_URL": url}, cwd=tmp_path)
    assert (listed.returncode, listed.stderr) == (0, ""), listed.stderr


@pytest.mark.parametrize("command", [STATUS, UPGRADE], ids=" ".join)
def test_an_unreachable_postgres_is_try_again_later(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Exit 75, so cron or a wrapper retries; the password is never shown."""
    url = "postgresql+psycopg://journey:s3cret@127.0.0.1:1/journey"
    stderr = url_fails(tmp_path, url, *command, code=75)
    assert stderr == (
        "Error: the database at postgresql+psycopg://journey:***@127.0.0.1:1/journey "
        "(JOURNEY_DATABASE_URL) is not available: Connection refused; try again later\n"
    )


def postgres_answers() -> bool:
    engine = create_engine(SERVER)
    try:
        with engine.connect():
            return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.mark.skipif(not postgres_answers(), reason="no Postgres at 127.0.0.1:5432")
def test_a_postgres_database_that_does_not_exist_is_named(tmp_path: Path) -> None:
    """The server answered: waiting will not help, so exit 1."""
    url = SERVER.rsplit("/", 1)[0] + "/no_such_journey_db"
    stderr = url_fails(tmp_path, url)
    assert stderr == (
        f"Error: setting JOURNEY_DATABASE_URL: cannot use the database at {url}: "
        'database "no_such_journey_db" does not exist\n'
    )


def test_a_locked_sqlite_file_is_try_again_later() -> None:
    """Another process held the file past the 30 s busy timeout: waiting may mend it
    (exit 75); a file that is not a database will not (exit 1). Built, not waited for."""
    url = "sqlite:////srv/journey/journey.db"
    locked = OperationalError("PRAGMA", {}, sqlite3.OperationalError("database is locked"))
    fault = database_fault(locked, url)
    assert isinstance(fault, DatabaseUnavailable)
    assert fault.exit_code == 75
    assert str(fault) == (
        f"the database at {url} (JOURNEY_DATABASE_URL) is not available: database is locked; "
        "try again later"
    )
    garbled = DatabaseError("PRAGMA", {}, sqlite3.DatabaseError("file is not a database"))
    assert str(database_fault(garbled, url)) == (
        "setting JOURNEY_DATABASE_URL: /srv/journey/journey.db is not a SQLite database"
    )
