"""Alembic owns the schema: the migrations build exactly what the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from journey.db import get_engine, upgrade
from journey.models import Base


def test_upgrade_builds_what_the_models_describe(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert upgrade(url) == "0007"
    assert upgrade(url) == "0007"  # running it again is harmless
    with get_engine(url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
