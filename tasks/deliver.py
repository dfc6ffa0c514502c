"""Delivery task: one batch per task run (claim, gate, render, send, mark)."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task

from journey.services.delivery import DeliveryResult, RunClock, deliver_batch, worker_name
from journey.tasks.common import settings
from journey.tasks.publish import emit_failures, emit_sent


@task(name="deliver-batch", retries=3, retry_delay_seconds=[2, 10, 60])
def deliver_one_batch(now: datetime, worker: str) -> DeliveryResult:
    """Send one batch of due notices over the SMTP connections set (or to the outbox folder).

    Retrying is safe: what was sent is already marked, so a retry claims only the rest.
    """
    config = settings()
    result = deliver_batch(url=config.database_url, settings=config, now=now, worker=worker)
    if result.batches:
        get_run_logger().info(
            "batch: %d sent, %d failed, %d to retry, %d cancelled, %d skipped (%s)",
            result.sent,
            result.failed,
            result.retry,
            result.cancelled,
            result.skipped,
            result.destination,
        )
    if result.unavailable:
        get_run_logger().warning("mail server unavailable: %s", result.unavailable)
    emit_failures(result.outcomes)
    return result


def deliver_until_done(now: datetime, max_batches: int = 1000) -> DeliveryResult:
    """Run batch tasks until nothing due is left (or the server is down).

    Each batch emits its failures as it ends; what was sent is told once for the run, one
    ``journey.notices.sent`` per cohort, even if a later batch raises.
    """
    worker = worker_name()
    clock = RunClock(now)  # each batch is leased from when it is claimed
    total = DeliveryResult(destination="")
    try:
        for _ in range(max_batches):
            batch = deliver_one_batch(clock(), worker)
            total.destination = batch.destination
            total.add(batch)
            if batch.batches == 0 or batch.unavailable:
                break
    finally:
        try:
            emit_sent(total.outcomes)
        except Exception:  # telling is best effort: never hide why a run stopped
            get_run_logger().warning("could not emit journey.notices.sent", exc_info=True)
    return total
