"""Engines, sessions and schema upgrades, from the one settings object.

A database URL that cannot work (unreadable, another backend, a driver not installed, a
folder that is not there, a file that is not SQLite, a server that does not answer) is
reported as what is wrong with ``JOURNEY_DATABASE_URL``, before anything is asked of it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from journey.errors import BadSettings, DatabaseNotReady, DatabaseUnavailable, JourneyError

SETTING = "JOURNEY_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")
EXAMPLE_URLS = "sqlite:///journey.db or postgresql+psycopg://user:password@host/journey"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted text is overwritten, not left behind
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL per process; :class:`BadSettings` for a URL that cannot work."""
    parsed = check_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except ImportError:
        driver = parsed.drivername.partition("+")[2]
        raise _bad(f"the driver {driver!r} is not installed; use {EXAMPLE_URLS}") from None


def check_url(url: str) -> URL:
    """The URL parsed, if it names a backend the journey runs on (its migrations and
    tests cover SQLite and PostgreSQL only)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise _bad(f"{_masked(url)!r} is not a database URL; e.g. {EXAMPLE_URLS}") from None
    backend, driver = parsed.get_backend_name(), parsed.drivername.partition("+")[2]
    if backend not in BACKENDS:
        raise _bad(f"{backend!r} databases are not supported; use {EXAMPLE_URLS}")
    try:
        is_async = parsed.get_dialect().is_async
    except NoSuchModuleError:
        raise _bad(f"the driver {driver!r} is not known; use {EXAMPLE_URLS}") from None
    if is_async:
        raise _bad(
            f"the driver {driver!r} is for asyncio, which the journey does not use; "
            f"use {EXAMPLE_URLS}"
        )
    return parsed


def _bad(message: str) -> BadSettings:
    return BadSettings([f"setting {SETTING}: {message}"])


def _masked(url: str) -> str:
    """The URL as it may be shown: any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r":[^:/@]*@", ":***@", url)


def default_url() -> str:
    from journey.settings import get_settings

    return get_settings().database_url


@lru_cache(maxsize=8)
def _sessions(engine: Engine) -> sessionmaker[Session]:
    """One session factory per engine: making one builds a Session subclass and its event
    dispatch, which cost about 1.5 ms, more than a small transaction."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    with _sessions(get_engine(url or default_url()))() as session, session.begin():
        yield session


def require_schema(url: str | None = None) -> None:
    """Raise :class:`DatabaseNotReady` unless the schema exists, and only then: a database
    that cannot be opened or reached says why instead (see :func:`database_fault`)."""
    url = url or default_url()
    engine = get_engine(url)
    if not _sqlite_file(engine.url, create=False):
        raise DatabaseNotReady(_masked(url))  # checked first: connecting would create it
    try:
        with engine.connect() as conn:
            ready = inspect(conn).has_table("alembic_version")
    except DBAPIError as exc:
        raise database_fault(exc, url) from None
    if not ready:
        raise DatabaseNotReady(_masked(url))


def _sqlite_file(parsed: URL, *, create: bool) -> bool:
    """For a SQLite file: whether it exists, after checking that its folder does and that
    it is not a folder itself. True for anything else (memory, URI filenames, servers)."""
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return True
    if parsed.query.get("uri") or name.startswith("file:"):
        return True
    path = Path(name)
    if path.is_dir():
        raise _bad(f"{path} is a folder, not a SQLite file")
    if not path.parent.is_dir():
        raise _bad(f"the folder {path.parent} does not exist (for the SQLite file {path.name})")
    if create and not path.exists():
        _create_private(path)
    return create or path.exists()


def _create_private(path: Path) -> None:
    """An empty SQLite file that only its owner can read (it holds personal data); SQLite
    gives its -wal and -shm files the same mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # made meanwhile by another process: it is theirs to have set
    except OSError as exc:
        raise _bad(f"cannot create the SQLite file {path}: {exc.strerror or exc}") from None


def database_fault(exc: DBAPIError, url: str) -> JourneyError:
    """What is wrong, in one line: :class:`DatabaseUnavailable` (exit 75) for a server that
    does not answer, is starting or full, or a file another process holds locked;
    :class:`BadSettings` (exit 1) for the rest, which waiting will not mend."""
    detail = driver_message(exc)
    parsed = make_url(url)
    if is_transient(exc):
        return DatabaseUnavailable(
            f"the database at {_masked(url)} ({SETTING}) is not available: {detail}; "
            "try again later"
        )
    if parsed.get_backend_name() == "sqlite" and "not a database" in detail:
        return _bad(f"{parsed.database} is not a SQLite database")
    return _bad(f"cannot use the database at {_masked(url)}: {detail}")


_WAIT = ("locked", "busy", "starting up", "shutting down", "too many", "recovery mode")
_WAIT_STATES = ("08", "40", "53", "57P")  # connection, rollback, resources, operator


def is_transient(exc: DBAPIError) -> bool:
    """Whether waiting may mend it: a lost connection, no reply at all (psycopg says
    FATAL only when the server answered), or a reply that says "not now"."""
    detail = str(exc.orig).lower()
    state = getattr(exc.orig, "sqlstate", None) or ""
    if exc.connection_invalidated or any(word in detail for word in _WAIT):
        return True
    if state.startswith(_WAIT_STATES):
        return True
    if type(exc.orig).__module__.startswith("sqlite3"):
        return False
    return "connection" in detail and "fatal:" not in detail


def driver_message(exc: DBAPIError) -> str:
    """The driver's first line, without psycopg's "connection to server at ... failed:"."""
    text = str(exc.orig).strip()
    first = text.splitlines()[0] if text else type(exc.orig).__name__
    return re.sub(r"^FATAL:\s*", "", first.rpartition(" failed: ")[2]).strip()


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Create or upgrade the schema with Alembic; returns the revision now in force.
    A SQLite file is created, but not its folder (a typo there should not make one)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    url = url or default_url()
    engine = get_engine(url)
    _sqlite_file(engine.url, create=True)
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        raise database_fault(exc, url) from None
    config = Config()
    config.set_main_option("script_location", "journey:migrations")
    config.attributes["url"] = url
    command.upgrade(config, revision)
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or "base"
