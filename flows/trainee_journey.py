"""trainee-journey: one trainee's path: where they stand, and their due notices sent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from prefect import flow, task

from journey.db import session_scope
from journey.engine import evaluate
from journey.flows.naming import add_tags, journey_name
from journey.flows.params import CohortId, DryRun, Email, Now
from journey.services.loading import load_cohort, load_trainees
from journey.services.outcomes import JourneySummary, TraineeState
from journey.tasks.common import AddressesWithheld, resolve_now, settings, unknown_addresses
from journey.tasks.deliver import deliver_until_done, fail_if_incomplete
from journey.tasks.plan import queue_due


@task(name="evaluate-trainee")
def evaluate_trainee(cohort_id: str, email: str, now: datetime) -> TraineeState:
    """The trainee's position and milestone states (ids and states only)."""
    with session_scope(settings().database_url) as session:
        loaded = load_cohort(session, cohort_id)
        wanted = email.strip().lower()
        for t in load_trainees(session, [cohort_id])[cohort_id]:
            if t.enrolment.person.email == wanted:
                view = evaluate(loaded.programme, loaded.plan, t.record, now)
                return TraineeState(
                    enrolment_id=t.enrolment.id,
                    position=view.position,
                    eligible=view.eligible,
                    milestones={m.id: m.state.value for m in view.milestones},
                )
    raise AddressesWithheld(unknown_addresses(cohort_id, 1, 1))


@flow(name="trainee-journey", flow_run_name=journey_name)
def trainee_journey(
    cohort_id: CohortId, email: Email, now: Now = None, dry_run: DryRun = False
) -> JourneySummary:
    """Evaluate one trainee and queue what is due for them, then deliver the outbox (theirs
    among whatever else is due). Safe to run again.

    Args:
        cohort_id: The cohort's id, e.g. mk-2026.
        email: The trainee's email address.
        now: When to act as if it is (UTC unless an offset is given). Default: the current time.
        dry_run: Report what would happen, and change nothing.
    """
    add_tags(f"cohort:{cohort_id}")
    at = resolve_now(now)
    state = evaluate_trainee(cohort_id, email, at)
    queued = queue_due(at, [cohort_id], state.enrolment_id, dry_run)
    summary = JourneySummary(
        state.enrolment_id, state.position, state.eligible, state.milestones, queued
    )
    if not dry_run:
        delivered = deliver_until_done(at)
        summary = replace(summary, delivery=delivered.summary())
        fail_if_incomplete(delivered, summary)
    return summary
