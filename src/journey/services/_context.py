"""The render context of a notice that passed the send-time gate, and the batch's world.

:func:`load_world` loads everything a batch of notices needs in a fixed number of queries;
:func:`build_context` turns one notice into the :class:`NoticeContext` its templates show.
Private to :mod:`journey.services.compose`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine import Occurrence, Planner, eligibility, local_date, occurrence
from journey.mail.render import DigestGroup, EventInfo, NoticeContext
from journey.models import (
    CohortEvent,
    Enrolment,
    EventKind,
    LearningSet,
    Mentor,
    Notice,
    Person,
    RecipientRole,
)
from journey.services.digest import group
from journey.services.invitations import calendar_entries
from journey.services.loading import LoadedCohort, LoadedTrainee, load_cohorts, load_trainees


@dataclass
class World:
    """Everything a batch needs, loaded in a fixed number of queries."""

    cohorts: dict[str, LoadedCohort]
    trainees: dict[int, LoadedTrainee]
    people: dict[int, Person]
    mentors: dict[int, Mentor]
    sets: dict[int, LearningSet]
    invited: set[tuple[int, str]]  # calendar entries sent (see journey.services.invitations)
    graduation: dict[int, tuple[bool | None, tuple[str, ...]]] = field(default_factory=dict)
    planners: dict[str, Planner] = field(default_factory=dict)
    events: dict[tuple[object, ...], tuple[EventInfo, ...]] = field(default_factory=dict)
    _led: dict[tuple[str, str, int], tuple[str, ...]] | None = None

    def person(self, person_id: int | None) -> Person | None:
        return self.people.get(person_id) if person_id is not None else None

    def planner(self, loaded: LoadedCohort) -> Planner:
        """The cohort's planner: occurrences shared by trainees of one shape."""
        found = self.planners.get(loaded.cohort.id)
        if found is None:
            found = self.planners[loaded.cohort.id] = Planner(loaded.programme, loaded.plan)
        return found

    def led_by(self, cohort_id: str, role: str, person_id: int) -> tuple[str, ...]:
        """The active trainees a mentor or facilitator (a person) leads in a cohort, by name;
        grouped in one pass over the batch's trainees, the first time it is asked."""
        if self._led is None:
            led: dict[tuple[str, str, int], list[str]] = {}
            for t in self.trainees.values():
                e = t.enrolment
                if not t.record.active:
                    continue
                if e.mentor_id is not None:
                    mentor = self.mentors[e.mentor_id].person_id
                    led.setdefault((e.cohort_id, "mentor", mentor), []).append(e.person.name)
                lset = self.sets.get(e.learning_set_id) if e.learning_set_id else None
                if lset is not None and lset.facilitator_id is not None:
                    key = (e.cohort_id, "facilitator", lset.facilitator_id)
                    led.setdefault(key, []).append(e.person.name)
            self._led = {key: tuple(sorted(names)) for key, names in led.items()}
        return self._led.get((cohort_id, role, person_id), ())


def load_world(session: Session, notices: Sequence[Notice]) -> World:
    cohort_ids = sorted({n.cohort_id for n in notices})
    cohorts = {c.cohort.id: c for c in load_cohorts(session, cohort_ids)}
    trainees = {t.enrolment.id: t for ts in load_trainees(session, cohort_ids).values() for t in ts}
    mentors = {
        m.id: m for m in session.scalars(select(Mentor).where(Mentor.cohort_id.in_(cohort_ids)))
    }
    sets = {
        s.id: s
        for s in session.scalars(select(LearningSet).where(LearningSet.cohort_id.in_(cohort_ids)))
    }
    wanted = {n.person_id for n in notices} | {c.cohort.organiser_id for c in cohorts.values()}
    wanted |= {m.person_id for m in mentors.values()}
    wanted |= {s.facilitator_id for s in sets.values() if s.facilitator_id is not None}
    wanted |= {t.enrolment.person_id for t in trainees.values()}
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(wanted)))}
    invited = calendar_entries(session, notices)
    return World(cohorts, trainees, people, mentors, sets, invited)


def _digest_day(loaded: LoadedCohort, notice: Notice, items: Sequence[Notice]) -> date | None:
    """A digest's day: the local date it was queued for."""
    return local_date(notice.due_at, loaded.cohort.timezone) if items else None


def _digest_groups(world: World, items: Sequence[Notice]) -> tuple[DigestGroup, ...]:
    """What a digest lists: each item's trainee, milestone and due date, grouped."""
    rows = []
    for item in items:
        loaded = world.cohorts[item.cohort_id]
        trainee = world.trainees[item.enrolment_id or 0]
        milestone = loaded.programme.milestone(item.milestone) if item.milestone else None
        occ = occurrence(milestone, loaded.plan, trainee.record) if milestone else None
        title = milestone.title if milestone else ""
        rows.append((item, trainee.enrolment.person.name, title, occ.on if occ else None))
    return group(rows, several_cohorts=len({i.cohort_id for i in items}) > 1)


def _event_info(loaded: LoadedCohort, event: CohortEvent, title: str) -> EventInfo:
    return EventInfo(
        uid=event.uid,
        sequence=event.sequence,
        title=title,
        venue=event.venue,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        timezone=loaded.cohort.timezone,
        cancelled=event.cancelled,
    )


def _events_for(
    world: World,
    loaded: LoadedCohort,
    occ: Occurrence | None,
    notice: Notice,
    lset: LearningSet | None,
    follow_up: bool,
) -> tuple[EventInfo, ...]:
    """The sessions a notice is about: its milestone's (``occ``), or for launch notices the
    training days (trainees; a late joiner's sessions still to come once the training is
    past) or the set's sessions (facilitators). Notices about the same sessions share one
    answer in a batch."""
    if notice.event_id is not None and notice.milestone is not None:  # a change notice
        title = loaded.programme.milestone(notice.milestone).title
        if lset is not None and any(
            e.learning_set_id == lset.id for e in loaded.events if e.id == notice.event_id
        ):
            title = f"{title} ({lset.name})"
        changed = [e for e in loaded.events if e.id == notice.event_id]
        return tuple(_event_info(loaded, e, title) for e in changed)
    ids = tuple(s.event_id for s in occ.slots) if occ else ()
    key = (
        loaded.cohort.id,
        notice.milestone,
        notice.recipient_role,
        lset.id if lset else 0,
        ids,
        follow_up,
    )
    found = world.events.get(key)
    if found is None:
        found = world.events[key] = _sessions(loaded, notice, lset, ids, follow_up)
    return found


def _sessions(
    loaded: LoadedCohort,
    notice: Notice,
    lset: LearningSet | None,
    ids: tuple[int | None, ...],
    follow_up: bool,
) -> tuple[EventInfo, ...]:
    live = [e for e in loaded.events if not e.cancelled]
    title = loaded.cohort.title
    if notice.milestone is None:
        if notice.recipient_role == RecipientRole.FACILITATOR and lset is not None:
            chosen = [e for e in live if e.learning_set_id == lset.id]
            return tuple(_event_info(loaded, e, f"{lset.name}, session {e.number}") for e in chosen)
        if notice.recipient_role != RecipientRole.TRAINEE:
            return ()
        chosen = [e for e in live if e.kind is EventKind.TRAINING]
        if any(e.starts_at > notice.due_at for e in chosen):
            return tuple(_event_info(loaded, e, f"{title}: day {e.number}") for e in chosen)
        return _still_to_come(loaded, live, lset, follow_up, notice.due_at)
    milestone = loaded.programme.milestone(notice.milestone)
    label = milestone.title
    if lset is not None and milestone.sessions == "learning-set":
        label = f"{milestone.title} ({lset.name})"
    return tuple(_event_info(loaded, e, label) for e in live if e.id in ids)


def _joined_after_training(
    loaded: LoadedCohort, trainee: LoadedTrainee | None, notice: Notice
) -> bool:
    """A late joiner whose welcome comes when the Two-Day Training is past."""
    if trainee is None or trainee.record.active_from is None:
        return False
    return all(s.starts_at <= notice.due_at for s in loaded.plan.training)


def _still_to_come(
    loaded: LoadedCohort,
    live: list[CohortEvent],
    lset: LearningSet | None,
    follow_up: bool,
    after: datetime,
) -> tuple[EventInfo, ...]:
    """A late joiner's welcome, the training past: their set's sessions and the graduation
    still to come (follow-up only)."""
    if not follow_up:
        return ()
    found = []
    for e in sorted(live, key=lambda e: e.starts_at):
        if e.starts_at <= after:
            continue
        if e.kind is EventKind.LEARNING_SET and lset is not None and e.learning_set_id == lset.id:
            found.append(_event_info(loaded, e, f"{lset.name}, session {e.number}"))
        elif e.kind is EventKind.GRADUATION:
            found.append(_event_info(loaded, e, "Graduation"))
    return tuple(found)


def _learning_set(
    world: World, enrolment: Enrolment | None, notice: Notice, recipient: Person
) -> LearningSet | None:
    """The trainee's set, or the set a facilitator leads."""
    if enrolment is not None and enrolment.learning_set_id is not None:
        return world.sets.get(enrolment.learning_set_id)
    if notice.recipient_role == RecipientRole.FACILITATOR:
        led = [
            s
            for s in world.sets.values()
            if s.cohort_id == notice.cohort_id and s.facilitator_id == recipient.id
        ]
        return min(led, key=lambda s: s.id) if led else None
    return None


def build_context(
    world: World,
    loaded: LoadedCohort,
    trainee: LoadedTrainee | None,
    notice: Notice,
    recipient: Person,
    items: Sequence[Notice] = (),
) -> NoticeContext:
    """Everything the notice's templates may show."""
    cohort = loaded.cohort
    organiser = world.people[cohort.organiser_id]
    enrolment = trainee.enrolment if trainee else None
    mentor = world.mentors.get(enrolment.mentor_id) if enrolment and enrolment.mentor_id else None
    mentor_person = world.person(mentor.person_id) if mentor else None
    lset = _learning_set(world, enrolment, notice, recipient)
    milestone = loaded.programme.milestone(notice.milestone) if notice.milestone else None
    occ = occurrence(milestone, loaded.plan, trainee.record) if milestone and trainee else None
    eligible, missing = _graduation(world, loaded, trainee)
    return NoticeContext(
        template=notice.template,
        key=notice.key,
        to_name=recipient.name,
        to_email=recipient.email or "",
        cohort_id=cohort.id,
        cohort_title=cohort.title,
        timezone=cohort.timezone,
        organiser_name=organiser.name,
        organiser_email=organiser.email or "",
        trainee_name=enrolment.person.name if enrolment else None,
        milestone_title=milestone.title if milestone else None,
        due_on=occ.on if occ else _digest_day(loaded, notice, items),
        window_opens=occ.opens_on if occ else None,
        mentor_name=mentor_person.name if mentor_person else None,
        mentor_email=mentor_person.email if mentor_person else None,
        learning_set=lset.name if lset else None,
        events=_events_for(
            world, loaded, occ, notice, lset, bool(enrolment and enrolment.follow_up)
        ),
        attach_ics=notice.attach_ics,
        people=_people_for(world, notice, recipient),
        eligible=eligible,
        missing=missing,
        digest=_digest_groups(world, items) if items else (),
        recipient_role=notice.recipient_role,
        joined_late=_joined_after_training(loaded, trainee, notice),
    )


def _graduation(
    world: World, loaded: LoadedCohort, trainee: LoadedTrainee | None
) -> tuple[bool | None, tuple[str, ...]]:
    """Whether the trainee may graduate and what is missing (for graduation notices);
    worked out once per trainee in a batch."""
    if trainee is None:
        return None, ()
    known = world.graduation.get(trainee.enrolment.id)
    if known is None:
        occs = world.planner(loaded).occurrences(trainee.record)
        eligible, missing = eligibility(loaded.programme, occs, trainee.record)
        known = world.graduation[trainee.enrolment.id] = (eligible, tuple(missing))
    return known


def _people_for(world: World, notice: Notice, recipient: Person) -> tuple[str, ...]:
    """A mentor's trainees, or a facilitator's set members (for assignment notices)."""
    staff = (RecipientRole.MENTOR, RecipientRole.FACILITATOR)
    if notice.milestone is not None or notice.recipient_role not in staff:
        return ()
    return world.led_by(notice.cohort_id, notice.recipient_role, recipient.id)
