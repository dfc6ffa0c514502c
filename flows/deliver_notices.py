"""deliver-notices: drain the outbox (everything due and pending), batch by batch."""

from __future__ import annotations

from prefect import flow

from journey.flows.naming import deliver_name
from journey.flows.params import Now
from journey.services.outcomes import DeliverySummary
from journey.tasks.common import resolve_now
from journey.tasks.deliver import deliver_until_done, fail_if_incomplete


@flow(name="deliver-notices", flow_run_name=deliver_name)
def deliver_notices(now: Now = None) -> DeliverySummary:
    """Send every due, pending notice. Several can run at once: claims never overlap.
    The run ends Failed when delivery fell short, with the reason as its message.

    Args:
        now: When to act as if it is (UTC unless an offset is given). Default: the current time.
    """
    delivered = deliver_until_done(resolve_now(now))
    summary = delivered.summary()
    fail_if_incomplete(delivered, summary)
    return summary
