"""Evaluation responses: imported from a file, checked first, written in one go; and read
back per cohort and questionnaire for the funder's report.

Importing again is safe. A named response already stored with the same numbers is
counted as already stored (its comments are not kept twice); with other numbers it is a
problem, as two named responses from one trainee are. Anonymous responses cannot be
told apart from one another (two people may answer alike), so each import keeps a digest
of its responses and a file whose responses were all imported before is refused when it
holds anonymous ones. What this cannot catch: a file imported again with rows added
would store its old anonymous rows twice; import each new batch of forms as a new file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.cohort.evaluation_file import (
    Answer,
    ResponseIn,
    check_people,
    digest,
    read_responses,
)
from journey.engine import local_date
from journey.errors import InputProblem, InvalidInput, UnknownCohort, UnknownQuestionnaire
from journey.models import (
    Cohort,
    Enrolment,
    EvaluationAnswer,
    EvaluationComment,
    EvaluationImport,
    EvaluationResponse,
    Person,
)
from journey.programme import Programme, Question, Questionnaire
from journey.services.history import note
from journey.services.loading import known_cohort_ids, load_cohort, load_cohorts


@dataclass(frozen=True)
class ImportResult:
    """What an import stored (or, dry run, would store)."""

    cohort_id: str
    questionnaire: str
    named: int
    anonymous: int
    comments: int
    already: int  # named responses stored before, with the same numbers

    @property
    def stored(self) -> int:
        return self.named + self.anonymous


def import_responses(
    *,
    session: Session,
    cohort_id: str,
    file: str,
    text: str,
    questionnaire_id: str | None,
    now: datetime,
    dry_run: bool = False,
    by: str | None = None,
) -> ImportResult:
    """Store the responses in ``text`` (read from ``file``) to one questionnaire of the
    cohort's programme (default: its first). Everything is checked before anything is
    written; every problem is raised at once in :class:`InvalidInput`."""
    loaded = load_cohort(session, cohort_id)
    questionnaire = find_questionnaire(loaded.programme, questionnaire_id)
    trainees = trainee_enrolments(session, cohort_id)
    problems: list[InputProblem] = []
    responses = read_responses(text, file, questionnaire, problems)
    already = check_people(
        responses,
        file,
        trainees=trainees,
        stored=_stored_named(session, cohort_id, questionnaire.id),
        what=f"a trainee of cohort {cohort_id!r}",
        problems=problems,
    )
    seal = digest(questionnaire.id, responses)
    if not problems and any(not r.email for r in responses):
        _refuse_seen(session, loaded.cohort, seal, file, problems)
    if problems:
        raise InvalidInput(sorted(problems, key=lambda p: p.row or 0))  # stable: row by row
    skipped = {r.row for r in already}
    new = [r for r in responses if r.row not in skipped]
    named = sum(1 for r in new if r.email)
    comments = sum(len(r.comments) for r in new)
    result = ImportResult(
        cohort_id, questionnaire.id, named, len(new) - named, comments, len(already)
    )
    if not dry_run:
        write_responses(session, cohort_id, questionnaire.id, new, trainees, now)
        _seal(session, cohort_id, questionnaire.id, seal, now)
        detail = f"{questionnaire.id}: {result.stored} responses, {comments} comments"
        note(
            session=session,
            at=now,
            by=by,
            action="evaluation-import",
            detail=detail,
            cohort_id=cohort_id,
        )
        session.flush()
    return result


def find_questionnaire(programme: Programme, questionnaire_id: str | None) -> Questionnaire:
    known = [q.id for q in programme.questionnaires]
    wanted = questionnaire_id or (known[0] if known else "")
    try:
        return programme.questionnaire(wanted)
    except KeyError:
        raise UnknownQuestionnaire(wanted or "(default)", known) from None


def trainee_enrolments(session: Session, cohort_id: str) -> dict[str, int]:
    """Email -> enrolment id, for the cohort's trainees (withdrawn ones too: they may
    have answered before they left)."""
    rows = session.execute(
        select(Person.email, Enrolment.id)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(Enrolment.cohort_id == cohort_id, Person.email.is_not(None))
    )
    return {email: enrolment_id for email, enrolment_id in rows if email}


def _stored_named(
    session: Session, cohort_id: str, questionnaire: str
) -> dict[str, tuple[Answer, ...]]:
    """Email -> numbers of each named response already stored for this questionnaire."""
    named = (
        select(EvaluationResponse.id, Person.email)
        .join(Enrolment, Enrolment.id == EvaluationResponse.enrolment_id)
        .join(Person, Person.id == Enrolment.person_id)
        .where(
            EvaluationResponse.cohort_id == cohort_id,
            EvaluationResponse.questionnaire == questionnaire,
        )
    )
    emails = {rid: email for rid, email in session.execute(named) if email}
    answers: dict[str, list[Answer]] = {email: [] for email in emails.values()}
    for a in session.scalars(
        select(EvaluationAnswer).where(EvaluationAnswer.response_id.in_(list(emails)))
    ):
        answers[emails[a.response_id]].append(Answer(a.item, a.value, a.before))
    return {email: tuple(found) for email, found in answers.items()}


def _refuse_seen(
    session: Session, cohort: Cohort, seal: str, file: str, problems: list[InputProblem]
) -> None:
    """A problem if these very responses were imported into the cohort before."""
    seen = session.scalar(
        select(EvaluationImport).where(
            EvaluationImport.cohort_id == cohort.id, EvaluationImport.digest == seal
        )
    )
    if seen is not None:
        day = local_date(seen.imported_at, cohort.timezone).isoformat()
        message = (
            f"these responses were imported into {cohort.id!r} on {day}; anonymous responses"
            " cannot be told apart from new ones, so they are not imported twice"
        )
        problems.append(InputProblem(file, None, "file", message))


def write_responses(
    session: Session,
    cohort_id: str,
    questionnaire: str,
    responses: Sequence[ResponseIn],
    enrolments: Mapping[str, int],
    now: datetime,
) -> None:
    """The responses and their numbers, then the comments on their own, sorted by text
    so that neither a column nor the order of ids leads back to a response."""
    rows = [
        EvaluationResponse(
            cohort_id=cohort_id,
            questionnaire=questionnaire,
            enrolment_id=enrolments[r.email] if r.email else None,
            received_at=now,
        )
        for r in responses
    ]
    session.add_all(rows)
    session.flush()
    session.add_all(
        EvaluationAnswer(response_id=row.id, item=a.item, value=a.value, before=a.before)
        for row, response in zip(rows, responses, strict=True)
        for a in response.answers
    )
    comments = sorted((text, item) for r in responses for item, text in r.comments)
    session.add_all(
        EvaluationComment(cohort_id=cohort_id, questionnaire=questionnaire, item=item, text=text)
        for text, item in comments
    )


def _seal(session: Session, cohort_id: str, questionnaire: str, seal: str, now: datetime) -> None:
    """Keep the digest of the import (once: a named-only file may be imported again)."""
    exists = session.scalar(
        select(EvaluationImport.id).where(
            EvaluationImport.cohort_id == cohort_id, EvaluationImport.digest == seal
        )
    )
    if exists is None:
        session.add(
            EvaluationImport(
                cohort_id=cohort_id, questionnaire=questionnaire, digest=seal, imported_at=now
            )
        )


@dataclass(frozen=True)
class ItemResults:
    """One item's answers, one entry per response that answered it (in the order the
    responses were stored; comments sorted by text, so their order tells nothing)."""

    question: Question
    scores: tuple[int, ...] = ()  # kind score
    pairs: tuple[tuple[int, int], ...] = ()  # kind before-after: (before, after) per response
    comments: tuple[str, ...] = ()  # kind comments


@dataclass(frozen=True)
class QuestionnaireResults:
    """A cohort's responses to one questionnaire: counts, and each item's answers."""

    cohort_id: str
    questionnaire: Questionnaire
    named: int
    anonymous: int
    items: tuple[ItemResults, ...]  # the questionnaire's items, in its order

    @property
    def responses(self) -> int:
        return self.named + self.anonymous


def evaluation_results(
    *,
    session: Session,
    cohort_ids: Sequence[str],
    programmes: Mapping[str, Programme] | None = None,
) -> dict[str, tuple[QuestionnaireResults, ...]]:
    """For each cohort, every questionnaire of its programme (in programme order, those
    with no responses too), with its answers: a handful of queries for any number of
    cohorts. Answers to items or questionnaires the programme no longer has are left
    out. Raises :class:`UnknownCohort` for an id that is no cohort. A caller that has
    loaded the cohorts passes their ``programmes`` (by cohort id), to spare loading again."""
    ids = list(cohort_ids)
    if programmes is None:
        programmes = {c.cohort.id: c.programme for c in load_cohorts(session, ids)}
    for cohort_id in ids:
        if cohort_id not in programmes:
            raise UnknownCohort(cohort_id, known=known_cohort_ids(session))
    counts = _counts(session, ids)
    numbers = _numbers(session, ids)
    texts = _texts(session, ids)

    def results(cohort_id: str, q: Questionnaire) -> QuestionnaireResults:
        named, anonymous = counts[(cohort_id, q.id)]
        items = tuple(
            _item(item, numbers[(cohort_id, q.id, item.id)], texts[(cohort_id, q.id, item.id)])
            for item in q.items
        )
        return QuestionnaireResults(cohort_id, q, named, anonymous, items)

    return {
        cohort_id: tuple(results(cohort_id, q) for q in programmes[cohort_id].questionnaires)
        for cohort_id in ids
    }


def _counts(session: Session, ids: list[str]) -> dict[tuple[str, str], list[int]]:
    """(cohort, questionnaire) -> [named, anonymous] responses."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for cohort_id, questionnaire, enrolment_id in session.execute(
        select(
            EvaluationResponse.cohort_id,
            EvaluationResponse.questionnaire,
            EvaluationResponse.enrolment_id,
        ).where(EvaluationResponse.cohort_id.in_(ids))
    ):
        counts[(cohort_id, questionnaire)][0 if enrolment_id is not None else 1] += 1
    return counts


def _numbers(session: Session, ids: list[str]) -> dict[tuple[str, str, str], list[Answer]]:
    """(cohort, questionnaire, item) -> its answers, in the order responses were stored."""
    numbers: dict[tuple[str, str, str], list[Answer]] = defaultdict(list)
    for cohort_id, questionnaire, item, value, before in session.execute(
        select(
            EvaluationResponse.cohort_id,
            EvaluationResponse.questionnaire,
            EvaluationAnswer.item,
            EvaluationAnswer.value,
            EvaluationAnswer.before,
        )
        .join(EvaluationAnswer, EvaluationAnswer.response_id == EvaluationResponse.id)
        .where(EvaluationResponse.cohort_id.in_(ids))
        .order_by(EvaluationAnswer.response_id)
    ):
        numbers[(cohort_id, questionnaire, item)].append(Answer(item, value, before))
    return numbers


def _texts(session: Session, ids: list[str]) -> dict[tuple[str, str, str], list[str]]:
    """(cohort, questionnaire, item) -> its comments."""
    texts: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for c in session.scalars(select(EvaluationComment).where(EvaluationComment.cohort_id.in_(ids))):
        texts[(c.cohort_id, c.questionnaire, c.item)].append(c.text)
    return texts


def _item(question: Question, answers: list[Answer], texts: list[str]) -> ItemResults:
    if question.kind == "comments":
        return ItemResults(question, comments=tuple(sorted(texts)))
    if question.kind == "score":
        return ItemResults(question, scores=tuple(a.value for a in answers))
    return ItemResults(
        question, pairs=tuple((a.before, a.value) for a in answers if a.before is not None)
    )
