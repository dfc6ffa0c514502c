"""What happened: completions, mentoring meetings (date only) and evaluation responses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class Completion(Base):
    """A milestone (or one session of it, e.g. training day 2) done by a trainee."""

    __tablename__ = "completions"
    __table_args__ = (UniqueConstraint("enrolment_id", "milestone", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    milestone: Mapped[str] = mapped_column(String(64))
    occurrence: Mapped[int] = mapped_column(default=1, doc="Session number; 1 for undated.")
    completed_on: Mapped[date]
    recorded_at: Mapped[datetime]


class MentoringMeeting(Base):
    """That a mentoring meeting took place, and when. Its content is confidential: no column."""

    __tablename__ = "mentoring_meetings"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "number"),
        CheckConstraint("number BETWEEN 1 AND 12", name="number_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(doc="mentoring-N")
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentors.id"))
    met_on: Mapped[date]
    recorded_at: Mapped[datetime]


class EvaluationResponse(Base):
    """One person's answers to one questionnaire of the programme.

    Anonymous responses have no enrolment. A trainee answers each questionnaire once: the
    unique constraint allows many anonymous responses (NULLs are distinct in SQL), one
    named. Comments are not here but in :class:`EvaluationComment`, with no way back.
    """

    __tablename__ = "evaluation_responses"
    __table_args__ = (UniqueConstraint("cohort_id", "questionnaire", "enrolment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(64), doc="A questionnaire id.")
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE"), doc="None: anonymous."
    )
    received_at: Mapped[datetime]


class EvaluationAnswer(Base):
    """One item of a response, as numbers out of 10: a score, or a self-rating after
    (``value``) with the one before (``before``). An item left blank has no row."""

    __tablename__ = "evaluation_answers"
    __table_args__ = (
        UniqueConstraint("response_id", "item"),
        CheckConstraint("value BETWEEN 0 AND 10", name="value_range"),
        CheckConstraint("before BETWEEN 0 AND 10", name="before_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("evaluation_responses.id", ondelete="CASCADE")
    )
    item: Mapped[str] = mapped_column(String(64), doc="The item id in the questionnaire.")
    value: Mapped[int] = mapped_column(doc="The score, or the rating after.")
    before: Mapped[int | None] = mapped_column(doc="The rating before (before-after items).")


class EvaluationComment(Base):
    """A free comment, kept apart from names: no response, person or time is stored with
    it, and an import writes its comments sorted by text, so neither a column nor the
    order of ids leads back to who wrote it."""

    __tablename__ = "evaluation_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    questionnaire: Mapped[str] = mapped_column(String(64))
    item: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class EvaluationImport(Base):
    """A responses file imported into a cohort, known by a digest of its responses:
    anonymous responses cannot be told apart, so the same ones are not taken twice."""

    __tablename__ = "evaluation_imports"
    __table_args__ = (UniqueConstraint("cohort_id", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    questionnaire: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), doc="SHA-256 of the responses, hex.")
    imported_at: Mapped[datetime]
