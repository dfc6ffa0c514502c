"""A schema of its own in the Postgres at 127.0.0.1:5432 (database ``test``, trust auth).

Where no Postgres answers, tests that need one are skipped with a reason, unless
JOURNEY_REQUIRE_POSTGRES=1 (as in .ci/run), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from journey.db import get_engine

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL whose search_path is a fresh schema; the schema is dropped afterwards."""
    admin = create_engine(SERVER)
    try:
        with admin.connect():
            pass
    except Exception as exc:
        admin.dispose()
        if os.environ.get("JOURNEY_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"Postgres at 127.0.0.1:5432 is required here: {exc}")
        pytest.skip(f"no Postgres at 127.0.0.1:5432 ({type(exc).__name__})")
    schema = f"journey_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{SERVER}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
