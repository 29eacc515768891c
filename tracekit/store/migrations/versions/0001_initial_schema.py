"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("start_utc", sa.DateTime(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("start_local", sa.DateTime(), nullable=True),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("date_only", sa.Boolean(), nullable=False),
        sa.Column("sport", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("moving_s", sa.Float(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_local_date"), ["local_date"], unique=False)

    op.create_table(
        "gear",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("read", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_created_at"), ["created_at"], unique=False
        )

    op.create_table(
        "provider_status",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("last_operation", sa.String(length=64), nullable=True),
        sa.Column("last_operation_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("rate_limited_until", sa.DateTime(), nullable=True),
        sa.Column("rate_limit", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("provider"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "sync_state",
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("pulled_from", sa.DateTime(), nullable=True),
        sa.Column("pulled_to", sa.DateTime(), nullable=True),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("provider"),
    )
    op.create_table(
        "provider_gear",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_gear_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("gear_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["gear_id"], ["gear.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "provider_gear_id", name="uq_provider_gear"),
    )
    op.create_table(
        "provider_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_id", sa.String(length=128), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("link_origin", sa.String(length=32), nullable=False),
        sa.Column("link_score", sa.Float(), nullable=True),
        sa.Column("link_explanation", sa.JSON(), nullable=True),
        sa.Column("start_utc", sa.DateTime(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("start_local", sa.DateTime(), nullable=True),
        sa.Column("date_only", sa.Boolean(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column("moving_s", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("sport", sa.String(length=32), nullable=False),
        sa.Column("raw_type", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("gear_id", sa.String(length=128), nullable=True),
        sa.Column("gear_name", sa.String(length=255), nullable=True),
        sa.Column("device", sa.String(length=128), nullable=True),
        sa.Column("avg_hr", sa.Float(), nullable=True),
        sa.Column("max_hr", sa.Float(), nullable=True),
        sa.Column("ascent_m", sa.Float(), nullable=True),
        sa.Column("calories", sa.Float(), nullable=True),
        sa.Column("start_lat", sa.Float(), nullable=True),
        sa.Column("start_lon", sa.Float(), nullable=True),
        sa.Column("track", sa.JSON(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("checksum", sa.String(length=64), nullable=True),
        sa.Column("file_path", sa.String(length=1024), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["activity_id"], ["activity.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider", "provider_id", name="uq_provider_record_provider_id"),
    )
    with op.batch_alter_table("provider_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_record_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_provider_record_checksum"), ["checksum"], unique=False)
        batch_op.create_index("ix_provider_record_start_utc", ["start_utc"], unique=False)

    op.create_table(
        "journal_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=True),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("undoes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["provider_record.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["undoes_id"], ["journal_entry.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entry_change_id"), ["change_id"], unique=False)

    op.create_table(
        "match_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("other_record_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["other_record_id"], ["provider_record.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["record_id"], ["provider_record.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "other_record_id", name="uq_match_decision"),
    )
    with op.batch_alter_table("match_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_decision_other_record_id"), ["other_record_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_match_decision_record_id"), ["record_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("match_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_decision_record_id"))
        batch_op.drop_index(batch_op.f("ix_match_decision_other_record_id"))

    op.drop_table("match_decision")
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entry_change_id"))

    op.drop_table("journal_entry")
    with op.batch_alter_table("provider_record", schema=None) as batch_op:
        batch_op.drop_index("ix_provider_record_start_utc")
        batch_op.drop_index(batch_op.f("ix_provider_record_checksum"))
        batch_op.drop_index(batch_op.f("ix_provider_record_activity_id"))

    op.drop_table("provider_record")
    op.drop_table("provider_gear")
    op.drop_table("sync_state")
    op.drop_table("setting")
    op.drop_table("provider_status")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_created_at"))

    op.drop_table("notification")
    op.drop_table("gear")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_local_date"))

    op.drop_table("activity")
