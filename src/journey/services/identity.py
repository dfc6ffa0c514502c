"""One address is one person.

People are matched by email across every cohort and role (organiser, mentor, facilitator,
trainee). A file that gives a known address under another name is refused, naming both
names and where the address is used, unless the organiser asks for the rename: a name goes
into every email to that person and about them, so a silent rename (a second cohort's
file renaming the first cohort's organiser, and with them every signature) is a mistake
more often than a wish.

An address that was forgotten (``journey person forget``) is refused for good: only a
salted hash of it is kept (:func:`address_hash`), enough to know it again, not to read it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from journey.cohort.specs import PersonSpec
from journey.engine import DEFAULT_TIMEZONE, local_date
from journey.errors import InputProblem, InvalidInput
from journey.models import (
    Cohort,
    Enrolment,
    Erasure,
    ErasureSalt,
    LearningSet,
    Mentor,
    Person,
)


@dataclass(frozen=True)
class Renamed:
    """A known person given a new name by an import with ``rename``."""

    email: str
    old: str
    new: str


RENAME_ON_IMPORT = "import with --rename"


def people_by_email(
    session: Session,
    named: Sequence[PersonSpec],
    *,
    rename: bool = False,
    how: str = RENAME_ON_IMPORT,
) -> tuple[dict[str, Person], list[Renamed]]:
    """The people named, by email, and who was renamed: those known found in one query, the
    rest added, then one flush (one query per person made a launch of 500 spend a second).

    A known person named otherwise raises :class:`InvalidInput` (see :func:`name_problems`)
    before anything is written, unless ``rename``: then they take the new name everywhere.
    ``how`` says how to ask for the rename.
    """
    known = _known(session, named)
    if rename:
        problems = erased_problems(session, named)
    else:
        problems = name_problems(session, named, known, how=how)
    if problems:
        raise InvalidInput(problems)
    renamed: list[Renamed] = []
    for p in named:
        person = known.get(p.email)
        if person is None:
            person = known[p.email] = Person(name=p.name, email=p.email)
            session.add(person)
        elif person.name != p.name:
            renamed.append(Renamed(p.email, person.name, p.name))
            person.name = p.name
    session.flush()
    return known, renamed


def _known(session: Session, named: Iterable[PersonSpec]) -> dict[str, Person]:
    """The stored people with the addresses named, by address."""
    emails = {p.email for p in named}
    found = session.scalars(select(Person).where(Person.email.in_(emails)))
    return {p.email: p for p in found if p.email is not None}


def name_problems(
    session: Session,
    named: Sequence[PersonSpec],
    known: dict[str, Person] | None = None,
    *,
    how: str = RENAME_ON_IMPORT,
) -> list[InputProblem]:
    """A problem, where the address was given, for each known address named otherwise:
    ``'tim@example.org' is Tim Norwood (mentor in mk-2026), not 'Timothy Norwood'; …``
    (``how`` says how to ask for the rename); and for each address that was erased
    (see :func:`erased_problems`)."""
    known = _known(session, named) if known is None else known
    problems = erased_problems(session, named)
    clashes: dict[str, tuple[PersonSpec, Person]] = {}
    for p in named:
        person = known.get(p.email)
        if person is not None and person.name != p.name:
            clashes.setdefault(p.email, (p, person))
    roles = _roles(session, [person.id for _, person in clashes.values()])
    for p, person in clashes.values():
        used = f" ({roles[person.id]})" if person.id in roles else ""
        message = (
            f"{p.email!r} is {person.name}{used}, not {p.name!r}; use the same name, or {how}"
            " to rename them"
        )
        origin = p.origin
        problems.append(
            origin.problem(message) if origin else InputProblem("input", None, "email", message)
        )
    return sorted(problems, key=lambda problem: (problem.file, problem.row or 0))


def erased_problems(session: Session, named: Sequence[PersonSpec]) -> list[InputProblem]:
    """A problem, where the address was given, for each address that was erased:
    ``'aisha@example.org' was erased on 2026-11-30; it cannot be imported again``."""
    salt = session.scalar(select(ErasureSalt.salt))
    if salt is None:
        return []  # nobody was ever erased here
    by_hash = {_hash(salt, p.email): p for p in named}
    found = session.execute(
        select(Erasure.salted_hash, Erasure.erased_at).where(Erasure.salted_hash.in_(by_hash))
    )
    erased = dict(found.all())
    problems = []
    for digest, p in by_hash.items():
        if digest in erased:
            day = local_date(erased[digest], DEFAULT_TIMEZONE).isoformat()
            message = f"{p.email!r} was erased on {day}; it cannot be imported again"
            origin = p.origin
            problems.append(
                origin.problem(message) if origin else InputProblem("input", None, "email", message)
            )
    return sorted(problems, key=lambda problem: (problem.file, problem.row or 0))


def address_hash(session: Session, email: str, *, create: bool = False) -> str | None:
    """The salted hash of an address (lower-cased) with this database's salt; the salt is
    made when first needed if ``create``, else None when there is none yet."""
    salt = session.scalar(select(ErasureSalt.salt))
    if salt is None:
        if not create:
            return None
        salt = secrets.token_hex(32)
        session.add(ErasureSalt(id=1, salt=salt))
        session.flush()
    return _hash(salt, email)


def _hash(salt: str, email: str) -> str:
    return hmac.new(bytes.fromhex(salt), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def _roles(session: Session, person_ids: list[int]) -> dict[int, str]:
    """Where each person is used: ``organiser of mk-2026, mentor in mk-2026 and mk-2027``."""
    if not person_ids:
        return {}
    columns = (
        ("organiser of", Cohort.organiser_id, Cohort.id),
        ("mentor in", Mentor.person_id, Mentor.cohort_id),
        ("facilitator in", LearningSet.facilitator_id, LearningSet.cohort_id),
        ("trainee in", Enrolment.person_id, Enrolment.cohort_id),
    )
    found: dict[int, dict[str, set[str]]] = {}
    for label, person, cohort in columns:
        for person_id, cohort_id in session.execute(
            select(person, cohort).where(person.in_(person_ids))
        ):
            if person_id is not None:
                found.setdefault(person_id, {}).setdefault(label, set()).add(cohort_id)
    return {
        person_id: ", ".join(
            f"{label} {' and '.join(sorted(cohorts))}" for label, cohorts in labels.items()
        )
        for person_id, labels in found.items()
    }
