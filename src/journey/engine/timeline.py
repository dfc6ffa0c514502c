"""When each milestone falls for a trainee: cohort dates, local time, occurrences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from journey.errors import ProgrammeError
from journey.programme import Milestone, Programme, parse_span

DEFAULT_TIMEZONE = "Europe/London"
"""The zone of a cohort file that names none, and of times that belong to no cohort (the
audit of a person with no enrolment left). The one place it is written."""


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
    active: bool = True  # False once withdrawn (an opted-out trainee stays active)
    active_from: datetime | None = None  # a late join or a reinstatement: nothing due before
    done: Mapping[tuple[str, int], date] = field(default_factory=dict)  # (milestone, n) -> on


@dataclass(frozen=True)
class Occurrence:
    """A milestone placed in time for one trainee."""

    milestone: Milestone
    on: date  # local date the milestone is due (the first session's, for multi-day ones)
    last_on: date  # local date of its last session (== on unless multi-day)
    opens_on: date | None  # booking windows
    slots: tuple[Slot, ...]  # its sessions, if any


def _slots_for(m: Milestone, plan: CohortPlan, trainee: TraineeRecord) -> tuple[Slot, ...] | None:
    """The milestone's live sessions for this trainee; None if it cannot apply."""
    if m.sessions == "training":
        slots = plan.training
    elif m.sessions == "graduation":
        slots = (plan.graduation,) if plan.graduation else ()
    elif trainee.learning_set_id is None or m.session is None:  # in no set: no set sessions
        slots = ()
    else:
        sessions = plan.learning_sets.get(trainee.learning_set_id, ())
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
    if m.after_training is None:  # the programme's validation lets no milestone get here
        raise ProgrammeError(f"milestone {m.id!r}: give one of sessions, after_training or window")
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
