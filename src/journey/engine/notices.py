"""Which notices a trainee's journey plans, and which are due: each with its key.

Trainees of a cohort share their timings: who they are only changes the key and which
milestones they have done. :class:`Planner` times each milestone's rules once per way the
milestone falls (a learning set's sessions, say) and puts them together once per shape of
trainee (follow-up or not, learning set, mentor or not), so planning a cohort costs one
pass over its rules plus a few dictionary steps per trainee. (For one trainee, a planner
is built for them alone: ``Planner(programme, plan).due(trainee, now)``.)
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

from journey.engine.keys import rule_suffix, trainee_prefix
from journey.engine.timeline import (
    CohortPlan,
    Occurrence,
    TraineeRecord,
    is_done,
    local_moment,
    occurrences,
)
from journey.errors import ProgrammeError
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


def _rule_timing(occ: Occurrence, rule: NoticeRule, tz: str) -> tuple[datetime, datetime]:
    """(due_at, useful_until) of one rule for one occurrence."""
    if rule.from_window_open:
        if occ.opens_on is None:  # the programme's validation lets no rule get here
            raise ProgrammeError(f"{occ.milestone.id}: {rule.at}: open@ needs a window")
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


Shape = tuple[bool, int | None, bool]  # (follow_up, learning_set_id, has_mentor)


@dataclass(frozen=True)
class _Schedule:
    """One shape's notices, unkeyed: every one planned, and those in effect (``live``)."""

    planned: tuple[PlannedNotice, ...]  # key holds the rule's suffix only (keys.rule_suffix)
    live: tuple[PlannedNotice, ...]
    live_due: tuple[datetime, ...]  # live[i].due_at, for bisecting by time


class Planner:
    """One cohort's notices, worked out once per shape of trainee.

    Its answers for a trainee depend only on the programme, the plan and that trainee: it
    only remembers what trainees of one shape share.
    """

    def __init__(self, programme: Programme, plan: CohortPlan) -> None:
        self.programme = programme
        self.plan = plan
        self._occurrences: dict[tuple[bool, int | None], list[Occurrence]] = {}
        self._schedules: dict[Shape, _Schedule] = {}
        self._placings: dict[tuple[object, ...], tuple[PlannedNotice, ...]] = {}

    def occurrences(self, trainee: TraineeRecord) -> list[Occurrence]:
        """Every milestone that applies to the trainee, placed in time (do not modify)."""
        placing = (trainee.follow_up, trainee.learning_set_id)
        found = self._occurrences.get(placing)
        if found is None:
            found = self._occurrences[placing] = occurrences(self.programme, self.plan, trainee)
        return found

    def _schedule(self, trainee: TraineeRecord) -> _Schedule:
        shape = (trainee.follow_up, trainee.learning_set_id, trainee.has_mentor)
        found = self._schedules.get(shape)
        if found is None:
            found = self._schedules[shape] = self._work_out(trainee)
        return found

    def _work_out(self, trainee: TraineeRecord) -> _Schedule:
        planned = [
            notice
            for occ in self.occurrences(trainee)
            for notice in self._placed(occ)
            if notice.to != "mentor" or trainee.has_mentor
        ]
        # The keys share their "cohort/ref/" prefix, so this is the order by (due_at, key).
        planned.sort(key=lambda n: (n.due_at, n.key))
        live = tuple(n for n in planned if self._in_effect(n))
        return _Schedule(tuple(planned), live, tuple(n.due_at for n in live))

    def _placed(self, occ: Occurrence) -> tuple[PlannedNotice, ...]:
        """Every rule of one occurrence, timed (unkeyed): shared by every shape whose
        occurrence of the milestone falls the same way (a learning set's sessions, say)."""
        placing = (occ.milestone.id, occ.on, occ.last_on, occ.opens_on, occ.slots)
        found = self._placings.get(placing)
        if found is None:
            found = self._placings[placing] = tuple(self._time_rules(occ))
        return found

    def _time_rules(self, occ: Occurrence) -> Iterator[PlannedNotice]:
        when = occ.on.isoformat()
        for rule in occ.milestone.notices:
            due_at, useful = _rule_timing(occ, rule, self.plan.timezone)
            yield PlannedNotice(
                key=rule_suffix(occ.milestone.id, rule.id, when),
                milestone=occ.milestone.id,
                rule=rule.id,
                occurrence=when,
                to=rule.to,
                template=rule.template,
                due_at=due_at,
                useful_until=useful,
                attach_ics=rule.ics and bool(occ.slots),
            )

    def _in_effect(self, notice: PlannedNotice) -> bool:
        start = effective_from(self.plan, notice.milestone, notice.rule)
        return start is not None and notice.due_at >= start

    def _keyed(
        self, trainee: TraineeRecord, notices: tuple[PlannedNotice, ...], skip: set[str]
    ) -> list[PlannedNotice]:
        prefix = trainee_prefix(self.plan.cohort_id, trainee.ref)
        return [replace(n, key=prefix + n.key) for n in notices if n.milestone not in skip]

    def _done(self, trainee: TraineeRecord) -> set[str]:
        if not trainee.done:
            return set()
        return {o.milestone.id for o in self.occurrences(trainee) if is_done(o, trainee)}

    def planned(self, trainee: TraineeRecord) -> list[PlannedNotice]:
        """Every notice the programme plans for this trainee, done or not, by due time."""
        return self._keyed(trainee, self._schedule(trainee).planned, set())

    def _live_slice(
        self, trainee: TraineeRecord, start: int, end: int | None
    ) -> list[PlannedNotice]:
        if not trainee.active or self.plan.launched_at is None:
            return []
        schedule = self._schedule(trainee)
        if trainee.active_from is not None:  # joined late or came back: their own launch
            start = max(start, bisect_left(schedule.live_due, trainee.active_from))
        live = schedule.live[start:end]
        return self._keyed(trainee, live, self._done(trainee)) if live else []

    def live(self, trainee: TraineeRecord) -> list[PlannedNotice]:
        """Planned notices still to count: trainee active, milestone not done, rule in effect.

        A notice is never due before its rule's effective time (the cohort's launch, or
        when the rule was first seen) nor before the trainee's ``active_from`` (a late
        join, a reinstatement), so a late launch, a late rule or a late joiner sends
        nothing for moments already past. Whether a late notice is still worth sending is
        ``useful_until``'s call.
        """
        return self._live_slice(trainee, 0, None)

    def due(self, trainee: TraineeRecord, now: datetime) -> list[PlannedNotice]:
        """Notices due by ``now`` (see :meth:`live`)."""
        return self._live_slice(trainee, 0, bisect_right(self._schedule(trainee).live_due, now))

    def between(
        self, trainee: TraineeRecord, start: datetime, end: datetime
    ) -> list[PlannedNotice]:
        """Notices that will come due in (start, end] if nothing changes."""
        times = self._schedule(trainee).live_due
        return self._live_slice(trainee, bisect_right(times, start), bisect_right(times, end))


def effective_from(plan: CohortPlan, milestone: str, rule: str) -> datetime | None:
    """When a rule starts to count for the cohort: its launch, or later if the rule came later."""
    if plan.launched_at is None:
        return None
    adopted = plan.rule_adopted.get(f"{milestone}/{rule}")
    return max(plan.launched_at, adopted) if adopted else plan.launched_at
