"""The journey engine: plain Python, no Prefect, no I/O, no wall clock.

Given a programme, a cohort's dates, one trainee's records and a moment ``now``, it says
where the trainee is, what is done, due or overdue, whether they may graduate, and which
notices are due, each with its deterministic key. Every flow, task, CLI command and
report asks this module; nothing else decides due dates.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from journey.programme import Milestone, NoticeRule, Programme, Requirement, parse_span

DUE_SOON = timedelta(days=14)  # a milestone this close counts as due
LATE_FOR_OVERDUE = timedelta(days=7)  # an overdue nudge stays worth sending this long


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """A cached ZoneInfo."""
    return ZoneInfo(name)


def local_moment(day: date, clock: time, tz: str) -> datetime:
    """``day`` at ``clock`` in zone ``tz``, as an aware UTC datetime."""
    return datetime.combine(day, clock, tzinfo=zone(tz)).astimezone(UTC)


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of an aware moment in zone ``tz``."""
    return moment.astimezone(zone(tz)).date()


@dataclass(frozen=True)
class Slot:
    """One dated session (a training day, a set session, the graduation)."""

    number: int
    starts_at: datetime
    ends_at: datetime
    event_id: int | None = None
    cancelled: bool = False


@dataclass(frozen=True)
class CohortPlan:
    """The cohort's dates and launch, as the engine needs them."""

    cohort_id: str
    timezone: str
    training: tuple[Slot, ...]
    learning_sets: Mapping[int, tuple[Slot, ...]] = field(default_factory=dict)
    graduation: Slot | None = None
    launched_at: datetime | None = None
    rule_adopted: Mapping[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class TraineeRecord:
    """One trainee's facts: follow-up choices and what they have done (and when)."""

    ref: str  # stable within the cohort (the enrolment id); part of every notice key
    follow_up: bool
    learning_set_id: int | None = None
    has_mentor: bool = False
    active: bool = True  # False once withdrawn or opted out
    done: Mapping[tuple[str, int], date] = field(default_factory=dict)  # (milestone, n) -> on


class State(enum.StrEnum):
    DONE = "done"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class Occurrence:
    """A milestone placed in time for one trainee."""

    milestone: Milestone
    on: date  # local date the milestone is due (the first session's, for multi-day ones)
    last_on: date  # local date of its last session (== on unless multi-day)
    opens_on: date | None  # booking windows
    slots: tuple[Slot, ...]  # its sessions, if any


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
    event_ids: tuple[int, ...] = ()


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

    def state_of(self, milestone_id: str) -> State:
        for view in self.milestones:
            if view.id == milestone_id:
                return view.state
        raise KeyError(milestone_id)


def notice_key(cohort_id: str, ref: str, milestone: str, rule: str, occurrence: str) -> str:
    """The outbox key: the same inputs always give the same key."""
    return f"{cohort_id}/{ref}/{milestone}/{rule}/{occurrence}"


def _slots_for(m: Milestone, plan: CohortPlan, trainee: TraineeRecord) -> tuple[Slot, ...] | None:
    """The milestone's live sessions for this trainee; None if it cannot apply."""
    if m.sessions == "training":
        slots = plan.training
    elif m.sessions == "graduation":
        slots = (plan.graduation,) if plan.graduation else ()
    else:
        sessions = plan.learning_sets.get(trainee.learning_set_id or -1, ())
        assert m.session is not None
        slots = (sessions[m.session - 1],) if len(sessions) >= m.session else ()
    live = tuple(s for s in slots if not s.cancelled)
    return live or None


def applies(m: Milestone, trainee: TraineeRecord) -> bool:
    """Whether the milestone is part of this trainee's journey at all."""
    if m.applies_to == "follow_up" and not trainee.follow_up:
        return False
    return not (m.sessions == "learning-set" and trainee.learning_set_id is None)


def occurrence(m: Milestone, plan: CohortPlan, trainee: TraineeRecord) -> Occurrence | None:
    """Place a milestone in time for a trainee, or None where it does not apply."""
    if not applies(m, trainee) or not plan.training:
        return None
    tz = plan.timezone
    if m.is_session:
        slots = _slots_for(m, plan, trainee)
        if slots is None:
            return None
        days = [local_date(s.starts_at, tz) for s in slots]
        return Occurrence(m, days[0], days[-1], None, slots)
    base = local_date(plan.training[-1].starts_at, tz)
    if m.window is not None:
        opens = base + parse_span(m.window.opens)
        closes = base + parse_span(m.window.closes)
        return Occurrence(m, closes, closes, opens, ())
    assert m.after_training is not None
    on = base + parse_span(m.after_training)
    return Occurrence(m, on, on, None, ())


def occurrences(programme: Programme, plan: CohortPlan, trainee: TraineeRecord) -> list[Occurrence]:
    """Every milestone that applies to the trainee, placed in time, in programme order."""
    found = (occurrence(m, plan, trainee) for m in programme.milestones)
    return [o for o in found if o is not None]


def is_done(occ: Occurrence, trainee: TraineeRecord) -> bool:
    """Done when each of its sessions is done: records are numbered 1..n within the milestone."""
    count = max(len(occ.slots), 1)
    return all((occ.milestone.id, n) in trainee.done for n in range(1, count + 1))


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
                    event_ids=tuple(s.event_id for s in occ.slots if s.event_id is not None),
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


def _state(occ: Occurrence, trainee: TraineeRecord, now: datetime, tz: str) -> State:
    if is_done(occ, trainee):
        return State.DONE
    today = local_date(now, tz)
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
    assert req.at_least is not None
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
    programme: Programme, plan: CohortPlan, trainee: TraineeRecord, now: datetime
) -> JourneyView:
    """The whole picture of one trainee at ``now``."""
    occs = occurrences(programme, plan, trainee)
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
        notices_due=tuple(due_notices(programme, plan, trainee, now)),
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


def next_due_after(notices: Iterable[PlannedNotice], after: datetime) -> datetime | None:
    """The earliest due time strictly after ``after`` (the demo's clock jumps there)."""
    later = [n.due_at for n in notices if n.due_at > after]
    return min(later) if later else None
