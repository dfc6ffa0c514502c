"""The notice outbox: one row per notice, unique by its deterministic key."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base, string_enum


class NoticeStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to be sent
    CLAIMED = "claimed"  # a worker holds it until lease_until
    SENT = "sent"
    FAILED = "failed"  # permanent refusal (5xx); last_error has the reply
    CANCELLED = "cancelled"  # stale at send time: done, withdrawn, opted out, or moved
    SKIPPED = "skipped"  # no longer useful (an outage), or superseded by a later reminder
    HELD = "held"  # about a trainee, to a mentor, facilitator or organiser: waits for a digest


class RecipientRole(enum.StrEnum):
    """Who a notice is to (a programme rule's ``to``). A StrEnum equals its string, so
    templates keep testing ``recipient_role == "organiser"``."""

    TRAINEE = "trainee"
    ORGANISER = "organiser"
    MENTOR = "mentor"  # about a trainee: held for the mentor's daily digest
    FACILITATOR = "facilitator"  # the learning set's facilitator; held likewise


class Notice(Base):
    """A notice to send. ``key`` = cohort/trainee/milestone/rule/occurrence: never twice."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_status_due_at", "status", "due_at"),
        # the funder's report counts notices by cohort, status and kind (covering)
        Index("ix_notices_cohort_status_template", "cohort_id", "status", "template", "digest_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    cohort_id: Mapped[str] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="CASCADE")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), doc="The recipient.")
    recipient_role: Mapped[RecipientRole] = mapped_column(
        string_enum(RecipientRole, "recipient_role"),
        doc="Who the notice is to, as the programme rule's ``to`` names them.",
    )
    template: Mapped[str] = mapped_column(
        String(64), doc="The template's name, e.g. welcome, reminder, digest, session-updated."
    )
    milestone: Mapped[str | None] = mapped_column(
        String(64),
        doc="The milestone's id; none for a digest, a launch notice or news of a trainee.",
    )
    rule: Mapped[str | None] = mapped_column(
        String(64),
        doc="The programme's notice rule id, or ``{template}-{sequence}>trainee`` for a "
        "changed or cancelled session's notice; none where no rule applies.",
    )
    occurrence: Mapped[str | None] = mapped_column(
        String(32),
        doc="Which time of the milestone: its local date (YYYY-MM-DD) for a reminder, "
        "``seq{n}`` (the session's SEQUENCE) for a changed or cancelled session's notice, "
        "or nothing (welcome, launch notices, digests, news of a trainee).",
    )
    attach_ics: Mapped[bool] = mapped_column(default=False)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("cohort_events.id", ondelete="CASCADE"),
        doc="For a changed or cancelled session's notice: the session.",
    )
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("notices.id", ondelete="SET NULL"),
        index=True,
        doc="For a held notice: the daily digest that told it.",
    )
    due_at: Mapped[datetime]
    useful_until: Mapped[datetime]
    status: Mapped[NoticeStatus] = mapped_column(
        string_enum(NoticeStatus, "notice_status"),
        default=NoticeStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class RuleAdoption(Base):
    """When a cohort first saw a notice rule: a rule added late never reaches back in time."""

    __tablename__ = "rule_adoptions"

    cohort_id: Mapped[str] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    rule_key: Mapped[str] = mapped_column(String(200), primary_key=True, doc="milestone/rule")
    first_seen_at: Mapped[datetime]
