"""evaluation responses: answers to the programme's questionnaires, comments kept apart
from names, and the files imported; the unused ``evaluations`` table goes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journey.models.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.String(length=64), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_evaluation_comments_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_comments")),
    )
    with op.batch_alter_table("evaluation_comments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_comments_cohort_id"), ["cohort_id"], unique=False
        )

    op.create_table(
        "evaluation_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.String(length=64), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("imported_at", journey.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_evaluation_imports_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_imports")),
        sa.UniqueConstraint(
            "cohort_id", "digest", name=op.f("uq_evaluation_imports_cohort_id_digest")
        ),
    )
    op.create_table(
        "evaluation_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.String(length=64), nullable=False),
        sa.Column("questionnaire", sa.String(length=64), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=True),
        sa.Column("received_at", journey.models.base.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_evaluation_responses_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_evaluation_responses_enrolment_id_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_responses")),
        sa.UniqueConstraint(
            "cohort_id",
            "questionnaire",
            "enrolment_id",
            name=op.f("uq_evaluation_responses_cohort_id_questionnaire_enrolment_id"),
        ),
    )
    with op.batch_alter_table("evaluation_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evaluation_responses_cohort_id"), ["cohort_id"], unique=False
        )

    op.create_table(
        "evaluation_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("before", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "before BETWEEN 0 AND 10", name=op.f("ck_evaluation_answers_before_range")
        ),
        sa.CheckConstraint(
            "value BETWEEN 0 AND 10", name=op.f("ck_evaluation_answers_value_range")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["evaluation_responses.id"],
            name=op.f("fk_evaluation_answers_response_id_evaluation_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_answers")),
        sa.UniqueConstraint(
            "response_id", "item", name=op.f("uq_evaluation_answers_response_id_item")
        ),
    )
    op.drop_table("evaluations")


def downgrade() -> None:
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("confidence_before", sa.Integer(), nullable=False),
        sa.Column("confidence_after", sa.Integer(), nullable=False),
        sa.Column("led_action", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "confidence_after BETWEEN 1 AND 5", name=op.f("ck_evaluations_after_range")
        ),
        sa.CheckConstraint(
            "confidence_before BETWEEN 1 AND 5", name=op.f("ck_evaluations_before_range")
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["enrolments.id"],
            name=op.f("fk_evaluations_enrolment_id_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_evaluations_enrolment_id")),
    )
    op.drop_table("evaluation_answers")
    with op.batch_alter_table("evaluation_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_responses_cohort_id"))

    op.drop_table("evaluation_responses")
    op.drop_table("evaluation_imports")
    with op.batch_alter_table("evaluation_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluation_comments_cohort_id"))

    op.drop_table("evaluation_comments")
