"""Alembic environment: the URL comes from ``journey db upgrade`` or the settings."""

from __future__ import annotations

from alembic import context

from journey.db import default_url, get_engine
from journey.models import Base

config = context.config
url = config.attributes.get("url") or default_url()
target_metadata = Base.metadata


def run_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    with get_engine(url).connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
