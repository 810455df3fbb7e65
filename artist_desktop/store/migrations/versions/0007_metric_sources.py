"""Metric sources: a refresh result holds any source's figure (``fans`` -> ``value``, ``previous_fans`` ->
``previous_value``) and says when the service does not know the artist (``not_found``, apart from a failure); a run
row says why a source was skipped or failed (``reason``) and whether the daily schedule started it (``scheduled``: a
collection starts one run per source; ``scheduled_runs.refresh_run_id`` links only one).

Existing Deezer results keep their numbers under the new names (a rename, not a copy through Python). The
downgrade renames them back and drops ``not_found``, ``reason`` and ``scheduled``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metric_refresh_results") as batch:
        batch.alter_column("fans", new_column_name="value", existing_type=sa.BigInteger(), existing_nullable=True)
        batch.alter_column(
            "previous_fans", new_column_name="previous_value", existing_type=sa.BigInteger(), existing_nullable=True
        )
        batch.add_column(sa.Column("not_found", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("metric_refresh_runs") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("scheduled", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch rebuild would drop the runs table, and with it (ON DELETE
    # CASCADE) every result of every run.
    op.drop_column("metric_refresh_runs", "scheduled")
    op.drop_column("metric_refresh_runs", "reason")
    with op.batch_alter_table("metric_refresh_results") as batch:
        batch.drop_column("not_found")
        batch.alter_column(
            "previous_value", new_column_name="previous_fans", existing_type=sa.BigInteger(), existing_nullable=True
        )
        batch.alter_column("value", new_column_name="fans", existing_type=sa.BigInteger(), existing_nullable=True)
