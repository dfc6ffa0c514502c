"""The remaining limit, measured: two live runs whose clocks are an hour apart (more than
a lease; NTP-synchronised hosts are assumed). To the run ahead, every claim of the run
behind looks lapsed, so it takes them over; the run behind notices at its next renewal
(half a lease after the last) and sends nothing more of what it lost. Copies come only
from the messages it sent in between, and it counts each one as ``unrecorded``.

Bound, from that mechanism: the run ahead takes claims over only when it claims a batch,
and then from the one batch the run behind is working through, so there are at most as
many takeovers as the run ahead has batches; after each, the run behind sends at most the
rest of its batch, and no more than it can start before its next renewal
(:func:`tests.reliability.figures.copies_per_takeover`). The run ahead never loses a
claim (the run behind sees its leases as live), so every copy is one the run behind
reports. See docs/RELIABILITY.md, "Limits"."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.figures import (
    SKEW_CASES,
    SKEW_NOTICES,
    clock_skew,
    copies_per_takeover,
    report,
)
from tests.reliability.harness import FlakySmtpServer


@pytest.mark.parametrize(
    ("lease_seconds", "delay", "batch_size", "later"), SKEW_CASES.values(), ids=SKEW_CASES.keys()
)
def test_clocks_more_than_a_lease_apart_send_copies_only_until_the_run_behind_renews(
    pg_url: str,
    flaky_smtp: FlakySmtpServer,
    tmp_path: Path,
    lease_seconds: int,
    delay: float,
    batch_size: int,
    later: float,
) -> None:
    """Nothing is lost; every copy is counted as ``unrecorded`` by the run behind; no
    notice goes more than twice; copies <= takeovers times what one takeover can let through."""
    figures = clock_skew(
        pg_url,
        flaky_smtp,
        tmp_path,
        lease_seconds=lease_seconds,
        delay=delay,
        batch_size=batch_size,
        later=later,
    )
    print(report(figures))
    due = SKEW_NOTICES
    behind, ahead = figures.worker_counts
    assert figures.statuses == {"sent": due}
    assert (figures.delivered, figures.lost) == (due, 0)
    assert (figures.unrecognisable, figures.misrecorded) == (0, 0)
    copies = Counter(str(r.message["Message-ID"]) for r in flaky_smtp.messages)
    assert max(copies.values()) <= 2
    assert figures.duplicates == figures.received - due == behind["unrecorded"]
    assert ahead["unrecorded"] == 0
    bound = ahead["batches"] * copies_per_takeover(lease_seconds, delay, batch_size)
    assert figures.duplicates <= bound, f"{figures.duplicates} copies, bound {bound}"
