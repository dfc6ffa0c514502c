"""Where a trainee stands: milestone states, position and graduation eligibility."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from journey.engine.notices import PlannedNotice, Planner
from journey.engine.timeline import (
    CohortPlan,
    Occurrence,
    TraineeRecord,
    is_done,
    local_date,
)
from journey.errors import ProgrammeError
from journey.programme import Programme, Requirement

DUE_SOON = timedelta(days=14)  # a milestone this close counts as due


class State(enum.StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class MilestoneView:
    id: str
    title: str
    group: str
    state: State
    on: date | None
    opens_on: date | None = None
    done_on: date | None = None


@dataclass(frozen=True)
class JourneyView:
    """Where one trainee stands at ``now``."""

    ref: str
    milestones: tuple[MilestoneView, ...]
    position: str
    eligible: bool | None  # None when graduation does not apply
    missing: tuple[str, ...]
    notices_due: tuple[PlannedNotice, ...]


def _state(occ: Occurrence, trainee: TraineeRecord, now: datetime, tz: str) -> State:
    if is_done(occ, trainee):
        return State.DONE
    today = local_date(now, tz)
    if (
        occ.slots
        and trainee.active_from is not None
        and occ.slots[-1].ends_at <= trainee.active_from
    ):
        return State.NOT_APPLICABLE  # over before they joined (or while they were away)
    if occ.slots:
        if now >= occ.slots[-1].ends_at:
            return State.OVERDUE
        return State.DUE if occ.slots[0].starts_at - now <= DUE_SOON else State.UPCOMING
    if today > occ.on:
        return State.OVERDUE
    if occ.opens_on is not None:
        return State.DUE if today >= occ.opens_on else State.UPCOMING
    return State.DUE if occ.on - today <= DUE_SOON else State.UPCOMING


def _done_on(occ: Occurrence, trainee: TraineeRecord) -> date | None:
    dates = [d for (mid, _), d in trainee.done.items() if mid == occ.milestone.id]
    return max(dates) if dates and is_done(occ, trainee) else None


def _requirement(
    req: Requirement, programme: Programme, done: set[str], occ_by_id: Mapping[str, Occurrence]
) -> str | None:
    """None if met, else what is missing, in words."""
    if req.milestone is not None:
        if req.milestone in done:
            return None
        title = programme.milestone(req.milestone).title
        return f"{title} (every session)" if req.all_sessions else title
    members = [m.id for m in programme.milestones if m.group == req.group and m.id in occ_by_id]
    have = sum(1 for mid in members if mid in done)
    if req.at_least is None:  # the programme's validation lets no requirement get here
        raise ProgrammeError(f"graduation: the requirement of group {req.group!r} needs at_least")
    if have >= req.at_least:
        return None
    return f"{req.at_least} of {len(members)} {req.group} milestones ({have} so far)"


def eligibility(
    programme: Programme, occs: Iterable[Occurrence], trainee: TraineeRecord
) -> tuple[bool | None, tuple[str, ...]]:
    """Graduation: (eligible, what is missing). ``None`` when graduation does not apply."""
    rule = programme.graduation
    occ_by_id = {o.milestone.id: o for o in occs}
    if rule is None or rule.milestone not in occ_by_id:
        return None, ()
    done = {mid for mid, o in occ_by_id.items() if is_done(o, trainee)}
    missing = [_requirement(r, programme, done, occ_by_id) for r in rule.requires]
    gaps = tuple(m for m in missing if m is not None)
    return not gaps, gaps


def evaluate(
    programme: Programme,
    plan: CohortPlan,
    trainee: TraineeRecord,
    now: datetime,
    planner: Planner | None = None,
    *,
    with_notices: bool = True,
) -> JourneyView:
    """The whole picture of one trainee at ``now``.

    Pass the cohort's :class:`Planner` when evaluating many trainees: it reuses what
    trainees of one shape share. ``with_notices=False`` leaves ``notices_due`` empty, for
    a reader of states only (the funder's report), which saves working them out.
    """
    planner = planner or Planner(programme, plan)
    occs = planner.occurrences(trainee)
    by_id = {o.milestone.id: o for o in occs}
    views = []
    for m in programme.milestones:
        occ = by_id.get(m.id)
        if occ is None:
            views.append(MilestoneView(m.id, m.title, m.group, State.NOT_APPLICABLE, None))
            continue
        state = _state(occ, trainee, now, plan.timezone)
        views.append(
            MilestoneView(
                m.id, m.title, m.group, state, occ.on, occ.opens_on, _done_on(occ, trainee)
            )
        )
    eligible, missing = eligibility(programme, occs, trainee)
    return JourneyView(
        ref=trainee.ref,
        milestones=tuple(views),
        position=_position(views, trainee, plan),
        eligible=eligible,
        missing=missing,
        notices_due=tuple(planner.due(trainee, now)) if with_notices else (),
    )


def _position(views: list[MilestoneView], trainee: TraineeRecord, plan: CohortPlan) -> str:
    if not trainee.active:
        return "withdrawn"
    if plan.launched_at is None:
        return "not launched"
    open_ = [v for v in views if v.state in (State.DUE, State.OVERDUE, State.UPCOMING)]
    if not open_:
        return "complete"
    first = min(open_, key=lambda v: (v.on or date.max, v.id))
    return first.id
