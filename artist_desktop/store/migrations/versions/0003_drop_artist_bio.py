"""Drop ``artists.bio``: no source ever filled it (every row holds NULL), so nothing is lost.

On SQLite the batch operation rebuilds ``artists``; :meth:`Database.migrate` runs migrations with foreign
keys off there, so the rebuild leaves the rows that reference artists (metrics, ids, tracks) untouched.
The downgrade adds the column back, empty, as it always was.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("artists") as batch:
        batch.drop_column("bio")


def downgrade() -> None:
    with op.batch_alter_table("artists") as batch:
        batch.add_column(sa.Column("bio", sa.Text(), nullable=True))
