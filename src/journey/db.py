"""Engines, sessions and schema upgrades, from the one settings object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from journey.errors import DatabaseNotReady


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    """One engine per URL per process."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


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
    """Raise :class:`DatabaseNotReady` unless the schema exists."""
    url = url or default_url()
    try:
        with get_engine(url).connect() as conn:
            ready = inspect(conn).has_table("alembic_version")
    except (OperationalError, ProgrammingError):
        ready = False
    if not ready:
        raise DatabaseNotReady(make_url(url).render_as_string(hide_password=True))


def upgrade(url: str | None = None, revision: str = "head") -> str:
    """Create or upgrade the schema with Alembic; returns the revision now in force."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    url = url or default_url()
    config = Config()
    config.set_main_option("script_location", "journey:migrations")
    config.attributes["url"] = url
    command.upgrade(config, revision)
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() or "base"
