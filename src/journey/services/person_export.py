"""Everything held about one person, for a subject access request (``journey person export``).

It builds on :func:`journey.services.person.person_view` (cohorts, what they did, every
notice to them as worded today) and adds what that view leaves out: each enrolment's
place, fee and dates, mentoring meetings, the evaluation responses linked to them, the
history lines about them, and the outbox's .eml files that concern them. Comments are
kept apart from names by design, so none can be given as theirs. Making the export is
itself written to the history.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from journey.mail.outbox_folder import eml_filename
from journey.models import (
    Completion,
    Enrolment,
    EvaluationAnswer,
    EvaluationResponse,
    HistoryEntry,
    Institution,
    MentoringMeeting,
    Notice,
    Person,
)
from journey.services.history import note
from journey.services.person import person_view

FORMAT = "journey-person-export/1"


@dataclass(frozen=True)
class PersonExport:
    """What :func:`export_person` found, as plain data ready for JSON."""

    email: str
    data: dict[str, Any]

    @property
    def files(self) -> Sequence[str]:
        return tuple(self.data["outbox_files"])


def export_person(
    *, session: Session, email_address: str, now: datetime, outbox_dir: Path, by: str | None
) -> PersonExport:
    """Everything held about the person with ``email_address`` (any case) at ``now``.

    Raises :class:`journey.errors.UnknownPerson` if no one has that address. Writes one
    line of history (``person-export``) in the caller's transaction.
    """
    view = person_view(session=session, email=email_address, now=now)
    person = session.scalars(select(Person).where(Person.email == view.email)).one()
    enrolment_ids = list(
        session.scalars(select(Enrolment.id).where(Enrolment.person_id == person.id))
    )
    data: dict[str, Any] = {
        "format": FORMAT,
        "made_at": now,
        "person": {
            "name": person.name,
            "email": person.email,
            "opted_out_at": person.opted_out_at,
        },
        "roles": [asdict(r) for r in view.roles],
        "enrolments": _enrolments(session, person.id),
        "progress": [asdict(e) for e in view.enrolments],
        "completions": _completions(session, enrolment_ids),
        "mentoring_meetings": _meetings(session, enrolment_ids),
        "evaluation_responses": _responses(session, enrolment_ids),
        "notices": [asdict(n) for n in (*view.notices, *view.upcoming)],
        "history": _history(session, person.id, enrolment_ids),
        "outbox_files": outbox_files(session, person, enrolment_ids, outbox_dir),
        "not_included": [
            "comments on evaluation questionnaires: they are stored apart from names, so "
            "none can be told to be theirs",
        ],
    }
    note(
        session=session,
        at=now,
        by=by,
        action="person-export",
        detail=f"{len(data['outbox_files'])} outbox files listed",
        person_id=person.id,
    )
    return PersonExport(person.email or view.email, data)


def _enrolments(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Each enrolment as stored: institution and its membership, place, fee, dates."""
    rows = session.execute(
        select(Enrolment, Institution)
        .join(Institution, Institution.id == Enrolment.institution_id)
        .where(Enrolment.person_id == person_id)
        .order_by(Enrolment.cohort_id, Enrolment.id)
    )
    return [
        {
            "cohort": e.cohort_id,
            "institution": i.name,
            "institution_is_member": i.member,
            "place": e.place.value,
            "funder": e.funder,
            "fee": f"{e.fee:.2f}",
            "follow_up": e.follow_up,
            "status": e.status.value,
            "active_from": e.active_from,
            "withdrawn_at": e.withdrawn_at,
            "withdrawal_reason": e.withdrawal_reason,
        }
        for e, i in rows
    ]


def _cohort_of(session: Session, enrolment_ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(
        select(Enrolment.id, Enrolment.cohort_id).where(Enrolment.id.in_(enrolment_ids))
    )
    return dict(rows.all())


def _completions(session: Session, enrolment_ids: Sequence[int]) -> list[dict[str, Any]]:
    cohort = _cohort_of(session, enrolment_ids)
    rows = session.scalars(
        select(Completion)
        .where(Completion.enrolment_id.in_(enrolment_ids))
        .order_by(Completion.completed_on, Completion.milestone, Completion.occurrence)
    )
    return [
        {
            "cohort": cohort[c.enrolment_id],
            "milestone": c.milestone,
            "occurrence": c.occurrence,
            "completed_on": c.completed_on,
            "recorded_at": c.recorded_at,
        }
        for c in rows
    ]


def _meetings(session: Session, enrolment_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Only that each meeting took place, and when: nothing said in it is stored."""
    cohort = _cohort_of(session, enrolment_ids)
    rows = session.scalars(
        select(MentoringMeeting)
        .where(MentoringMeeting.enrolment_id.in_(enrolment_ids))
        .order_by(MentoringMeeting.met_on, MentoringMeeting.number)
    )
    return [
        {
            "cohort": cohort[m.enrolment_id],
            "meeting": m.number,
            "met_on": m.met_on,
            "recorded_at": m.recorded_at,
        }
        for m in rows
    ]


def _responses(session: Session, enrolment_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Their named evaluation responses, each with its numbers."""
    responses = list(
        session.scalars(
            select(EvaluationResponse)
            .where(EvaluationResponse.enrolment_id.in_(enrolment_ids))
            .order_by(EvaluationResponse.received_at, EvaluationResponse.id)
        )
    )
    answers: dict[int, list[dict[str, Any]]] = {r.id: [] for r in responses}
    for a in session.scalars(
        select(EvaluationAnswer)
        .where(EvaluationAnswer.response_id.in_(list(answers)))
        .order_by(EvaluationAnswer.response_id, EvaluationAnswer.item)
    ):
        answers[a.response_id].append({"item": a.item, "value": a.value, "before": a.before})
    return [
        {
            "cohort": r.cohort_id,
            "questionnaire": r.questionnaire,
            "received_at": r.received_at,
            "answers": answers[r.id],
        }
        for r in responses
    ]


def _history(
    session: Session, person_id: int, enrolment_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """Every line of history about them: changes to their records, exports before this."""
    about = or_(HistoryEntry.person_id == person_id, HistoryEntry.enrolment_id.in_(enrolment_ids))
    rows = session.scalars(
        select(HistoryEntry).where(about).order_by(HistoryEntry.at, HistoryEntry.id)
    )
    return [
        {"at": h.at, "by": h.by, "action": h.action, "cohort": h.cohort_id, "detail": h.detail}
        for h in rows
    ]


def outbox_files(
    session: Session, person: Person, enrolment_ids: Sequence[int], outbox_dir: Path
) -> list[str]:
    """The .eml files in ``outbox_dir`` that concern them, sorted by name: those the
    outbox sent to them or about them (a digest counts if it told something about
    them), and any other that names their address or their name."""
    linked = select(Notice.id, Notice.message_id, Notice.digest_id).where(
        or_(Notice.person_id == person.id, Notice.enrolment_id.in_(enrolment_ids))
    )
    found: set[str] = set()
    digests: set[int] = set()
    for notice_id, message_id, digest_id in session.execute(linked):
        if message_id:
            found.add(eml_filename(message_id, notice_id))
        if digest_id is not None:
            digests.add(digest_id)
    for notice_id, message_id in session.execute(
        select(Notice.id, Notice.message_id).where(Notice.id.in_(digests))
    ):
        if message_id:
            found.add(eml_filename(message_id, notice_id))
    names = {p.name for p in _files(outbox_dir)}
    found &= names
    needles = [n.casefold() for n in (person.email, person.name) if n]
    found.update(
        p.name for p in _files(outbox_dir) if p.name not in found and _mentions(p, needles)
    )
    return sorted(found)


def _files(outbox_dir: Path) -> Iterator[Path]:
    if not outbox_dir.is_dir():
        return iter(())
    return (p for p in outbox_dir.glob("*.eml") if p.is_file())


def _mentions(path: Path, needles: Sequence[str]) -> bool:
    """Whether the message in ``path`` names any of ``needles`` in a header or a text
    part, once decoded (quoted-printable can split an address across lines)."""
    try:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    except OSError:
        return False
    texts = [str(v) for v in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):
                continue
    folded = " ".join(" ".join(texts).split()).casefold()
    return any(n in folded for n in needles)


def plain(value: object) -> object:
    """JSON for dates and times (ISO 8601)."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {value!r}")
