"""One delivery worker, as its own OS process: ``python worker.py CONFIG_JSON``.

It imports everything, prints ``ready``, waits for a line on stdin (so the harness can
start several at once, or know when the start-up is over), then runs
``journey.services.delivery.deliver_all`` and prints its counts as one JSON line. The
line is ``go``, or ``go NOW`` (ISO) to start the run's clock at NOW instead of the
config's ``now``.

CONFIG_JSON: ``{"url", "smtp_host", "smtp_port", "now" (ISO), "worker", "batch_size",
"lease_seconds", "settle_every", "smtp_connections"}``.

``RELIABILITY_BREAK`` swaps in deliberately broken delivery, to show the tests fail:

- ``naive-claim``: claim by a plain SELECT, a pause, then an UPDATE (no row locks, no
  single statement), so concurrent workers claim the same notices;
- ``commit-at-end``: record a batch's outcomes only after the whole batch was sent, so
  a kill re-sends everything sent in the batch so far (up to a batch, not a group);
- ``mark-first``: record the whole batch as sent before sending it (at most once), so a
  kill loses the rest of the batch;
- ``start-time-lease``: delivery as it was before the lease fix: the run's clock stands
  still at its start (every batch is leased from the run's start, and claims are never
  renewed), and no claim is checked before a send, so a later run takes over the claims
  of a long run that is still sending them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from journey.mail.outgoing import OnResult, Outgoing, SendResult
from journey.mail.transport import send_batch
from journey.models import Notice, NoticeStatus
from journey.services import delivery
from journey.settings import Settings

BREAK = "RELIABILITY_BREAK"


def naive_claim(
    session: Session, *, worker: str, now: datetime, limit: int, lease_seconds: int
) -> list[int]:
    """The claim without its guarantee: read, think, then write what was read."""
    due = or_(
        Notice.status == NoticeStatus.PENDING,
        (Notice.status == NoticeStatus.CLAIMED) & (Notice.lease_until < now),
    )
    ids = list(
        session.scalars(
            select(Notice.id)
            .where(Notice.due_at <= now, due)
            .order_by(Notice.due_at, Notice.id)
            .limit(limit)
        )
    )
    time.sleep(0.05)
    session.execute(
        update(Notice)
        .where(Notice.id.in_(ids))
        .values(
            status=NoticeStatus.CLAIMED,
            claimed_by=worker,
            lease_until=now + timedelta(seconds=lease_seconds),
        )
    )
    return sorted(ids)


def commit_at_end() -> None:
    """Hold every outcome until its batch has been sent, then record them all (the
    batch's final flush), instead of a group at a time."""

    def hold(self: delivery.Settlements, outcome: SendResult) -> None:
        self.waiting.append((outcome, self.clock()))

    setattr(delivery.Settlements, "__call__", hold)


def mark_first() -> None:
    """Record every message of a batch as sent, then send the batch."""

    async def record_then_send(
        messages: Sequence[Outgoing],
        settings: Settings,
        *,
        on_result: OnResult | None = None,
        still_held: Callable[[int], bool] | None = None,
    ) -> list[SendResult]:
        for item in messages:
            if on_result is not None:
                on_result(SendResult(item.notice_id, "sent", None, 1))
        if isinstance(on_result, delivery.Settlements):
            on_result.flush()  # all of it committed before the first send
        return await send_batch(messages, settings)

    setattr(delivery, "send_batch", record_then_send)


class FrozenClock:
    """A run's clock that never moves: ``deliver_all`` passes its start to every batch."""

    def __init__(self, start: datetime) -> None:
        self.start = start

    def __call__(self) -> datetime:
        return self.start


def start_time_lease() -> None:
    """Lease every batch from the run's start, never renew, never check a claim."""
    setattr(delivery, "RunClock", FrozenClock)  # what deliver_all builds its clock from
    setattr(delivery.Claims, "__call__", lambda self, notice_id: True)  # still_held


def settings_for(config: dict[str, Any]) -> Settings:
    return Settings(
        _env_file=None,
        database_url=config["url"],
        smtp_host=config["smtp_host"],
        smtp_port=config["smtp_port"],
        smtp_starttls=False,
        smtp_ssl=False,
        smtp_username=None,
        smtp_password=None,
        smtp_timeout=10.0,
        smtp_retry_delays=[0.05],
        sender="Leadership Journey <journey@example.org>",
        batch_size=config["batch_size"],
        lease_seconds=config["lease_seconds"],
        settle_every=config["settle_every"],
        smtp_connections=config["smtp_connections"],
    )


def main(argv: list[str]) -> int:
    config = json.loads(argv[1])
    broken = os.environ.get(BREAK, "")
    if broken == "naive-claim":
        delivery.claim_batch = naive_claim
    elif broken == "commit-at-end":
        commit_at_end()
    elif broken == "mark-first":
        mark_first()
    elif broken == "start-time-lease":
        start_time_lease()
    elif broken:
        raise SystemExit(f"unknown {BREAK}={broken!r}")
    settings = settings_for(config)
    now = datetime.fromisoformat(config["now"])
    print("ready", flush=True)
    start = sys.stdin.readline().split()[1:]  # "go" or "go NOW"
    if start:
        now = datetime.fromisoformat(start[0])
    result = delivery.deliver_all(
        url=config["url"], settings=settings, now=now, worker=config["worker"]
    )
    counts = asdict(result.summary())
    counts.pop("failures")
    print(json.dumps(counts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
