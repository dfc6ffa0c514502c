"""What is kept of a forgotten person's address: a salted hash, so that a roster naming
them again can be refused without the address itself being held."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from journey.models.base import Base


class Erasure(Base):
    """One forgotten address: its salted hash (HMAC-SHA-256, hex) and when it was erased."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    salted_hash: Mapped[str] = mapped_column(String(64), unique=True)
    erased_at: Mapped[datetime]


class ErasureSalt(Base):
    """The database's own random salt for :class:`Erasure` hashes: one row, made at the
    first erasure. Kept apart so that every row of ``erasures`` is an erasure."""

    __tablename__ = "erasure_salt"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    salt: Mapped[str] = mapped_column(String(64), doc="32 random bytes, hex.")
