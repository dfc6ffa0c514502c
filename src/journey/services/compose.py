"""From outbox rows to messages: the send-time gate, then the render context.

Just before sending, each notice is checked again (invariant 3): the milestone is not
done, the trainee has not withdrawn, the recipient has not opted out, the session has not
moved, and a change to a session goes only to those who were invited to it. A stale notice
is cancelled, a late one skipped; only the rest are rendered (:mod:`._context`). A daily
digest gathers its held notices here and gates each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.engine import is_done, occurrence
from journey.mail.render import NoticeContext
from journey.models import Notice, NoticeStatus, Person
from journey.services._context import World, build_context, load_world
from journey.services.digest import DIGEST, NOTHING_LEFT, gather
from journey.services.invitations import was_invited
from journey.services.loading import LoadedCohort, LoadedTrainee
from journey.services.outbox import MILESTONE_DONE, WITHDRAWN_NEWS, WITHDREW

OPTED_OUT = "recipient opted out of email: tell by other means"
NEVER_INVITED = "never invited to the session: their first invitation carries it as it is now"


@dataclass(frozen=True)
class Verdict:
    """A notice ready to render (``context``), or the reason it must not go."""

    notice: Notice
    context: NoticeContext | None = None
    cancel: str | None = None
    skip: str | None = None


def judge(session: Session, notices: Sequence[Notice], now: datetime) -> list[Verdict]:
    """The send-time gate and render context for each claimed notice.

    A digest gathers its held notices here and gates each one (see :func:`_judge_digest`).
    """
    items = gather(session, [n for n in notices if n.template == DIGEST], now)
    world = load_world(session, [*notices, *(i for found in items.values() for i in found)])
    return [
        _judge_digest(world, n, items[n.id], now)
        if n.template == DIGEST
        else _judge_one(world, n, now)
        for n in notices
    ]


def contexts(session: Session, notices: Sequence[Notice]) -> list[NoticeContext | None]:
    """Each notice's render context with today's data, whatever the gate would say: for
    showing what a notice said or will say (``journey person show``). Reads only; a digest
    shows the held notices it told. None where the recipient is erased, or the notice
    names what no longer exists (a milestone taken out of the programme, say)."""
    digests = [n.id for n in notices if n.template == DIGEST and n.id is not None]
    told: dict[int, list[Notice]] = {}
    if digests:
        for item in session.scalars(select(Notice).where(Notice.digest_id.in_(digests))):
            told.setdefault(item.digest_id or 0, []).append(item)
    world = load_world(session, [*notices, *(i for found in told.values() for i in found)])
    return [_context_of(world, n, told.get(n.id or 0, [])) for n in notices]


def _context_of(world: World, notice: Notice, items: list[Notice]) -> NoticeContext | None:
    recipient = world.person(notice.person_id)
    if recipient is None or recipient.email is None:
        return None
    if notice.template == DIGEST and not items:
        return None
    loaded = world.cohorts[notice.cohort_id]
    trainee = world.trainees.get(notice.enrolment_id) if notice.enrolment_id else None
    try:
        return build_context(world, loaded, trainee, notice, recipient, items)
    except (KeyError, ValueError):  # e.g. a milestone no longer in the programme
        return None


def _judge_digest(world: World, digest: Notice, items: list[Notice], now: datetime) -> Verdict:
    """A digest goes with the held notices still worth telling, bound to it; the others are
    cancelled or skipped here, each with its reason. With none left it is cancelled."""
    recipient = _addressee(world, digest.person_id)
    if isinstance(recipient, str):  # refused: what it held goes with it
        for item in items:
            item.status, item.last_error, item.digest_id = NoticeStatus.CANCELLED, recipient, None
        return Verdict(digest, cancel=recipient)
    told = []
    for item in items:
        verdict = _judge_item(world, item, now)
        if verdict.cancel or verdict.skip:
            item.status = NoticeStatus.CANCELLED if verdict.cancel else NoticeStatus.SKIPPED
            item.last_error, item.digest_id = verdict.cancel or verdict.skip, None
            continue
        item.digest_id = digest.id
        told.append(item)
    if not told:
        return Verdict(digest, cancel=NOTHING_LEFT)
    loaded = world.cohorts[digest.cohort_id]
    return Verdict(digest, context=build_context(world, loaded, None, digest, recipient, told))


def _judge_item(world: World, item: Notice, now: datetime) -> Verdict:
    """The gate for one held notice (its recipient was checked with the digest's)."""
    trainee = world.trainees.get(item.enrolment_id) if item.enrolment_id else None
    if trainee is None:
        return Verdict(item, cancel="trainee erased")
    if not trainee.record.active and item.template != WITHDRAWN_NEWS:
        return Verdict(item, cancel=WITHDREW)
    if item.milestone is not None:
        reason = _stale(world.cohorts[item.cohort_id], trainee, item, item.milestone)
        if reason:
            return Verdict(item, cancel=reason)
    if item.useful_until <= now:
        return Verdict(item, skip="no longer useful: sent too late")
    return Verdict(item)


def _addressee(world: World, person_id: int | None) -> Person | str:
    """The person a notice goes to, or why nothing may be sent to them: erased, or opted
    out of email."""
    recipient = world.person(person_id)
    if recipient is None or recipient.email is None or recipient.erased_at is not None:
        return "recipient erased"
    return OPTED_OUT if recipient.opted_out_at is not None else recipient


def _judge_one(world: World, notice: Notice, now: datetime) -> Verdict:
    recipient = _addressee(world, notice.person_id)
    if isinstance(recipient, str):
        return Verdict(notice, cancel=recipient)
    loaded = world.cohorts[notice.cohort_id]
    trainee = world.trainees.get(notice.enrolment_id) if notice.enrolment_id else None
    if trainee is not None and not trainee.record.active:
        return Verdict(notice, cancel=WITHDREW)
    if notice.milestone is not None and trainee is not None:
        reason = _stale(loaded, trainee, notice, notice.milestone)
        if reason:
            return Verdict(notice, cancel=reason)
        if notice.event_id is not None and not _invited(world, loaded, trainee, notice.milestone):
            return Verdict(notice, cancel=NEVER_INVITED)
    if notice.useful_until <= now:
        return Verdict(notice, skip="no longer useful: sent too late")
    return Verdict(notice, context=build_context(world, loaded, trainee, notice, recipient))


def _invited(world: World, loaded: LoadedCohort, trainee: LoadedTrainee, milestone: str) -> bool:
    """Whether the trainee of a change notice (about ``milestone``'s session) had a calendar
    entry for its session."""
    kind = loaded.programme.milestone(milestone).sessions or ""
    return was_invited(
        world.invited,
        trainee.enrolment.id,
        milestone,
        kind,
        trainee.record.active_from is not None,
    )


def _stale(
    loaded: LoadedCohort, trainee: LoadedTrainee, notice: Notice, milestone_id: str
) -> str | None:
    """Why a notice about ``milestone_id`` (its milestone) must not go any more (None if it
    still should)."""
    if notice.event_id is not None:  # about a session that moved or was cancelled
        event = next((e for e in loaded.events if e.id == notice.event_id), None)
        if event is None or f"seq{event.sequence}" != notice.occurrence:
            return "superseded by a later change to the session"
        return None
    try:
        milestone = loaded.programme.milestone(milestone_id)
    except KeyError:
        return "milestone no longer in the programme"
    occ = occurrence(milestone, loaded.plan, trainee.record)
    if occ is None:
        return "milestone no longer applies"
    if occ.on.isoformat() != notice.occurrence:
        return "session moved"
    if is_done(occ, trainee.record):
        return MILESTONE_DONE
    return None
