"""Delivery task: one batch per task run (claim, gate, render, send, mark).

Retries: an unreachable mail server is already retried inside the batch, with the
``smtp_retry_delays`` back-off, and an unwritable outbox folder will not mend itself in a
minute; both come back as a result (``unavailable``), not an exception, so the task's
retries never multiply those waits. The task's own retries are for what raises (a
database that blinked): the batch gives its claims back first, so a retry can take them.
"""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task

from journey.services.delivery import (
    DeliveryResult,
    deliver_all,
    deliver_batch,
    destination,
)
from journey.tasks.common import settings
from journey.tasks.publish import emit_failures, emit_sent, emit_unavailable


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
        get_run_logger().warning("delivery stopped: %s", result.unavailable)
    emit_failures(result.outcomes)
    return result


def deliver_until_done(now: datetime, max_batches: int = 1000) -> DeliveryResult:
    """Run the delivery loop (:func:`journey.services.delivery.deliver_all`) with one
    ``deliver-batch`` task per batch, until nothing due is left (or the server is down).

    Each batch emits its failures as it ends; what was sent is told once for the run, one
    ``journey.notices.sent`` per cohort, even if a later batch raises; and a run stopped by
    an unavailable server or outbox folder emits one ``journey.delivery.unavailable``.
    """
    config = settings()
    total = DeliveryResult(destination(config))
    try:
        deliver_all(
            url=config.database_url,
            settings=config,
            now=now,
            max_batches=max_batches,
            run_batch=deliver_one_batch,
            into=total,
        )
    finally:
        _tell(total)
    return total


def _tell(total: DeliveryResult) -> None:
    """Emit what the run sent and, if it stopped for want of a mail server or outbox
    folder, one ``journey.delivery.unavailable``. Best effort: never hide why a run stopped."""
    try:
        emit_sent(total.outcomes)
    except Exception:
        get_run_logger().warning("could not emit journey.notices.sent", exc_info=True)
    if total.unavailable:
        try:
            emit_unavailable(total.unavailable, total.destination, total.retry)
        except Exception:
            get_run_logger().warning("could not emit journey.delivery.unavailable", exc_info=True)


def fail_if_incomplete(result: DeliveryResult, summary: object) -> None:
    """End the flow run Failed when delivery fell short, with the reason as its message,
    so the Prefect UI, automations and the CLI's exit code all see it; call it last, once
    the run has recorded and published what it did (``summary``, carried by the error)."""
    error = result.incomplete(summary)
    if error is not None:
        raise error  # Prefect logs it, with the run's other logs, and fails the run with it
