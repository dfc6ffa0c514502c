"""What happened: completions, mentoring meetings (date only) and evaluations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
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


class Evaluation(Base):
    """A trainee's end-of-journey evaluation, for the funder's report (scores only)."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint("enrolment_id"),
        CheckConstraint("confidence_before BETWEEN 1 AND 5", name="before_range"),
        CheckConstraint("confidence_after BETWEEN 1 AND 5", name="after_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"))
    submitted_on: Mapped[date]
    confidence_before: Mapped[int]
    confidence_after: Mapped[int]
    led_action: Mapped[bool] = mapped_column(doc="Led or co-led an action in the campaign.")
