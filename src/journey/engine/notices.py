"""Which notices a trainee's journey plans, and which are due: each with its key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from journey.engine.timeline import (
    CohortPlan,
    Occurrence,
    TraineeRecord,
    is_done,
    local_moment,
    occurrences,
)
from journey.programme import NoticeRule, Programme

LATE_FOR_OVERDUE = timedelta(days=7)  # an overdue nudge stays worth sending this long


@dataclass(frozen=True)
class PlannedNotice:
    """A notice the programme plans for a trainee, with its deterministic key."""

    key: str
    milestone: str
    rule: str
    occurrence: str  # the occurrence's local date, ISO
    to: str
    template: str
    due_at: datetime
    useful_until: datetime
    attach_ics: bool


def notice_key(cohort_id: str, ref: str, milestone: str, rule: str, occurrence: str) -> str:
    """The outbox key: the same inputs always give the same key."""
    return f"{cohort_id}/{ref}/{milestone}/{rule}/{occurrence}"


def _rule_timing(occ: Occurrence, rule: NoticeRule, tz: str) -> tuple[datetime, datetime]:
    """(due_at, useful_until) of one rule for one occurrence."""
    if rule.from_window_open:
        assert occ.opens_on is not None
        due_at = local_moment(occ.opens_on, rule.clock, tz)
        useful = local_moment(occ.on + timedelta(days=1), time(0), tz)
    elif rule.day_offset > 0:
        due_at = local_moment(occ.last_on + timedelta(days=rule.day_offset), rule.clock, tz)
        useful = due_at + LATE_FOR_OVERDUE
    else:
        due_at = local_moment(occ.on + timedelta(days=rule.day_offset), rule.clock, tz)
        useful = (
            occ.slots[0].starts_at
            if occ.slots
            else local_moment(occ.on + timedelta(days=1), time(0), tz)
        )
    if rule.late_allowance is not None:
        useful = due_at + rule.late_allowance
    return due_at, max(useful, due_at + timedelta(hours=1))


def planned_notices(
    programme: Programme, plan: CohortPlan, trainee: TraineeRecord
) -> list[PlannedNotice]:
    """Every notice the programme plans for this trainee, done or not, sorted by due time."""
    out: list[PlannedNotice] = []
    for occ in occurrences(programme, plan, trainee):
        for rule in occ.milestone.notices:
            if rule.to == "mentor" and not trainee.has_mentor:
                continue
            due_at, useful = _rule_timing(occ, rule, plan.timezone)
            when = occ.on.isoformat()
            out.append(
                PlannedNotice(
                    key=notice_key(plan.cohort_id, trainee.ref, occ.milestone.id, rule.id, when),
                    milestone=occ.milestone.id,
                    rule=rule.id,
                    occurrence=when,
                    to=rule.to,
                    template=rule.template,
                    due_at=due_at,
                    useful_until=useful,
                    attach_ics=rule.ics and bool(occ.slots),
                )
            )
    out.sort(key=lambda n: (n.due_at, n.key))
    return out


def effective_from(plan: CohortPlan, milestone: str, rule: str) -> datetime | None:
    """When a rule starts to count for the cohort: its launch, or later if the rule came later."""
    if plan.launched_at is None:
        return None
    adopted = plan.rule_adopted.get(f"{milestone}/{rule}")
    return max(plan.launched_at, adopted) if adopted else plan.launched_at


def live_notices(
    programme: Programme, plan: CohortPlan, trainee: TraineeRecord
) -> list[PlannedNotice]:
    """Planned notices still to count: trainee active, milestone not done, rule in effect.

    A notice is never due before its rule's effective time (the cohort's launch, or when
    the rule was first seen), so a late launch or a late rule sends nothing for moments
    already past. Whether a late notice is still worth sending is ``useful_until``'s call.
    """
    if not trainee.active or plan.launched_at is None:
        return []
    done = {o.milestone.id for o in occurrences(programme, plan, trainee) if is_done(o, trainee)}
    out = []
    for notice in planned_notices(programme, plan, trainee):
        if notice.milestone in done:
            continue
        start = effective_from(plan, notice.milestone, notice.rule)
        if start is not None and notice.due_at >= start:
            out.append(notice)
    return out


def due_notices(
    programme: Programme, plan: CohortPlan, trainee: TraineeRecord, now: datetime
) -> list[PlannedNotice]:
    """Notices due by ``now`` (see :func:`live_notices`)."""
    return [n for n in live_notices(programme, plan, trainee) if n.due_at <= now]


def notices_between(
    programme: Programme,
    plan: CohortPlan,
    trainee: TraineeRecord,
    start: datetime,
    end: datetime,
) -> list[PlannedNotice]:
    """Notices that will come due in (start, end] if nothing changes."""
    return [n for n in live_notices(programme, plan, trainee) if start < n.due_at <= end]
