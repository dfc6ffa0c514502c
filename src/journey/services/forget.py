"""Forgetting a person (``journey person forget``): the right to erasure.

Their name and address give way to an anonymous token; what they were sent and what was
said about them goes (queued notices cancelled, their .eml files removed, texts naming
them rewritten); the anonymous facts stay (place, institution, completions, meeting
dates, scores), so every figure of the funder's report is the same before and after.
Their evaluation responses stay linked to their enrolment, which is now anonymous: the
report counts named and anonymous responses apart, and that count must not change.

Only a salted hash of the address is kept (:func:`journey.services.identity.address_hash`),
so that a roster naming them again is refused. After the transaction, :func:`compact`
rewrites a SQLite file so that no deleted text stays in its free pages or its WAL.

Prefect: flow runs and artifacts that name them are not touched here. A step that
deletes them through the Prefect API belongs after the commit, next to :func:`compact`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, Engine, func, or_, select, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from journey.errors import JourneyError, UnknownPerson
from journey.models import (
    Enrolment,
    Erasure,
    EvaluationComment,
    HistoryEntry,
    Notice,
    NoticeStatus,
    Person,
)
from journey.services.history import note
from journey.services.identity import address_hash
from journey.services.person_export import outbox_files

ERASED = "(erased)"
RECIPIENT_ERASED = "recipient erased"  # as the send gate says (services/compose.py)
TRAINEE_ERASED = "trainee erased"
QUEUED = (NoticeStatus.PENDING, NoticeStatus.HELD)


@dataclass(frozen=True)
class Forgotten:
    """What forgetting one person does (or, in a dry run, would do)."""

    email: str
    token: str | None  # None in a dry run: none is made
    notices_cancelled: int
    errors_cleared: int  # notices' last_error texts naming them
    texts_rewritten: int  # history lines, withdrawal reasons, comments naming them
    files: tuple[str, ...]  # .eml files in the outbox folder, removed
    dry_run: bool


@dataclass(frozen=True)
class Who:
    """Who is to be forgotten: what finds them outside the database (Prefect)."""

    email: str
    name: str
    cohort_ids: tuple[str, ...]  # the cohorts they are enrolled in


def who(session: Session, email: str) -> Who:
    """The person with ``email`` (any case), or :class:`UnknownPerson` (an erased one
    included): a cheap look-up, before anything is changed."""
    person, enrolment_ids = _person(session, email)
    cohorts = session.scalars(select(Enrolment.cohort_id).where(Enrolment.id.in_(enrolment_ids)))
    return Who(person.email or "", person.name, tuple(sorted(set(cohorts))))


def _person(session: Session, email: str) -> tuple[Person, list[int]]:
    """The person with ``email`` (any case) and their enrolments' ids."""
    address = email.strip().lower()
    person = session.scalars(select(Person).where(Person.email == address)).first()
    if person is None or person.email is None:
        raise UnknownPerson(email)
    enrolment_ids = list(
        session.scalars(select(Enrolment.id).where(Enrolment.person_id == person.id))
    )
    return person, enrolment_ids


def forget_person(
    *,
    session: Session,
    email: str,
    now: datetime,
    outbox_dir: Path,
    by: str | None,
    dry_run: bool = False,
    token: str | None = None,
) -> Forgotten:
    """Forget the person with ``email`` (any case) at ``now``, in the caller's transaction;
    a dry run only says what would be done. Raises :class:`UnknownPerson` for an address
    no one has (an erased one included). Writes one line of history (``person-forget``)
    naming the token, never the address. Files are removed last, so an error before
    leaves them and the database as they were."""
    person, enrolment_ids = _person(session, email)
    address = person.email or ""
    needles = [n for n in (person.email, person.name) if n]
    files = tuple(outbox_files(session, person, enrolment_ids, outbox_dir))
    about = or_(Notice.person_id == person.id, Notice.enrolment_id.in_(enrolment_ids))
    queued = list(session.scalars(select(Notice).where(about, Notice.status.in_(QUEUED))))
    cancelled = {n.id for n in queued}
    errors = [
        n
        for n in session.scalars(select(Notice).where(_mentions(Notice.last_error, needles)))
        if n.id not in cancelled
    ]
    history = list(
        session.scalars(
            select(HistoryEntry).where(
                or_(
                    _mentions(HistoryEntry.detail, needles),
                    (HistoryEntry.person_id == person.id) & (HistoryEntry.action == "withdraw"),
                )
            )
        )
    )
    enrolments = list(
        session.scalars(
            select(Enrolment).where(
                or_(
                    Enrolment.id.in_(enrolment_ids) & Enrolment.withdrawal_reason.is_not(None),
                    _mentions(Enrolment.withdrawal_reason, needles),
                )
            )
        )
    )
    comments = list(
        session.scalars(select(EvaluationComment).where(_mentions(EvaluationComment.text, needles)))
    )
    token = None if dry_run else token or new_token()
    result = Forgotten(
        email=address,
        token=token,
        notices_cancelled=len(queued),
        errors_cleared=len(errors),
        texts_rewritten=len(history) + len(enrolments) + len(comments),
        files=files,
        dry_run=dry_run,
    )
    if token is None:
        return result
    for n in queued:
        n.status = NoticeStatus.CANCELLED
        n.last_error = RECIPIENT_ERASED if n.person_id == person.id else TRAINEE_ERASED
    for n in errors:
        n.last_error = ERASED
    for h in history:
        h.detail = _withdrawal_line(h) if h.person_id == person.id else h.detail
        h.detail = _scrub(h.detail, needles, token)
    for e in enrolments:
        mine = e.id in enrolment_ids
        e.withdrawal_reason = None if mine else _scrub(e.withdrawal_reason or "", needles, token)
    for c in comments:
        c.text = _scrub(c.text, needles, token)
    person.name, person.email, person.erased_at = token, None, now
    digest = address_hash(session, address, create=True)
    if digest is None:  # create=True makes the salt, so this would be a bug there
        raise JourneyError("the database's erasure salt could not be made; nothing was forgotten")
    if session.scalar(select(Erasure.id).where(Erasure.salted_hash == digest)) is None:
        session.add(Erasure(salted_hash=digest, erased_at=now))
    note(
        session=session,
        at=now,
        by=by,
        action="person-forget",
        detail=f"forgotten as {token}: {_counts(result)}",
        person_id=person.id,
    )
    session.flush()
    for name in files:
        (outbox_dir / name).unlink(missing_ok=True)
    return result


def _counts(result: Forgotten) -> str:
    return (
        f"{result.notices_cancelled} queued notices cancelled, "
        f"{result.errors_cleared} errors cleared, {result.texts_rewritten} texts rewritten, "
        f"{len(result.files)} outbox files removed"
    )


def _mentions(
    column: InstrumentedAttribute[str | None] | InstrumentedAttribute[str], needles: Sequence[str]
) -> ColumnElement[bool]:
    """Whether ``column`` contains any of ``needles``, in any case."""
    return or_(*(func.lower(column).contains(n.lower(), autoescape=True) for n in needles))


def _scrub(value: str, needles: Sequence[str], token: str) -> str:
    """``value`` with each of ``needles`` (any case) replaced by ``token``."""
    for needle in needles:
        value = re.sub(re.escape(needle), token, value, flags=re.IGNORECASE)
    return value


def _withdrawal_line(entry: HistoryEntry) -> str:
    """A withdrawal's history line without its reason (free text about them)."""
    if entry.action != "withdraw":
        return entry.detail
    return entry.detail.partition(": ")[0]


def new_token() -> str:
    """The anonymous name a forgotten person gets: ``erased-1a2b3c4d``."""
    return f"erased-{secrets.token_hex(4)}"


def compact(engine: Engine) -> bool:
    """Leave no deleted text in a SQLite file: its WAL checkpointed into it and emptied,
    then the file rebuilt (VACUUM), then the WAL emptied again. Runs outside any
    transaction. True when done; False if another connection kept the WAL busy (run it
    again later). Nothing to do on PostgreSQL, whose files are not handed around."""
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        conn.execute(text("VACUUM"))
        busy = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    return busy is None or busy[0] == 0
