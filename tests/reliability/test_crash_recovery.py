"""At least once under crashes, with copies bounded and recognisable, on Postgres: one
delivery process killed with SIGKILL 25 times at seeded random moments, restarted each
time with a clock one lease later."""

from __future__ import annotations

from pathlib import Path

from tests.reliability.figures import CRASH_KILLS, CRASH_NOTICES, CRASH_SEED, crashes, report
from tests.reliability.harness import BATCH_SIZE, UNRECORDED_AT_MOST, FlakySmtpServer


def test_a_worker_killed_25_times_loses_nothing_and_resends_at_most_a_group_per_kill(
    pg_url: str, flaky_smtp: FlakySmtpServer, tmp_path: Path
) -> None:
    """After the last restart every notice is ``sent`` and was received; each kill added at
    most one group of copies (the outcomes not yet committed, and the messages in flight:
    ``settle_every`` - 1 + ``smtp_connections``, 22, while a batch is 50), and every copy
    carries its original's Message-ID; claims the dead workers held were taken up once
    their leases lapsed."""
    figures = crashes(pg_url, flaky_smtp, tmp_path, kills=CRASH_KILLS, seed=CRASH_SEED)
    print(report(figures))
    due = CRASH_NOTICES
    assert (figures.delivered, figures.lost) == (due, 0)
    assert figures.statuses == {"sent": due}
    assert figures.kills == CRASH_KILLS >= 20, "the outbox ran out before the last kill"
    assert figures.distinct_message_ids == figures.distinct_keys == due
    assert figures.duplicates == figures.received - due <= figures.kills * UNRECORDED_AT_MOST
    assert figures.worst_copies_per_kill <= UNRECORDED_AT_MOST < BATCH_SIZE
    assert (figures.unrecognisable, figures.misrecorded) == (0, 0)
    assert figures.claims_reclaimed > 0
