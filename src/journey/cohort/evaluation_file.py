"""A questionnaire's responses from a CSV file, as typed from paper or exported from a form.

The header is an optional ``email`` column and the questionnaire's answer columns (all of
them or some: a form may not have asked everything). A row with no email is anonymous.
Every problem is collected as ``file:row: field: message``, as the roster's are, so the
whole file can be mended in one go; this module reads and checks, and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from journey.cohort.reading import csv_records, did_you_mean, normal_email
from journey.errors import InputProblem
from journey.programme import SCORE_RANGE, Questionnaire

COMMENT_LENGTH = 2000
_WHOLE = re.compile(r"^[0-9]+$")
_DECIMAL = re.compile(r"^[0-9]*[.,][0-9]+$")


@dataclass(frozen=True)
class Answer:
    """One item's numbers: a score (``value``), or a rating after with the one before."""

    item: str
    value: int
    before: int | None = None


@dataclass(frozen=True)
class ResponseIn:
    """One row of the file: whose (``email``, empty when anonymous) and what it says."""

    row: int
    email: str
    answers: tuple[Answer, ...]
    comments: tuple[tuple[str, str], ...]  # (item id, text)


def read_responses(
    text: str, file: str, questionnaire: Questionnaire, problems: list[InputProblem]
) -> list[ResponseIn]:
    """The file's responses; [] (with problems) if its header is wrong. Blank rows are
    skipped; everything wrong with a row is added to ``problems``."""
    header, records = csv_records(
        text, file, lambda record: _header(record, file, questionnaire, problems), problems
    )
    responses = [read_response(file, row, given, questionnaire, problems) for row, given in records]
    if header is not None and not responses:
        problems.append(InputProblem(file, None, "file", "no responses below the header"))
    return responses


def _header(
    record: list[str], file: str, questionnaire: Questionnaire, problems: list[InputProblem]
) -> list[str] | None:
    """The header's column names, or None after recording what is wrong with them."""
    names = [cell.strip().lower() for cell in record]
    allowed = ("email", *questionnaire.columns)
    listed = f"the columns are {', '.join(allowed)}"
    if not any(names):
        problems.append(InputProblem(file, 1, "header", f"missing; {listed}"))
        return None
    found = len(problems)
    for message in name_problems(names, allowed):
        problems.append(InputProblem(file, 1, "header", message))
    for question in questionnaire.items:
        present = [c for c in question.columns if c in names]
        if len(present) == 1 and question.kind == "before-after":
            (missing,) = set(question.columns) - set(present)
            message = f"column {present[0]!r} without {missing!r}: give both, or neither"
            problems.append(InputProblem(file, 1, "header", message))
    if len(problems) == found and not set(names) & set(questionnaire.columns):
        problems.append(InputProblem(file, 1, "header", f"no answer columns; {listed}"))
    return names if len(problems) == found else None


def name_problems(names: Sequence[str], allowed: Sequence[str]) -> list[str]:
    """What is wrong with the answer columns named (in a header, or on the command line):
    one named twice, one the questionnaire does not have (with the nearest, or the list)."""
    messages = [
        f"column {n!r} appears twice" for n in sorted({n for n in names if names.count(n) > 1})
    ]
    for name in names:
        if name not in allowed:
            hint = did_you_mean(name, allowed) or f"; the columns are {', '.join(allowed)}"
            messages.append(f"unknown column {name!r}{hint}")
    return messages


def read_response(
    file: str,
    row: int,
    cells: Mapping[str, str],
    questionnaire: Questionnaire,
    problems: list[InputProblem],
) -> ResponseIn:
    """One row checked cell by cell (a row of a file, or the answers of one command)."""
    email = ""
    if cells.get("email"):
        email, problem = normal_email(cells["email"])
        if problem:
            problems.append(InputProblem(file, row, "email", problem))
    answers: list[Answer] = []
    comments: list[tuple[str, str]] = []
    for question in questionnaire.items:
        if question.kind == "comments":
            comment = _comment(file, row, question.id, cells.get(question.id, ""), problems)
            if comment:
                comments.append((question.id, comment))
            continue
        numbers = [_number(file, row, c, cells.get(c, ""), problems) for c in question.columns]
        answer = _answer(file, row, question.id, question.columns, numbers, problems)
        if answer is not None:
            answers.append(answer)
    if not answers and not comments and not _any_answer_given(cells, questionnaire):
        problems.append(InputProblem(file, row, "row", "no answers given"))
    return ResponseIn(row, email, tuple(answers), tuple(comments))


def _any_answer_given(cells: Mapping[str, str], questionnaire: Questionnaire) -> bool:
    """Whether any answer cell holds something (perhaps something already reported)."""
    return any(cells.get(column) for column in questionnaire.columns)


def _number(
    file: str, row: int, column: str, cell: str, problems: list[InputProblem]
) -> int | None:
    """A score out of 10, or None when blank or wrong (and then a problem says which)."""
    if not cell:
        return None
    if _WHOLE.match(cell) and int(cell) in SCORE_RANGE:
        return int(cell)
    if _WHOLE.match(cell):
        message = f"{int(cell)} is outside 0 to 10"
    elif _DECIMAL.match(cell):
        message = f"{cell!r} is not a whole number; give a whole number from 0 to 10"
    else:
        message = f"{cell!r} is not a number; give a whole number from 0 to 10"
    problems.append(InputProblem(file, row, column, message))
    return None


def _answer(
    file: str,
    row: int,
    item: str,
    columns: Sequence[str],
    numbers: Sequence[int | None],
    problems: list[InputProblem],
) -> Answer | None:
    """A score, or a before/after pair that has both halves."""
    if len(numbers) == 1:
        return None if numbers[0] is None else Answer(item, numbers[0])
    before, after = numbers
    if before is not None and after is not None:
        return Answer(item, after, before)
    if (before is None) != (after is None):
        given, missing = (columns[0], columns[1]) if after is None else (columns[1], columns[0])
        message = f"missing: {given!r} is given, so give {missing!r} too (or neither)"
        problems.append(InputProblem(file, row, missing, message))
    return None


def _comment(
    file: str, row: int, column: str, cell: str, problems: list[InputProblem]
) -> str | None:
    """Free text as written (line breaks as ``\n``), or None when blank or too long."""
    cell = cell.replace("\r\n", "\n").replace("\r", "\n")
    if len(cell) > COMMENT_LENGTH:
        message = f"too long: {len(cell)} characters (at most {COMMENT_LENGTH})"
        problems.append(InputProblem(file, row, column, message))
        return None
    return cell or None


def check_people(
    responses: Sequence[ResponseIn],
    file: str,
    *,
    trainees: Mapping[str, int],
    stored: Mapping[str, tuple[Answer, ...]],
    what: str,
    problems: list[InputProblem],
) -> list[ResponseIn]:
    """The named responses already stored with the same numbers (so skipped), after
    adding problems for an email that is no trainee (``trainees``: email -> enrolment id,
    ``what`` names the cohort in that message), one answering twice in the file, or one
    whose stored response (``stored``, by email) says something else."""
    first_row: dict[str, int] = {}
    already: list[ResponseIn] = []
    for response in responses:
        email = response.email
        if not email:
            continue
        if email not in trainees:
            problems.append(InputProblem(file, response.row, "email", f"{email!r} is not {what}"))
        elif email in first_row:
            message = f"{email!r} already answered on row {first_row[email]}"
            problems.append(InputProblem(file, response.row, "email", message))
        elif email in stored and sorted_answers(stored[email]) != sorted_answers(response.answers):
            message = f"{email!r} already has a different response stored"
            problems.append(InputProblem(file, response.row, "email", message))
        elif email in stored:
            already.append(response)
        first_row.setdefault(email, response.row)
    return already


def sorted_answers(answers: Sequence[Answer]) -> list[Answer]:
    """Answers in item order, for comparing two responses."""
    return sorted(answers, key=lambda a: a.item)


def digest(questionnaire: str, responses: Sequence[ResponseIn]) -> str:
    """A SHA-256 of the responses as read (not of the bytes): the same answers saved again
    with other line endings, quoting or row order give the same digest."""
    canonical = sorted(
        json.dumps(
            [r.email, [asdict(a) for a in sorted_answers(r.answers)], list(r.comments)],
            ensure_ascii=False,
        )
        for r in responses
    )
    data = json.dumps([questionnaire, canonical], ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()
