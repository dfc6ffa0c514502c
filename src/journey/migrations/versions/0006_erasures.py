"""erasures: a salted hash of each forgotten address, and the database's salt

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journey.models.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("salted_hash", sa.String(length=64), nullable=False),
        sa.Column("erased_at", journey.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasures")),
        sa.UniqueConstraint("salted_hash", name=op.f("uq_erasures_salted_hash")),
    )
    op.create_table(
        "erasure_salt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_erasure_salt_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_salt")),
    )


def downgrade() -> None:
    op.drop_table("erasure_salt")
    op.drop_table("erasures")
