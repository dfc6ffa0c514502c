"""Postgres databases for the national-scale bench: a seeded template per size, and fresh
copies of it (``CREATE DATABASE … TEMPLATE``, a file copy on the server) for every run.

The rows are the SQLite population's, copied with ``COPY … FROM STDIN`` table by table,
so both backends hold the same records. Every database this module makes is named
``journey_bench_*`` and dropped by :meth:`Databases.drop_all`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Integer

from journey.db import get_engine, upgrade
from journey.models import Base

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PREFIX = "journey_bench_"
CHUNK = 20_000


def available() -> str | None:
    """None if the Postgres at 127.0.0.1:5432 answers; else why not."""
    try:
        with psycopg.connect(ADMIN, connect_timeout=5):
            return None
    except psycopg.Error as exc:
        return f"no Postgres at 127.0.0.1:5432 ({type(exc).__name__})"


def _dsn(name: str) -> str:
    return f"host=127.0.0.1 port=5432 user=postgres dbname={name}"


def url_of(name: str) -> str:
    return f"{SERVER}/{name}"


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(sql)  # names are ours, never input


@contextmanager
def _copy_target(name: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to ``name`` with foreign-key triggers off (rows arrive table by table,
    a notice's digest before or after it) and times read as UTC."""
    with psycopg.connect(_dsn(name)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET TIME ZONE 'UTC'")
        yield conn


def copy_rows(source: Path, name: str) -> dict[str, int]:
    """Copy every row of the SQLite file ``source`` into the upgraded, empty database
    ``name`` with COPY (SQLite's stored text, which Postgres reads back as the same values:
    times are UTC, booleans 0/1); move each id sequence past the ids copied. Rows per table.
    """
    counts: dict[str, int] = {}
    src = sqlite3.connect(source)
    try:
        with _copy_target(name) as dst:
            for table in Base.metadata.sorted_tables:
                quoted = ", ".join(f'"{c.name}"' for c in table.columns)
                rows = src.execute(f'SELECT {quoted} FROM "{table.name}"')
                n = 0
                sql = f'COPY "{table.name}" ({quoted}) FROM STDIN'
                with dst.cursor().copy(sql) as copy:
                    while chunk := rows.fetchmany(CHUNK):
                        for row in chunk:
                            copy.write_row(row)
                        n += len(chunk)
                counts[table.name] = n
                if "id" in table.c and isinstance(table.c.id.type, Integer) and n:
                    dst.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f'(SELECT max(id) FROM "{table.name}"))'
                    )
            dst.commit()
    finally:
        src.close()
    with psycopg.connect(_dsn(name), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts


@dataclass
class Databases:
    """The bench's Postgres databases: templates by name, and the copies made of them."""

    run_tag: str
    templates: dict[str, str] = field(default_factory=dict)
    copies: list[str] = field(default_factory=list)
    counter: int = 0

    def template(self, label: str, sqlite_file: Path) -> tuple[str, float]:
        """A template database holding ``sqlite_file``'s rows; (its URL, seconds to build)."""
        start = time.perf_counter()
        name = f"{PREFIX}{self.run_tag}_{label}"
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{name}"')
        self.templates[label] = name
        url = url_of(name)
        upgrade(url)
        get_engine(url).dispose()
        copy_rows(sqlite_file, name)
        return url, time.perf_counter() - start

    def fresh(self, label: str) -> str:
        """A new database copied from the template ``label``; its URL."""
        self.counter += 1
        name = f"{PREFIX}{self.run_tag}_run{self.counter}"
        template = self.templates[label]
        get_engine(url_of(template)).dispose()
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.copies.append(name)
        return url_of(name)

    def drop(self, url: str) -> None:
        """Drop one copy (its engine's connections closed first)."""
        get_engine(url).dispose()
        name = url.rsplit("/", 1)[1]
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.copies:
            self.copies.remove(name)

    def drop_all(self) -> None:
        for name in [*self.copies, *self.templates.values()]:
            get_engine(url_of(name)).dispose()
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.copies.clear()
        self.templates.clear()
