"""withdraw-trainee: a trainee leaves the programme; what waits for them is cancelled."""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow, get_run_logger, task

from journey.db import session_scope
from journey.flows.naming import add_tags, withdraw_name
from journey.flows.params import By, CohortId, DryRun, Email, Now, On, Reason
from journey.services.membership import Withdrawal, withdraw
from journey.tasks.common import addresses_withheld, resolve_now, settings
from journey.tasks.publish import publish_cohort


# Never persisted: the result (a Withdrawal) holds the trainee's address.
@task(name="withdraw-trainee", task_run_name="withdraw from {cohort_id}", persist_result=False)
def withdraw_task(
    cohort_id: str,
    email: str,
    on: date | None,
    reason: str | None,
    by: str | None,
    now: datetime,
    dry_run: bool,
) -> Withdrawal:
    """Withdraw through the same service as ``journey withdraw``; bad input writes nothing,
    and fails the run without quoting the address."""
    with addresses_withheld(cohort_id, [email]), session_scope(settings().database_url) as session:
        result = withdraw(
            session=session,
            cohort_id=cohort_id,
            email=email,
            on=on,
            reason=reason,
            by=by,
            now=now,
            dry_run=dry_run,
        )
    get_run_logger().info(
        "%s on %s: %d queued notices %scancelled; told: %s",
        "already withdrawn" if result.already else "withdrawn",
        result.on,
        result.cancelled,
        "would be " if dry_run else "",
        ", ".join(result.told) or "nobody",
    )
    return result


@flow(name="withdraw-trainee", flow_run_name=withdraw_name, persist_result=False)
def withdraw_trainee(
    cohort_id: CohortId,
    email: Email,
    on: On = None,
    reason: Reason = None,
    by: By = None,
    now: Now = None,
    dry_run: DryRun = False,
) -> Withdrawal:
    """Withdraw a trainee, as ``journey withdraw`` does: their queued notices are cancelled
    at once, their mentor and set facilitator are told in their daily digest. Running it
    again changes nothing.

    Args:
        cohort_id: The cohort's id, e.g. mk-2026.
        email: The trainee's email address.
        on: The day they withdrew. Default: now.
        reason: Why, in a few words, for the history.
        by: Who is making the change, for the history. Default: the worker's login.
        now: When to act as if it is (UTC unless an offset is given). Default: the current time.
        dry_run: Report what would happen, and change nothing.
    """
    add_tags(f"cohort:{cohort_id}")
    at = resolve_now(now)
    result = withdraw_task(cohort_id, email, on, reason, by, at, dry_run)
    if not (dry_run or result.already):
        publish_cohort(cohort_id, at)
    return result
