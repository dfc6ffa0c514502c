"""A line of history for each change an organiser makes: what, when, and by whom."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class HistoryEntry(Base):
    """One change: a withdrawal, a reinstatement, an opt-out, a corrected or undone record.

    ``detail`` says what changed in words ("listening: 2026-11-02 -> 2026-11-05"); people are
    referred to by id, so erasing a person leaves the history true and anonymous.
    """

    __tablename__ = "history"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    by: Mapped[str] = mapped_column(String(100), doc="The OS user, or --by.")
    action: Mapped[str] = mapped_column(String(40))
    cohort_id: Mapped[str | None] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
