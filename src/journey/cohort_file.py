"""A cohort's input files, read and validated into a :class:`~journey.specs.CohortSpec`.

``read_cohort`` reads the cohort YAML file (format in DESIGN.md) and its roster (a CSV
file, or a ``trainees:`` list in the cohort file), checks everything, and raises
:class:`~journey.errors.InvalidInput` listing every problem as ``file:row: field: message``.
It writes nothing. ``places_report`` summarises who pays for which place.
"""

from __future__ import annotations

import re
from collections import Counter
from contextlib import suppress
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from journey.cohort_input import YamlDoc, child, read_text
from journey.cohort_roster import (
    CohortFacts,
    RosterRow,
    check_roster,
    csv_rows,
    inline_rows,
)
from journey.cohort_slots import (
    DEFAULT_TIMEZONE,
    SlotError,
    order_problems,
    parse_slot,
    zone_problem,
)
from journey.errors import InputProblem, InvalidInput, ProgrammeError
from journey.programme import Programme, load_programme, parse_programme
from journey.specs import CohortSpec, InstitutionSpec, LearningSetSpec, PersonSpec, Place, SlotSpec

__all__ = ["places_report", "read_cohort"]

_FIELDS = (
    "id", "title", "timezone", "organiser", "funder", "fee", "training", "institutions",
    "mentors", "learning_sets", "graduation", "programme", "trainees",
)  # fmt: skip
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


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
    return CohortFacts(spec.institutions, spec.mentors, sets, spec.funder)


def _cohort(doc: YamlDoc, path: Path) -> CohortSpec | None:
    """Every field of the cohort file (empty values where a problem was recorded)."""
    data = doc.mapping(doc.data, "", _FIELDS)
    if data is None:
        return None
    cohort_id, title = _cohort_id(doc, data), doc.text(data, "", "title")
    zone_name = _timezone(doc, data)
    zone = ZoneInfo(zone_name)
    organiser = doc.person(data.get("organiser"), "organiser")
    funder, fee = doc.text(data, "", "funder", required=False) or None, _fee(doc, data)
    training_venue, training_days = _training(doc, data, zone)
    institutions, mentors = _institutions(doc, data), _mentors(doc, data)
    programme_text, programme_name, programme = _programme(doc, data, path.parent)
    needed = programme.learning_set_sessions if programme is not None else None
    learning_sets = _learning_sets(doc, data, zone, needed)
    graduation_venue, graduation = _graduation(doc, data, zone)
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
    )


def _cohort_id(doc: YamlDoc, data: dict[str, Any]) -> str:
    """The cohort's id, a slug."""
    value = doc.text(data, "", "id")
    if value and not _SLUG.match(value):
        message = "use 2 to 63 lowercase letters, digits and dashes, not starting with a dash"
        doc.add("id", f"{value!r} is not a valid id: {message}")
    return value


def _timezone(doc: YamlDoc, data: dict[str, Any]) -> str:
    """The cohort's IANA time zone (the default, after a problem, if it is unknown)."""
    value = data.get("timezone") or DEFAULT_TIMEZONE  # absent or blank: the default
    problem = zone_problem(value)
    if problem:
        doc.add("timezone", problem)
        return DEFAULT_TIMEZONE
    return str(value)


def _fee(doc: YamlDoc, data: dict[str, Any]) -> Decimal:
    """The fee per fee-paying place: a number, 0 or more (0 when not given)."""
    value = data.get("fee", 0)
    fee = Decimal(-1)
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        with suppress(InvalidOperation):
            fee = Decimal(str(value).strip())
    if not fee.is_finite() or fee < 0:
        doc.add("fee", f"expected a number, 0 or more, got {value!r}")
        return Decimal(0)
    return fee


def _programme(
    doc: YamlDoc, data: dict[str, Any], folder: Path
) -> tuple[str, str, Programme | None]:
    """(stored text or "default", name as given, the parsed programme if it is valid)."""
    value = data.get("programme", "default")
    if not isinstance(value, str) or not value.strip():
        doc.add("programme", "expected default or the path of a programme file")
        return "default", "default", None
    name = value.strip()
    if name == "default":
        return "default", "default", load_programme("default")
    path = folder / name
    if not path.is_file():
        doc.add("programme", f"no programme file at {path}")
        return "default", name, None
    text = read_text(path, doc.problems)
    if text is None:
        return "default", name, None
    try:
        return text, name, parse_programme(text, source=str(path))
    except ProgrammeError as exc:
        doc.add("programme", str(exc))
        return text, name, None


def _slot(doc: YamlDoc, value: Any, path: str, zone: ZoneInfo) -> SlotSpec | None:
    """One session, or None after recording why it cannot be read."""
    try:
        return parse_slot(value, zone)
    except SlotError as exc:
        doc.add(path, str(exc))
        return None


def _slots(doc: YamlDoc, value: Any, path: str, zone: ZoneInfo) -> tuple[SlotSpec, ...]:
    """A required, non-empty list of sessions in increasing order."""
    items = doc.items(value, path, required=True)
    if isinstance(value, list) and not items:
        doc.add(path, "give at least one session")
    slots = [_slot(doc, item, child(path, i), zone) for i, item in enumerate(items)]
    for index, message in order_problems(slots):
        doc.add(child(path, index), message)
    return tuple(slot for slot in slots if slot is not None)


def _training(
    doc: YamlDoc, data: dict[str, Any], zone: ZoneInfo
) -> tuple[str, tuple[SlotSpec, ...]]:
    """The Two-Day Training's venue and days."""
    fields = doc.mapping(data.get("training"), "training", ("venue", "days"))
    if fields is None:
        return "", ()
    venue = doc.text(fields, "training", "venue")
    return venue, _slots(doc, fields.get("days"), "training.days", zone)


def _graduation(
    doc: YamlDoc, data: dict[str, Any], zone: ZoneInfo
) -> tuple[str | None, SlotSpec | None]:
    """The Graduation event's venue and slot, if the cohort file gives one."""
    if data.get("graduation") is None:
        return None, None
    fields = doc.mapping(data["graduation"], "graduation", ("venue", "at"))
    if fields is None:
        return None, None
    venue = doc.text(fields, "graduation", "venue")
    if fields.get("at") is None:
        doc.add("graduation.at", "required")
        return venue, None
    return venue, _slot(doc, fields["at"], "graduation.at", zone)


def _unique(doc: YamlDoc, path: str, value: str, seen: dict[str, str]) -> bool:
    """Whether ``value`` (compared case-insensitively) is new; a problem if it is not."""
    key = value.casefold()
    if key in seen:
        doc.add(path, f"{value!r} is listed twice (first on line {doc.line(seen[key])})")
        return False
    if value:
        seen[key] = path
    return True


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
            name = doc.text(fields, path, "name")
            member = doc.flag(fields, path, "member")
            if _unique(doc, child(path, "name"), name, seen):
                found.append(InstitutionSpec(name, member))
    return tuple(found)


def _mentors(doc: YamlDoc, data: dict[str, Any]) -> tuple[PersonSpec, ...]:
    """The Leadership Group mentors; emails unique."""
    found: list[PersonSpec] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(doc.items(data.get("mentors"), "mentors")):
        path = child("mentors", index)
        mentor = doc.person(item, path)
        if _unique(doc, child(path, "email"), mentor.email, seen):
            found.append(mentor)
    return tuple(found)


def _learning_sets(
    doc: YamlDoc, data: dict[str, Any], zone: ZoneInfo, needed: int | None
) -> tuple[LearningSetSpec, ...]:
    """The Action Learning Sets; names unique, each with the programme's session count."""
    found: list[LearningSetSpec] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(doc.items(data.get("learning_sets"), "learning_sets")):
        path = child("learning_sets", index)
        fields = doc.mapping(item, path, ("name", "venue", "sessions", "facilitator"))
        if fields is None:
            continue
        name, venue = doc.text(fields, path, "name"), doc.text(fields, path, "venue")
        sessions = _slots(doc, fields.get("sessions"), child(path, "sessions"), zone)
        given = fields.get("sessions")
        if needed is not None and isinstance(given, list) and given and len(given) != needed:
            message = f"{len(given)} sessions given; the programme needs exactly {needed}"
            doc.add(child(path, "sessions"), message)
        facilitator = None
        if fields.get("facilitator") is not None:
            facilitator = doc.person(fields["facilitator"], child(path, "facilitator"))
        if _unique(doc, child(path, "name"), name, seen):
            found.append(LearningSetSpec(name, venue, sessions, facilitator))
    return tuple(found)


def places_report(spec: CohortSpec) -> list[str]:
    """Human lines on places: free places per member institution, fees, subsidies.

    A member institution that sends trainees uses its free place (the roster check
    enforces it); one with no trainee yet gets a line saying its free place is unused.
    """
    counts = Counter((t.institution, t.place) for t in spec.trainees)
    lines: list[str] = []
    for institution in (i for i in spec.institutions if i.member):
        free = counts[institution.name, Place.MEMBER]
        if free == 0:
            lines.append(
                f"{institution.name}: member institution with no trainee yet"
                " — its free place is unused"
            )
        else:
            lines.append(f"{institution.name}: {_plural(free, 'free place')} used")
    paying = sum(n for (_, place), n in counts.items() if place is Place.FEE)
    total_fees = _money(spec.fee * paying)
    lines.append(f"Fee-paying places: {paying} at {_money(spec.fee)} each, {total_fees} in all")
    subsidised = sum(n for (_, place), n in counts.items() if place is Place.SUBSIDISED)
    funder = f", funded by {spec.funder}" if spec.funder else ""
    lines.append(f"Subsidised places: {subsidised}{funder}")
    return lines


def _plural(count: int, noun: str) -> str:
    """``1 trainee``, ``2 trainees``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _money(amount: Decimal) -> str:
    """``60`` for whole amounts, ``60.50`` otherwise."""
    if amount == amount.to_integral_value():
        return f"{amount:.0f}"
    return f"{amount:.2f}"
