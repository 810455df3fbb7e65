"""Import batches: ``import_batches`` (one row per enqueue: when, from where, how many) and
``import_jobs.batch_id`` (the batch that queued the job last), so a new batch no longer merges into the old rows.

SQLite cannot add a foreign key to an existing table: the column and its constraint go in through a batch
rebuild (``migrate`` runs it with foreign keys off and checks them before the commit). Existing jobs get no
batch (NULL). The downgrade drops the column, its index and the table.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
    )
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_import_jobs_batch_id_import_batches", "import_batches", ["batch_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_import_jobs_batch_id", ["batch_id"])


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_index("ix_import_jobs_batch_id")
        batch.drop_constraint("fk_import_jobs_batch_id_import_batches", type_="foreignkey")
        batch.drop_column("batch_id")
    op.drop_table("import_batches")
