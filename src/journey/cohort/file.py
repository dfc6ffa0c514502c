"""A cohort's input files, read and validated into a :class:`~journey.cohort.specs.CohortSpec`.

``read_cohort`` reads the cohort YAML file (format in docs/DESIGN.md) and its roster (a CSV
file, or a ``trainees:`` list in the cohort file), checks everything, and raises
:class:`~journey.errors.InvalidInput` listing every problem as ``file:row: field: message``.
It writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from journey.cohort.reading import (
    YamlDoc,
    child,
    column_digits,
    column_length,
    read_text,
    same_name_problems,
)
from journey.cohort.roster import (
    CohortFacts,
    RosterRow,
    check_roster,
    csv_rows,
    inline_rows,
)
from journey.cohort.slots import (
    read_graduation,
    read_learning_sets,
    read_training,
    zone_problem,
)
from journey.cohort.specs import CohortSpec, InstitutionSpec, PersonSpec
from journey.engine import DEFAULT_TIMEZONE
from journey.errors import InputProblem, InvalidInput, ProgrammeError
from journey.models import Cohort, Enrolment, Institution
from journey.programme import Programme, load_programme, parse_programme, programme_path

__all__ = ["read_cohort"]

_FIELDS = (
    "id", "title", "timezone", "organiser", "funder", "fee", "training", "institutions",
    "mentors", "learning_sets", "graduation", "programme", "trainees",
)  # fmt: skip
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
# The longest text each field may hold: its columns' length in the models.
_ID, _TITLE = column_length(Cohort.id), column_length(Cohort.title)
_TIMEZONE, _PROGRAMME = column_length(Cohort.timezone), column_length(Cohort.programme_name)
_FUNDER = column_length(Cohort.funder, Enrolment.funder)
_INSTITUTION = column_length(Institution.name)
_FEE_DIGITS, _FEE_DECIMALS = column_digits(Cohort.fee)


def read_cohort(cohort_path: Path, roster_path: Path | None = None) -> CohortSpec:
    """The cohort described by ``cohort_path`` and its roster, fully validated.

    The roster is ``roster_path`` (CSV) when given, else the cohort file's ``trainees:``
    list, else empty. Raises :class:`InvalidInput` with every problem found, sorted by file
    and row. Example: ``read_cohort(Path("cohort.yaml"), Path("roster.csv"))``.
    """
    problems: list[InputProblem] = []
    text = read_text(cohort_path, problems)
    roster_text = read_text(roster_path, problems) if roster_path is not None else None
    doc = YamlDoc(str(cohort_path), problems)
    spec = _cohort(doc, cohort_path) if text is not None and doc.load(text) else None
    if spec is not None:
        rows = _roster_rows(doc, roster_path, roster_text)
        spec = replace(spec, trainees=check_roster(rows, _facts(spec), problems))
        problems += same_name_problems(_people(spec))
    if problems or spec is None:
        raise InvalidInput(sorted(problems, key=lambda p: (p.file, p.row or 0)))
    return spec


def _roster_rows(
    doc: YamlDoc, roster_path: Path | None, roster_text: str | None
) -> list[RosterRow]:
    """The CSV roster's rows if one is given (none if it is unreadable), else ``trainees:``."""
    if roster_path is None:
        return inline_rows(doc, doc.data.get("trainees"))
    if roster_text is None:
        return []
    return csv_rows(roster_text, str(roster_path), doc.problems)


def _facts(spec: CohortSpec) -> CohortFacts:
    """What the roster is checked against."""
    sets = tuple(s.name for s in spec.learning_sets)
    facilitators = {s.name: s.facilitator.email for s in spec.learning_sets if s.facilitator}
    return CohortFacts(
        spec.institutions, spec.mentors, sets, spec.funder, facilitators=facilitators
    )


def _people(spec: CohortSpec) -> Iterator[PersonSpec]:
    """Everyone the files name, in the order they are read (a trainee listed twice, which
    is a problem already, once)."""
    yield spec.organiser
    yield from spec.mentors
    yield from (s.facilitator for s in spec.learning_sets if s.facilitator)
    yield from {t.person.email: t.person for t in reversed(spec.trainees)}.values()


def _cohort(doc: YamlDoc, path: Path) -> CohortSpec | None:
    """Every field of the cohort file (empty values where a problem was recorded)."""
    data = doc.mapping(doc.data, "", _FIELDS)
    if data is None:
        return None
    cohort_id, title = _cohort_id(doc, data), doc.text(data, "", "title", _TITLE)
    zone_name = _timezone(doc, data)
    zone = ZoneInfo(zone_name)
    organiser = doc.person(data.get("organiser"), "organiser")
    funder, fee = doc.text(data, "", "funder", _FUNDER, required=False) or None, _fee(doc, data)
    training_venue, training_days = read_training(doc, data, zone)
    ends = max((day.ends_at for day in training_days), default=None)
    institutions, mentors = _institutions(doc, data), _mentors(doc, data)
    programme_text, programme_name, programme = _programme(doc, data, path.parent)
    needed = programme.learning_set_sessions if programme is not None else None
    learning_sets = read_learning_sets(doc, data, zone, needed, ends)
    graduation_venue, graduation = read_graduation(doc, data, zone, ends)
    return CohortSpec(
        id=cohort_id,
        title=title,
        timezone=zone_name,
        organiser=organiser,
        funder=funder,
        fee=fee,
        training_venue=training_venue,
        training_days=training_days,
        institutions=institutions,
        mentors=mentors,
        learning_sets=learning_sets,
        graduation_venue=graduation_venue,
        graduation=graduation,
        programme=programme_text,
        programme_name=programme_name,
        source=str(path),
        timezone_defaulted=not data.get("timezone"),
    )


def _cohort_id(doc: YamlDoc, data: dict[str, Any]) -> str:
    """The cohort's id, a slug."""
    value = doc.text(data, "", "id", _ID)
    if value and not _SLUG.match(value):
        message = "use 2 to 63 lowercase letters, digits and dashes, not starting with a dash"
        doc.add("id", f"{value!r} is not a valid id: {message}")
    return value


def _timezone(doc: YamlDoc, data: dict[str, Any]) -> str:
    """The cohort's IANA time zone (the default, after a problem, if it is unknown)."""
    value = data.get("timezone") or DEFAULT_TIMEZONE  # absent or blank: the default
    if isinstance(value, str) and len(value) > _TIMEZONE:
        doc.add("timezone", f"too long: {len(value)} characters (at most {_TIMEZONE})")
        return DEFAULT_TIMEZONE
    problem = zone_problem(value)
    if problem:
        doc.add("timezone", problem)
        return DEFAULT_TIMEZONE
    return str(value)


def _fee(doc: YamlDoc, data: dict[str, Any]) -> Decimal:
    """The fee per fee-paying place (0 when not given): a number the fee columns can hold,
    0 or more, below 10 to the power of their whole digits, in whole pence at most."""
    value = data.get("fee", 0)
    fee = Decimal(-1)
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with suppress(InvalidOperation):
            fee = Decimal(str(value).strip())
    limit = 10 ** (_FEE_DIGITS - _FEE_DECIMALS)
    if not fee.is_finite() or fee < 0:
        doc.add("fee", f"expected a number, 0 or more, got {value!r}")
    elif fee >= limit:
        doc.add("fee", f"expected less than {limit}, got {value!r}")
    elif -int(fee.normalize().as_tuple().exponent) > _FEE_DECIMALS:
        doc.add("fee", f"expected at most {_FEE_DECIMALS} decimal places, got {value!r}")
    else:
        return fee
    return Decimal(0)


def _programme(
    doc: YamlDoc, data: dict[str, Any], folder: Path
) -> tuple[str, str, Programme | None]:
    """(stored text or "default", name as given, the parsed programme if it is valid).
    A programme file is read only from the cohort file's folder (see ``programme_path``)."""
    value = data.get("programme", "default")
    if not isinstance(value, str) or not value.strip():
        doc.add("programme", "expected default or the path of a programme file")
        return "default", "default", None
    name = value.strip()
    if name == "default":
        return "default", "default", load_programme("default")
    if len(name) > _PROGRAMME:
        doc.add("programme", f"too long: {len(name)} characters (at most {_PROGRAMME})")
        return "default", name, None
    try:
        path = programme_path(name, folder)
    except ProgrammeError as exc:
        doc.add("programme", str(exc))
        return "default", name, None
    text = read_text(path, doc.problems)
    if text is None:
        return "default", name, None
    try:
        return text, name, parse_programme(text, source=str(path))
    except ProgrammeError as exc:
        doc.add("programme", str(exc))
        return text, name, None


def _institutions(doc: YamlDoc, data: dict[str, Any]) -> tuple[InstitutionSpec, ...]:
    """The alliance's institutions in this cohort; names unique."""
    value = data.get("institutions")
    found: list[InstitutionSpec] = []
    seen: dict[str, str] = {}
    items = doc.items(value, "institutions", required=True)
    if isinstance(value, list) and not items:
        doc.add("institutions", "give at least one institution")
    for index, item in enumerate(items):
        path = child("institutions", index)
        fields = doc.mapping(item, path, ("name", "member"))
        if fields is not None:
            name = doc.text(fields, path, "name", _INSTITUTION)
            member = doc.flag(fields, path, "member")
            if doc.unique(child(path, "name"), name, seen):
                found.append(InstitutionSpec(name, member))
    return tuple(found)


def _mentors(doc: YamlDoc, data: dict[str, Any]) -> tuple[PersonSpec, ...]:
    """The Leadership Group mentors; emails unique."""
    found: list[PersonSpec] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(doc.items(data.get("mentors"), "mentors")):
        path = child("mentors", index)
        mentor = doc.person(item, path)
        if doc.unique(child(path, "email"), mentor.email, seen):
            found.append(mentor)
    return tuple(found)
