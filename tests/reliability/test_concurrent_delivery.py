"""Exactly once under concurrent workers (invariant 2), on Postgres: four delivery
processes drain one outbox of 2,000 due notices to a real SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.figures import CONCURRENT_NOTICES, CONCURRENT_WORKERS, concurrent, report
from tests.reliability.harness import FlakySmtpServer


def test_four_worker_processes_deliver_2000_notices_exactly_once(
    pg_url: str, flaky_smtp: FlakySmtpServer, tmp_path: Path
) -> None:
    """Each notice reaches the server once (by Message-ID and by X-Journey-Key), none is
    missing, every row is ``sent``, and all four workers took part; the server's
    occasional 451 replies are each tried once more."""
    figures = concurrent(pg_url, flaky_smtp, tmp_path)
    print(report(figures))
    due = CONCURRENT_NOTICES
    assert figures.due == due
    assert figures.statuses == {"sent": due}
    assert figures.received == figures.distinct_message_ids == figures.distinct_keys == due
    assert (figures.delivered, figures.duplicates, figures.lost) == (due, 0, 0)
    assert (figures.unrecognisable, figures.misrecorded) == (0, 0)
    assert figures.retries == figures.refusals > 0
    sent = [counts["sent"] for counts in figures.worker_counts]
    assert len(sent) == CONCURRENT_WORKERS and sum(sent) == due
    assert all(sent), f"a worker sent nothing: {sent}"
