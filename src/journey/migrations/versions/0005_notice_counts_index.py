"""an index that covers the funder's report's count of notices by cohort, status and kind

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notices_cohort_status_template",
        "notices",
        ["cohort_id", "status", "template", "digest_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_notices_cohort_status_template", table_name="notices")
