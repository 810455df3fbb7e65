"""The daily schedule and alerts: ``scheduled_runs`` (one row per local day the schedule collected, whichever
process ran it) and ``metric_alerts`` (unusual daily changes, one per artist, platform, metric and UTC day).

Two new tables: nothing existing changes, so SQLite needs no batch rebuild. The downgrade drops them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("holder", sa.String(length=512), nullable=False),
        sa.Column("refresh_run_id", sa.Integer(), nullable=True),
        sa.Column("new_alerts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["refresh_run_id"],
            ["metric_refresh_runs.id"],
            name="fk_scheduled_runs_refresh_run_id_metric_refresh_runs",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_scheduled_runs"),
        sa.UniqueConstraint("day", name="uq_scheduled_runs_day"),
    )
    op.create_table(
        "metric_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artist_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("metric_type", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("change", sa.Double(), nullable=False),
        sa.Column("change_percent", sa.Double(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("dismissed", sa.Boolean(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["artist_id"], ["artists.id"], name="fk_metric_alerts_artist_id_artists", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_metric_alerts"),
        sa.UniqueConstraint(
            "artist_id", "platform", "metric_type", "day", name="uq_metric_alerts_artist_id_platform_metric_type_day"
        ),
    )
    op.create_index("ix_metric_alerts_day", "metric_alerts", ["day"])


def downgrade() -> None:
    op.drop_index("ix_metric_alerts_day", table_name="metric_alerts")
    op.drop_table("metric_alerts")
    op.drop_table("scheduled_runs")
