"""Who takes part: institutions, people, cohorts, their sessions, mentors and enrolments."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from journey.models.base import Base, string_enum


class Place(enum.StrEnum):
    """How a trainee's place is paid for."""

    MEMBER = "member"  # a member institution's free place
    FEE = "fee"  # fee-paying (non-member institutions)
    SUBSIDISED = "subsidised"  # paid by the funder


class EnrolmentStatus(enum.StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class EventKind(enum.StrEnum):
    TRAINING = "training"
    LEARNING_SET = "learning-set"
    GRADUATION = "graduation"


class Institution(Base):
    """A church, mosque, school, residents' group or charity; members get a free place."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    member: Mapped[bool]


class Person(Base):
    """Anyone the alliance writes to. Erasing keeps the row (for counts) without its data."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    opted_out_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]


class Cohort(Base):
    """One year's Two-Day Training and the nine months that follow it."""

    __tablename__ = "cohorts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    organiser_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    funder: Mapped[str | None] = mapped_column(String(200))
    fee: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    training_venue: Mapped[str] = mapped_column(String(200))
    graduation_venue: Mapped[str | None] = mapped_column(String(200))
    programme_name: Mapped[str] = mapped_column(String(300))
    programme: Mapped[str] = mapped_column(Text, doc='"default" or the programme YAML text.')
    imported_at: Mapped[datetime]
    launched_at: Mapped[datetime | None]

    organiser: Mapped[Person] = relationship(lazy="raise")


class LearningSet(Base):
    """An Action Learning Set: a small group that meets three times with a facilitator."""

    __tablename__ = "learning_sets"
    __table_args__ = (UniqueConstraint("cohort_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    venue: Mapped[str] = mapped_column(String(200))
    facilitator_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))


class CohortEvent(Base):
    """A dated session: a training day, a learning-set session, the graduation."""

    __tablename__ = "cohort_events"
    __table_args__ = (UniqueConstraint("cohort_id", "kind", "learning_set_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[EventKind] = mapped_column(string_enum(EventKind, "event_kind"))
    learning_set_id: Mapped[int | None] = mapped_column(ForeignKey("learning_sets.id"))
    number: Mapped[int] = mapped_column(doc="1-based, within its kind (and set).")
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    uid: Mapped[str] = mapped_column(String(200), unique=True, doc="Stable iCalendar UID.")
    sequence: Mapped[int] = mapped_column(default=0, doc="iCalendar SEQUENCE; +1 per move.")
    cancelled: Mapped[bool] = mapped_column(default=False)


class Mentor(Base):
    """A Leadership Group member who mentors trainees of a cohort."""

    __tablename__ = "mentors"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))


class Enrolment(Base):
    """A trainee's place in a cohort, how it is paid for, and their follow-up choices."""

    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("cohort_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"))
    place: Mapped[Place] = mapped_column(string_enum(Place, "place"))
    funder: Mapped[str | None] = mapped_column(String(200), doc="Who pays a subsidised place.")
    fee: Mapped[Decimal] = mapped_column(Numeric(10, 2), doc="Amount due for this place.")
    follow_up: Mapped[bool]
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentors.id"))
    learning_set_id: Mapped[int | None] = mapped_column(ForeignKey("learning_sets.id"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        string_enum(EnrolmentStatus, "enrolment_status"), default=EnrolmentStatus.ACTIVE
    )
    withdrawn_at: Mapped[datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(String(500))
    active_from: Mapped[datetime | None] = mapped_column(
        doc="Notices count from this moment: a late join or a reinstatement (None: the launch)."
    )

    person: Mapped[Person] = relationship(lazy="raise")
    institution: Mapped[Institution] = relationship(lazy="raise")
