"""Exactly once when a run outlasts its lease (invariant 2), on Postgres: the 08:00 run is
still draining when the 09:00 one starts. Worker 1 drains 300 notices through a slow
server (120 ms per DATA reply) with a 10 s lease (the shortest Settings allows), so each
batch of 100 takes longer than a lease to send; worker 2 starts 15 s later, with a clock
on the same timeline. Delivery
leases each batch from its claim and renews it at half-lease, and checks the claim before
each send, so worker 2 never takes over a claim worker 1 is still working through."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.figures import LONG_LATER, LONG_NOTICES, SHORT_LEASE, long_run, report
from tests.reliability.harness import FlakySmtpServer


def test_a_run_starting_a_lease_later_never_resends_what_a_long_run_holds(
    pg_url: str, flaky_smtp: FlakySmtpServer, tmp_path: Path
) -> None:
    """Each notice reaches the server once, none is missing, and neither run sent a
    message whose claim it had lost (``unrecorded``), though worker 2 started more than a
    lease after worker 1, while it was still sending, and batches outlasted the lease."""
    figures = long_run(pg_url, flaky_smtp, tmp_path)
    print(report(figures))
    due = LONG_NOTICES
    # The race was real: a batch took longer than a lease (its lease had to be renewed),
    # and worker 2 began more than a lease in, while worker 1 was still sending.
    assert figures.longest_batch > SHORT_LEASE
    assert figures.started_later >= LONG_LATER > SHORT_LEASE
    assert figures.overlapped, "worker 1 finished before worker 2 started: no race"
    assert all(figures.per_worker("sent")), f"a worker sent nothing: {figures.worker_counts}"
    assert figures.wall_seconds > 2 * SHORT_LEASE
    # Exactly once.
    assert figures.statuses == {"sent": due}
    assert figures.received == figures.distinct_message_ids == figures.distinct_keys == due
    assert (figures.delivered, figures.duplicates, figures.lost) == (due, 0, 0)
    assert (figures.unrecognisable, figures.misrecorded) == (0, 0)
    assert figures.per_worker("unrecorded") == [0, 0]
    assert sum(figures.per_worker("sent")) == due
