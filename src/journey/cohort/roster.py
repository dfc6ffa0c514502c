"""The roster: one row per trainee, from a CSV file or the cohort file's ``trainees:`` list.

Rows are read into :class:`RosterRow` (cells as trimmed text, and where each came from),
then checked against the cohort's institutions, mentors, learning sets and funder.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from journey.cohort.reading import (
    NAME_LENGTH,
    YamlDoc,
    child,
    csv_records,
    did_you_mean,
    normal_email,
    text_problem,
)
from journey.cohort.specs import InstitutionSpec, Origin, PersonSpec, TraineeSpec
from journey.errors import InputProblem
from journey.models import Place

COLUMNS = ("name", "email", "institution", "place", "follow_up", "mentor", "learning_set")
_YES, _NO = {"yes", "y", "true"}, {"no", "n", "false"}


@dataclass(frozen=True)
class RosterRow:
    """One trainee's cells, and where to point when one of them is wrong."""

    file: str
    row: int  # CSV row (header is 1), or the line of the item in the cohort file
    cells: dict[str, str]
    prefix: str = ""  # "trainees[3]." for rows written in the cohort file
    lines: Mapping[str, int] = field(default_factory=dict)  # a cell's own line, if known

    def where(self, column: str) -> Origin:
        """Where one cell of this row was read."""
        return Origin(self.file, self.lines.get(column, self.row), self.prefix + column)

    def problem(self, column: str, message: str) -> InputProblem:
        """A problem with one cell of this row."""
        return self.where(column).problem(message)

    @property
    def unit(self) -> str:
        """What ``row`` counts, for messages."""
        return "line" if self.prefix else "row"


@dataclass(frozen=True)
class CohortFacts:
    """What each roster row is checked against."""

    institutions: tuple[InstitutionSpec, ...]
    mentors: tuple[PersonSpec, ...]
    learning_sets: tuple[str, ...]
    funder: str | None
    free_place_used: frozenset[str] = frozenset()  # member institutions whose place is taken
    facilitators: Mapping[str, str] = field(default_factory=dict)  # set name -> their email


def csv_rows(text: str, file: str, problems: list[InputProblem]) -> list[RosterRow]:
    """The data rows of a roster CSV; [] (with problems) if its header is wrong."""
    _, records = csv_records(text, file, lambda record: _header(record, file, problems), problems)
    return [RosterRow(file, row, cells) for row, cells in records]


def _header(record: list[str], file: str, problems: list[InputProblem]) -> list[str] | None:
    """The header's column names, or None after recording what is wrong with them."""
    names = [cell.strip().lower() for cell in record]
    expected = ",".join(COLUMNS)
    if not any(names):
        problems.append(
            InputProblem(file, 1, "header", f"missing; the first row must be {expected}")
        )
        return None
    found = len(problems)
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(InputProblem(file, 1, "header", f"column {name!r} appears twice"))
    for name in names:
        if name not in COLUMNS:
            hint = did_you_mean(name, COLUMNS) or f"; the columns are {expected}"
            problems.append(InputProblem(file, 1, "header", f"unknown column {name!r}{hint}"))
    for name in COLUMNS:
        if name not in names:
            problems.append(InputProblem(file, 1, "header", f"missing column {name!r}"))
    return names if len(problems) == found else None


def inline_rows(doc: YamlDoc, value: Any) -> list[RosterRow]:
    """The rows of a ``trainees:`` list in the cohort file."""
    rows: list[RosterRow] = []
    for index, item in enumerate(doc.items(value, "trainees")):
        path = child("trainees", index)
        fields = doc.mapping(item, path, COLUMNS)
        if fields is None:
            continue
        cells = {column: _cell(doc, path, column, fields.get(column)) for column in COLUMNS}
        lines = {column: doc.line(child(path, column)) for column in COLUMNS if column in fields}
        rows.append(RosterRow(doc.file, doc.line(path), cells, path + ".", lines))
    return [row for row in rows if any(row.cells.values())]


def _cell(doc: YamlDoc, path: str, column: str, value: Any) -> str:
    """A YAML value as roster cell text (YAML reads a bare ``yes`` as true)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or isinstance(value, int | float | str):
        return "" if value is None else str(value).strip()
    doc.add(child(path, column), "expected text")
    return ""


def check_roster(
    rows: list[RosterRow], facts: CohortFacts, problems: list[InputProblem]
) -> tuple[TraineeSpec, ...]:
    """Every row as a trainee; problems for bad cells and for people listed twice."""
    trainees: list[TraineeSpec] = []
    first_row: dict[str, int] = {}
    for row in rows:
        trainee = _trainee(row, facts, problems)
        email = trainee.person.email
        if email and email in first_row:
            message = f"{email!r} is already on {row.unit} {first_row[email]}"
            problems.append(row.problem("email", message))
        elif email:
            first_row[email] = row.row
        trainees.append(trainee)
    _free_places(rows, trainees, facts, problems)
    return tuple(trainees)


def _free_places(
    rows: list[RosterRow],
    trainees: list[TraineeSpec],
    facts: CohortFacts,
    problems: list[InputProblem],
) -> None:
    """Each member institution that sends trainees uses its free place: one is ``member``."""
    members = {i.name for i in facts.institutions if i.member}
    valid = {p.value for p in Place}
    first: dict[str, RosterRow] = {}
    free: set[str] = set()
    for row, trainee in zip(rows, trainees, strict=True):
        if row.cells["place"].lower() not in valid:
            free.add(trainee.institution)  # already reported; do not pile on
        elif trainee.institution in members:
            first.setdefault(trainee.institution, row)
            if trainee.place is Place.MEMBER:
                free.add(trainee.institution)
    for name, row in first.items():
        if name not in free and name not in facts.free_place_used:
            message = (
                f"{name!r} is a member institution, so one of its trainees takes its free"
                " place: give one of them place member"
            )
            problems.append(row.problem("place", message))


def _trainee(row: RosterRow, facts: CohortFacts, problems: list[InputProblem]) -> TraineeSpec:
    """One row checked cell by cell, then the rules that tie cells together."""
    name = row.cells["name"]
    problem = text_problem(name, NAME_LENGTH)
    if problem:
        problems.append(row.problem("name", problem))
        name = ""
    email, problem = normal_email(row.cells["email"])
    if problem:
        problems.append(row.problem("email", problem))
    institution = _institution(row, facts, problems)
    place = _place(row, institution, facts, problems)
    follow_up = _follow_up(row, facts, problems)
    mentor = _mentor(row, facts, problems)
    learning_set = _learning_set(row, facts, problems)
    _not_their_own(row, email, mentor, learning_set, facts, problems)
    return TraineeSpec(
        row.row,
        PersonSpec(name, email, row.where("email")),
        institution.name if institution else "",
        place,
        follow_up,
        mentor,
        learning_set,
    )


def _institution(
    row: RosterRow, facts: CohortFacts, problems: list[InputProblem]
) -> InstitutionSpec | None:
    """The cohort institution the row names (matched case-insensitively)."""
    given = row.cells["institution"]
    for institution in facts.institutions:
        if institution.name.casefold() == given.casefold():
            return institution
    message = f"unknown institution {given!r}" if given else "required"
    problems.append(row.problem("institution", message))
    return None


def _place(
    row: RosterRow,
    institution: InstitutionSpec | None,
    facts: CohortFacts,
    problems: list[InputProblem],
) -> Place:
    """The place type, and whether the institution and funder allow it."""
    given = row.cells["place"].lower()
    if given not in {p.value for p in Place}:
        message = f"unknown place type {row.cells['place']!r} (use member, fee or subsidised)"
        problems.append(row.problem("place", message if given else "required"))
        return Place.FEE
    place = Place(given)
    if place is Place.MEMBER and institution is not None and not institution.member:
        message = (
            f"member place but {institution.name!r} is not a member institution;"
            " use fee or subsidised"
        )
        problems.append(row.problem("place", message))
    if place is Place.SUBSIDISED and not facts.funder:
        problems.append(row.problem("place", "subsidised place needs a funder in the cohort file"))
    return place


def _follow_up(row: RosterRow, facts: CohortFacts, problems: list[InputProblem]) -> bool:
    """Whether the trainee opted into follow-up; and the mentor and set that go with it."""
    given = row.cells["follow_up"].lower()
    if given not in _YES | _NO:
        message = f"expected yes or no, got {row.cells['follow_up']!r}" if given else "required"
        problems.append(row.problem("follow_up", message))
        return False
    follow_up = given in _YES
    for column, label, needed in (
        ("mentor", "mentor", bool(facts.mentors)),
        ("learning_set", "learning set", bool(facts.learning_sets)),
    ):
        if follow_up and needed and not row.cells[column]:
            problems.append(row.problem(column, f"follow_up is yes but no {label} is given"))
        if not follow_up and row.cells[column]:
            problems.append(row.problem(column, f"follow_up is no but a {label} is given"))
    return follow_up


def _not_their_own(
    row: RosterRow,
    email: str,
    mentor: str | None,
    learning_set: str | None,
    facts: CohortFacts,
    problems: list[InputProblem],
) -> None:
    """A trainee is supported by someone else: not mentored or facilitated by themselves."""
    if email and mentor == email:
        problems.append(row.problem("mentor", "a trainee cannot be their own mentor"))
    if email and learning_set and facts.facilitators.get(learning_set) == email:
        message = f"a trainee cannot be in the set they facilitate ({learning_set!r})"
        problems.append(row.problem("learning_set", message))


def _mentor(row: RosterRow, facts: CohortFacts, problems: list[InputProblem]) -> str | None:
    """The email of the cohort mentor the row names, by email or by exact name."""
    given = row.cells["mentor"]
    if not given:
        return None
    by_email = [m.email for m in facts.mentors if m.email == given.lower()]
    by_name = [m.email for m in facts.mentors if m.name == given]
    if len(by_name) > 1 and not by_email:
        problems.append(row.problem("mentor", f"two mentors are called {given!r}; give the email"))
        return None
    found = by_email or by_name
    if not found:
        problems.append(row.problem("mentor", f"unknown mentor {given!r}"))
        return None
    return found[0]


def _learning_set(row: RosterRow, facts: CohortFacts, problems: list[InputProblem]) -> str | None:
    """The cohort learning set the row names (matched case-insensitively)."""
    given = row.cells["learning_set"]
    if not given:
        return None
    for name in facts.learning_sets:
        if name.casefold() == given.casefold():
            return name
    problems.append(row.problem("learning_set", f"unknown learning set {given!r}"))
    return None
