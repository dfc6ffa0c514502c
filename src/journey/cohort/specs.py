"""Validated cohort input: what ``journey cohort import`` stores, all or nothing.

Produced by :mod:`journey.cohort.file` from a cohort YAML file and a roster CSV, consumed
by :mod:`journey.services.cohorts`. Times are timezone-aware, in the cohort's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from journey.errors import InputProblem
from journey.models.cohort import Place


@dataclass(frozen=True)
class Origin:
    """Where a value was read (file, row or line, field), so a check made later, against
    the database, can point at it as the file checks do."""

    file: str
    row: int | None
    field: str

    def problem(self, message: str) -> InputProblem:
        """A problem with the value read here."""
        return InputProblem(self.file, self.row, self.field, message)


@dataclass(frozen=True)
class PersonSpec:
    name: str
    email: str  # normalised: lower-cased, validated, ASCII
    origin: Origin | None = field(default=None, compare=False)  # where the email was given


@dataclass(frozen=True)
class SlotSpec:
    """One session: a training day, a learning-set session, the graduation."""

    starts_at: datetime  # aware, cohort time zone
    ends_at: datetime  # aware, after starts_at


@dataclass(frozen=True)
class InstitutionSpec:
    name: str
    member: bool


@dataclass(frozen=True)
class LearningSetSpec:
    name: str
    venue: str
    sessions: tuple[SlotSpec, ...]  # exactly as many as the programme's learning-set milestones
    facilitator: PersonSpec | None = None


@dataclass(frozen=True)
class TraineeSpec:
    row: int  # roster row number (header is row 1), for messages
    person: PersonSpec
    institution: str  # a name from CohortSpec.institutions
    place: Place
    follow_up: bool
    mentor_email: str | None  # an email from CohortSpec.mentors, or None
    learning_set: str | None  # a name from CohortSpec.learning_sets, or None


@dataclass(frozen=True)
class CohortSpec:
    id: str  # slug: lowercase letters, digits, dashes
    title: str
    timezone: str  # IANA name, e.g. Europe/London
    organiser: PersonSpec
    funder: str | None
    fee: Decimal  # per non-member place, in the alliance's currency
    training_venue: str
    training_days: tuple[SlotSpec, ...]
    institutions: tuple[InstitutionSpec, ...]
    mentors: tuple[PersonSpec, ...]
    learning_sets: tuple[LearningSetSpec, ...]
    graduation_venue: str | None
    graduation: SlotSpec | None
    programme: str  # "default" or the programme file's YAML text (resolved at import)
    programme_name: str  # "default" or the file path given, for display
    trainees: tuple[TraineeSpec, ...] = field(default=())
    source: str = ""  # the cohort file's path, for messages
    timezone_defaulted: bool = False  # the file gave none: the import says which it used
