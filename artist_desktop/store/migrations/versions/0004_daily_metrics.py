"""One figure per metric per UTC day: ``artist_metrics`` gets a ``day`` column, unique with artist, platform and
metric, and its timestamp ``date`` becomes ``observed_at`` (when the figure was read); an index on (platform,
metric, day) finds each metric's newest day at once.

Existing rows: each gets the UTC day of its timestamp; where one (artist, platform, metric) has several rows
on one day, the latest (by timestamp, then by id) is kept and the others are deleted. On SQLite the batch
operation rebuilds ``artist_metrics`` (nothing references it). The downgrade renames ``observed_at`` back to
``date``, unique as before, and drops ``day``: every row survives it (one per day is also one per instant).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_UNIQUE = "uq_artist_metrics_artist_id_platform_metric_type_date"
_NEW_UNIQUE = "uq_artist_metrics_artist_id_platform_metric_type_day"
_NEWEST_DAY_INDEX = "ix_artist_metrics_platform_metric_type_day"

#: The UTC day of the stored timestamp. SQLite keeps it as naive UTC text ("2026-11-01 10:00:00.000000"),
#: whose first ten characters are the day as SQLAlchemy's Date type stores it.
_DAY_OF = {
    "sqlite": "substr(date, 1, 10)",
    "postgresql": "CAST(date AT TIME ZONE 'UTC' AS DATE)",
}

#: Every row but the latest of its metric and day (latest timestamp, then highest id), in one sorted pass.
_OUTDATED = """
DELETE FROM artist_metrics WHERE id IN (
    SELECT id FROM (
        SELECT id, row_number() OVER (
            PARTITION BY artist_id, platform, metric_type, day ORDER BY date DESC, id DESC
        ) AS recency
        FROM artist_metrics
    ) AS ranked
    WHERE recency > 1
)
"""


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("artist_metrics") as batch:
        batch.add_column(sa.Column("day", sa.Date(), nullable=True))
    op.execute(f"UPDATE artist_metrics SET day = {_DAY_OF[dialect]}")
    op.execute(_OUTDATED)
    with op.batch_alter_table("artist_metrics") as batch:
        batch.drop_constraint(_OLD_UNIQUE, type_="unique")
        batch.alter_column("day", existing_type=sa.Date(), nullable=False)
        batch.alter_column("date", new_column_name="observed_at", existing_type=sa.DateTime(timezone=True))
        batch.create_unique_constraint(_NEW_UNIQUE, ["artist_id", "platform", "metric_type", "day"])
        batch.create_index(_NEWEST_DAY_INDEX, ["platform", "metric_type", "day"])


def downgrade() -> None:
    with op.batch_alter_table("artist_metrics") as batch:
        batch.drop_index(_NEWEST_DAY_INDEX)
        batch.drop_constraint(_NEW_UNIQUE, type_="unique")
        batch.alter_column("observed_at", new_column_name="date", existing_type=sa.DateTime(timezone=True))
        batch.drop_column("day")
        batch.create_unique_constraint(_OLD_UNIQUE, ["artist_id", "platform", "metric_type", "date"])
