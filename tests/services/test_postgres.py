"""The same code on Postgres (127.0.0.1:5432, database ``test``), in a schema of its own.

The ``pg_url`` fixture (tests/conftest.py) skips with a reason where no Postgres answers,
unless JOURNEY_REQUIRE_POSTGRES=1 (as in .ci/run). The whole suite also runs on Postgres
with JOURNEY_TEST_DATABASE=postgres; these tests need it whatever that says.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from journey.cohort.file import read_cohort
from journey.db import get_engine, session_scope, upgrade
from journey.services.cohorts import import_cohort
from journey.services.delivery import claim_batch, deliver_all
from journey.services.sweep import launch, sweep
from tests.conftest import EXAMPLES, utc
from tests.smtp_server import SmtpServer

LAUNCH = utc("2026-09-01T09:00")


def imported(url: str) -> str:
    upgrade(url)
    spec = read_cohort(EXAMPLES / "cohort.yaml", EXAMPLES / "roster.csv")
    with session_scope(url) as session:
        import_cohort(session=session, spec=spec, now=utc("2026-08-01T09:00"))
    return spec.id


def test_two_workers_never_claim_the_same_notice(pg_url: str) -> None:
    """FOR UPDATE SKIP LOCKED: while one claim is open, a second worker skips its rows."""
    cohort_id = imported(pg_url)
    with session_scope(pg_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    factory = get_engine(pg_url)

    with Session(factory) as first, Session(factory) as second:
        mine = claim_batch(first, worker="a", now=LAUNCH, limit=10, lease_seconds=600)
        theirs = claim_batch(second, worker="b", now=LAUNCH, limit=100, lease_seconds=600)
        first.commit()
        second.commit()
    assert len(mine) == 10 and len(theirs) == 15
    assert not set(mine) & set(theirs)


def test_launch_sweep_and_delivery_on_postgres(pg_url: str, smtp_server: SmtpServer) -> None:
    cohort_id = imported(pg_url)
    imported(pg_url)  # twice: nothing changes
    config = smtp_server.settings(database_url=pg_url, smtp_retry_delays=[0.0])
    with session_scope(pg_url) as session:
        launch(session=session, cohort_id=cohort_id, now=LAUNCH)
    assert deliver_all(url=pg_url, settings=config, now=LAUNCH).sent == 25
    at = utc("2026-09-18T08:00")
    with session_scope(pg_url) as session:
        assert sweep(session=session, now=at).queued == 20
    with session_scope(pg_url) as session:
        assert sweep(session=session, now=at).queued == 0
    assert deliver_all(url=pg_url, settings=config, now=at).sent == 20
    assert len(smtp_server.messages) == 45
