"""dismissed changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dismissed_change",
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("dismissed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("change_id"),
    )
    with op.batch_alter_table("dismissed_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dismissed_change_activity_id"), ["activity_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dismissed_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dismissed_change_activity_id"))
    op.drop_table("dismissed_change")
