"""What ``journey record`` refuses before it writes anything (used by :mod:`.record`).

A record has to be possible: the trainee is still on the programme, the session took
place (it has started, and was not cancelled), the date lies between the cohort's start
and today, a session attended on another day lies near its own date, and graduation goes
to those who are eligible unless the organiser forces it. Each check runs for the whole
command before the first write, so a refusal writes nothing for anyone.

A session attended on another day: allowed (a catch-up, or another set's session that
week), but only for a session that has already started and within
:data:`REARRANGED_WITHIN` of its own date: room for the real cases, none for a mistyped
month or year. A session moved for everyone is moved in the cohort file instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from journey.engine import (
    Occurrence,
    Slot,
    eligibility,
    local_date,
    occurrence,
    occurrences,
    zone,
)
from journey.errors import (
    DateOutOfRange,
    NotApplicable,
    NotEligible,
    SessionNotHeld,
    TraineeWithdrawn,
)
from journey.models import EnrolmentStatus
from journey.programme import Milestone
from journey.services.loading import LoadedCohort, LoadedTrainee

REARRANGED_WITHIN = timedelta(days=14)


@dataclass(frozen=True)
class Entry:
    """One record of a trainee: its session number and date, and how it reads in history."""

    number: int
    day: date
    label: str  # "listening", or "training session 2" for one of several sessions
    chosen: bool  # the organiser chose this date for it (not a session's): it may be corrected
    starts_at: datetime | None = None  # the session's start, for a session's record


def refuse_withdrawn(loaded: LoadedCohort, trainees: Sequence[LoadedTrainee]) -> None:
    """Every withdrawn trainee of the command, with the way back, in one line."""
    cohort, tz = loaded.cohort, loaded.cohort.timezone
    gone = [t.enrolment for t in trainees if t.enrolment.status is EnrolmentStatus.WITHDRAWN]
    lines = []
    for e in gone:
        when = f" on {local_date(e.withdrawn_at, tz).isoformat()}" if e.withdrawn_at else ""
        email = e.person.email or ""
        lines.append(
            f"{email} withdrew from {cohort.id}{when}; "
            f"reinstate them first: journey reinstate {cohort.id} {email}"
        )
    if lines:
        raise TraineeWithdrawn("; ".join(lines))


def cancelled_or_not_applicable(
    loaded: LoadedCohort, trainee: LoadedTrainee, m: Milestone, undo: bool
) -> Occurrence:
    """For a milestone the engine does not place: a record of a cancelled session may be
    taken back (its occurrence as scheduled is returned), not made; anything else does
    not apply to the trainee."""
    scheduled = _scheduled(loaded, trainee, m)
    if scheduled is None:
        email = trainee.enrolment.person.email
        raise NotApplicable(f"{m.id} does not apply to {email} (no follow-up, or no set)")
    if undo:
        return scheduled
    days = ", ".join(_day(loaded, s).isoformat() for s in scheduled.slots)
    raise SessionNotHeld(f"{m.id} on {days} was cancelled: there is no attendance to record")


def refuse_cancelled_day(
    loaded: LoadedCohort, trainee: LoadedTrainee, m: Milestone, live: Occurrence, on: date
) -> None:
    """``on`` is not the day of a live session of the milestone: it must not be the day of
    one that was cancelled either (not even as another session's rearranged date)."""
    scheduled = _scheduled(loaded, trainee, m)
    cancelled = {_day(loaded, s) for s in scheduled.slots} if scheduled else set()
    if on in cancelled - {_day(loaded, s) for s in live.slots}:
        raise SessionNotHeld(
            f"{m.id} on {on.isoformat()} was cancelled: there is no attendance to record"
        )


def check_dates(loaded: LoadedCohort, entries: Sequence[Entry], now: datetime) -> None:
    """Each record's session has started; its date is neither to come nor before the
    cohort; a rearranged date lies near its session's. The first problem is the error."""
    tz = loaded.cohort.timezone
    today = local_date(now, tz)
    for e in entries:
        if e.starts_at is not None and e.starts_at > now:
            starts, at = (t.astimezone(zone(tz)) for t in (e.starts_at, now))
            raise SessionNotHeld(
                f"{e.label} has not happened yet: it starts {starts:%Y-%m-%d %H:%M} ({tz}), "
                f"after now ({at:%Y-%m-%d %H:%M}); record it once it has"
            )
        if e.day > today:
            raise DateOutOfRange(
                f"{e.label} date {e.day.isoformat()} is in the future "
                f"(today is {today.isoformat()} in {tz})"
            )
        _not_before_the_cohort(loaded, e)
        if e.starts_at is not None and e.chosen:
            _near_its_session(e, local_date(e.starts_at, tz))


def refuse_ineligible(
    loaded: LoadedCohort, milestone: str, trainees: Sequence[LoadedTrainee]
) -> None:
    """Graduation only for those who meet the programme's requirements, each named with
    what they still need; one already recorded as graduated stands as it is."""
    programme = loaded.programme
    if programme.graduation is None or milestone != programme.graduation.milestone:
        return
    lines = []
    for t in trainees:
        if (milestone, 1) in t.record.done:
            continue
        occs = occurrences(programme, loaded.plan, t.record)
        eligible, missing = eligibility(programme, occs, t.record)
        if eligible is False:
            email = t.enrolment.person.email
            lines.append(f"{email} is not eligible to graduate (still needs: {', '.join(missing)})")
    if lines:
        raise NotEligible("; ".join([*lines, "add --force to record it anyway"]))


def _not_before_the_cohort(loaded: LoadedCohort, e: Entry) -> None:
    """The cohort starts when it was imported, or at its training if that came first (a
    cohort imported once its programme was under way)."""
    cohort, tz = loaded.cohort, loaded.cohort.timezone
    imported = local_date(cohort.imported_at, tz)
    training = min((_day(loaded, s) for s in loaded.plan.training), default=imported)
    if e.day >= min(imported, training):
        return
    since = (
        f"was imported ({imported.isoformat()})"
        if imported <= training
        else f"began (training on {training.isoformat()})"
    )
    raise DateOutOfRange(
        f"{e.label} date {e.day.isoformat()} is before cohort {cohort.id!r} {since}"
    )


def _near_its_session(e: Entry, held: date) -> None:
    if abs(e.day - held) <= REARRANGED_WITHIN:
        return
    within = REARRANGED_WITHIN.days
    raise DateOutOfRange(
        f"{e.label} was held on {held.isoformat()}; attendance on another day must be within "
        f"{within} days of it, and {e.day.isoformat()} is not"
    )


def _scheduled(loaded: LoadedCohort, trainee: LoadedTrainee, m: Milestone) -> Occurrence | None:
    """The milestone as planned before any cancellation: the cohort's plan with every
    session live, placed by the engine's own rules."""
    plan = loaded.plan
    grad = plan.graduation
    whole = replace(
        plan,
        training=_uncancel(plan.training),
        learning_sets={k: _uncancel(v) for k, v in plan.learning_sets.items()},
        graduation=replace(grad, cancelled=False) if grad else None,
    )
    return occurrence(m, whole, trainee.record)


def _uncancel(slots: tuple[Slot, ...]) -> tuple[Slot, ...]:
    return tuple(replace(s, cancelled=False) for s in slots)


def _day(loaded: LoadedCohort, slot: Slot) -> date:
    return local_date(slot.starts_at, loaded.cohort.timezone)
