"""Fixtures for the reliability tests. Postgres comes from ``pg_url`` (tests/conftest.py):
an empty schema of its own, skipped with a reason where no Postgres answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reliability.figures import smtp_server
from tests.reliability.harness import FlakySmtpServer


@pytest.fixture
def flaky_smtp() -> Iterator[FlakySmtpServer]:
    """A real SMTP server on 127.0.0.1 (answers 451 when told to), stopped afterwards."""
    with smtp_server() as server:
        yield server
