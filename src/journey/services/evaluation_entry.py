"""One trainee's response to a questionnaire, entered by hand: recorded, corrected
(``replace``) or taken back (``undo``), with a line of history for each change.

The answers are named as the columns of a responses file (``score=9``,
``leadership-before=4``, ``leadership-after=8``) and checked by the same rules as an
import. Comments are stored apart from names, as an import stores them, so nothing leads
from a comment back to its response: a correction or an undo leaves the comments given
before where they are, unlinked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journey.cohort.evaluation_file import (
    Answer,
    ResponseIn,
    name_problems,
    read_response,
    sorted_answers,
)
from journey.errors import InputProblem, JourneyError, NothingToUndo, UnknownTrainee
from journey.models import Enrolment, EvaluationAnswer, EvaluationResponse
from journey.programme import Questionnaire
from journey.services.evaluation import find_questionnaire, trainee_enrolments, write_responses
from journey.services.history import note
from journey.services.loading import load_cohort

Outcome = Literal["recorded", "already", "replaced", "undone"]


@dataclass(frozen=True)
class EntryResult:
    """What one entry did (or, dry run, would do) to a trainee's response."""

    cohort_id: str
    questionnaire: str
    email: str
    outcome: Outcome
    answers: tuple[Answer, ...]  # the numbers given; for an undo, those taken back
    replaced: tuple[Answer, ...] = ()  # the numbers stored before a correction
    comments: int = 0  # comments given (kept, unless the response was already stored)


@dataclass(frozen=True)
class _Stored:
    """A trainee's response as stored: its id and numbers."""

    id: int
    answers: tuple[Answer, ...]


def record_response(
    *,
    session: Session,
    cohort_id: str,
    email: str,
    questionnaire_id: str | None,
    answers: Sequence[str],
    comments: Sequence[str] = (),
    now: datetime,
    replace: bool = False,
    undo: bool = False,
    dry_run: bool = False,
    by: str | None = None,
) -> EntryResult:
    """Record one trainee's answers (``COLUMN=VALUE``; ``comments``: ``ITEM=TEXT``) to a
    questionnaire of the cohort's programme (default: its first). Withdrawn trainees count:
    they may have answered before they left. The same numbers again change nothing; other
    numbers are refused unless ``replace``. ``undo`` takes the response back. Everything is
    checked before anything is written; ``dry_run`` writes nothing."""
    loaded = load_cohort(session, cohort_id)
    questionnaire = find_questionnaire(loaded.programme, questionnaire_id)
    wanted = email.strip().lower()
    enrolment_id = trainee_enrolments(session, cohort_id).get(wanted)
    if enrolment_id is None:
        raise UnknownTrainee(cohort_id, email)
    if undo and replace:
        raise JourneyError("--undo and --replace do not go together: give one of them")
    if undo and (answers or comments):
        raise JourneyError("--undo takes the whole response back: give no answers with it")
    stored = _stored(session, cohort_id, questionnaire.id, enrolment_id)
    act = _Act(session, cohort_id, questionnaire.id, wanted, enrolment_id, now, by, dry_run)
    if undo:
        if stored is None:
            raise NothingToUndo([wanted], f"a response to {questionnaire.id}")
        return act.undo(stored)
    given = read_answers(questionnaire, answers, comments, wanted)
    if stored is not None and sorted_answers(stored.answers) == sorted_answers(given.answers):
        count = len(given.comments)  # not kept twice, as an import does not keep them
        return EntryResult(cohort_id, questionnaire.id, wanted, "already", given.answers, (), count)
    if stored is not None and not replace:
        message = (
            f"{wanted!r} already has a different response to {questionnaire.id} stored"
            f" ({columns(stored.answers)}); add --replace to correct it"
        )
        raise JourneyError(message)
    return act.record(given, stored)


def read_answers(
    questionnaire: Questionnaire, answers: Sequence[str], comments: Sequence[str], email: str
) -> ResponseIn:
    """The response the command gives, checked as a row of a responses file is; a
    :class:`JourneyError` naming every problem, one a line, if anything is wrong."""
    numbers = [c for q in questionnaire.items if q.kind != "comments" for c in q.columns]
    free = [q.id for q in questionnaire.items if q.kind == "comments"]
    messages: list[str] = []
    cells = _cells(answers, questionnaire.columns, "COLUMN=VALUE, e.g. score=9", messages)
    texts = _cells(comments, questionnaire.columns, "--comment ITEM=TEXT", messages)
    for name in cells.keys() & set(free):
        messages.append(f"{name!r} is free text: give it as --comment {name}=TEXT")
    for name in texts.keys() & set(numbers):
        messages.append(f"{name!r} takes a number: give it as {name}=VALUE, not with --comment")
    if messages:
        raise _refused(messages)
    problems: list[InputProblem] = []
    response = read_response("", 0, {**cells, **texts}, questionnaire, problems)
    for p in problems:
        if p.field == "row":  # nothing given, or only blanks
            messages.append(f"{p.message}: give each answer as COLUMN=VALUE, e.g. score=9")
        else:
            messages.append(f"{p.field}: {p.message}")
    if messages:
        raise _refused(messages)
    return ResponseIn(0, email, response.answers, response.comments)


def _refused(messages: list[str]) -> JourneyError:
    """One problem as one line; several, counted, then one a line (as a file's are)."""
    if len(messages) == 1:
        return JourneyError(messages[0])
    return JourneyError(
        "\n".join([f"{len(messages)} problems found; nothing was written", *messages])
    )


def _cells(
    given: Sequence[str], allowed: Sequence[str], form: str, messages: list[str]
) -> dict[str, str]:
    """``NAME=VALUE`` arguments by name, adding a message for each not of that form, and
    for a name given twice or not among the questionnaire's columns (``allowed``)."""
    cells: dict[str, str] = {}
    names: list[str] = []
    for arg in given:
        name, sign, value = arg.partition("=")
        if not sign:
            messages.append(f"{arg!r}: give it as {form}")
            continue
        names.append(name.strip().lower())
        cells[names[-1]] = value.strip()
    messages.extend(name_problems(names, allowed))
    return cells


def columns(answers: Sequence[Answer]) -> str:
    """``score=9 leadership-before=4 leadership-after=8``: the numbers as the columns name
    them, in the order given."""
    parts: list[str] = []
    for a in answers:
        if a.before is None:
            parts.append(f"{a.item}={a.value}")
        else:
            parts.append(f"{a.item}-before={a.before} {a.item}-after={a.value}")
    return " ".join(parts) or "no numbers"


def _stored(
    session: Session, cohort_id: str, questionnaire: str, enrolment_id: int
) -> _Stored | None:
    """The trainee's response to the questionnaire, if one is stored (at most one is)."""
    response_id = session.scalar(
        select(EvaluationResponse.id).where(
            EvaluationResponse.cohort_id == cohort_id,
            EvaluationResponse.questionnaire == questionnaire,
            EvaluationResponse.enrolment_id == enrolment_id,
        )
    )
    if response_id is None:
        return None
    rows = session.scalars(
        select(EvaluationAnswer)
        .where(EvaluationAnswer.response_id == response_id)
        .order_by(EvaluationAnswer.id)  # as written: in the questionnaire's order
    )
    return _Stored(response_id, tuple(Answer(a.item, a.value, a.before) for a in rows))


@dataclass(frozen=True)
class _Act:
    """What one command changes, and for whom: the writes and their history."""

    session: Session
    cohort_id: str
    questionnaire: str
    email: str
    enrolment_id: int
    now: datetime
    by: str | None
    dry_run: bool

    def record(self, given: ResponseIn, stored: _Stored | None) -> EntryResult:
        """Store the response, in place of the one stored (a correction) if there is one."""
        count = len(given.comments)
        if stored is None:
            detail = f"{self.questionnaire}: {columns(given.answers)}"
        else:
            detail = f"{self.questionnaire}: {columns(stored.answers)} -> {columns(given.answers)}"
        if not self.dry_run:
            if stored is not None:
                self._remove(stored)
            enrolments = {self.email: self.enrolment_id}
            write_responses(
                self.session, self.cohort_id, self.questionnaire, [given], enrolments, self.now
            )
            action = "evaluation-record" if stored is None else "evaluation-replace"
            self._history(action, f"{detail}; {count} comment{'' if count == 1 else 's'} kept")
        outcome: Outcome = "recorded" if stored is None else "replaced"
        before = () if stored is None else stored.answers
        return EntryResult(
            self.cohort_id, self.questionnaire, self.email, outcome, given.answers, before, count
        )

    def undo(self, stored: _Stored) -> EntryResult:
        """Take the response back; the comments given with it stay, unlinked."""
        if not self.dry_run:
            self._remove(stored)
            detail = f"{self.questionnaire}: {columns(stored.answers)} taken back"
            self._history("evaluation-undo", detail + "; comments given with it stay, unlinked")
        return EntryResult(self.cohort_id, self.questionnaire, self.email, "undone", stored.answers)

    def _remove(self, stored: _Stored) -> None:
        self.session.execute(
            delete(EvaluationAnswer).where(EvaluationAnswer.response_id == stored.id)
        )
        self.session.execute(delete(EvaluationResponse).where(EvaluationResponse.id == stored.id))

    def _history(self, action: str, detail: str) -> None:
        person_id = self.session.scalar(
            select(Enrolment.person_id).where(Enrolment.id == self.enrolment_id)
        )
        note(
            session=self.session,
            at=self.now,
            by=self.by,
            action=action,
            detail=detail,
            cohort_id=self.cohort_id,
            enrolment_id=self.enrolment_id,
            person_id=person_id,
        )
        self.session.flush()
