"""Spotify Development Mode: the picked artist object on import jobs, Deezer top tracks, service pauses
and remembered capabilities.

Existing rows keep their meaning: every stored track is a Spotify track (``spotify_id`` set), and jobs
queued before this revision have no stored artist object (METADATA fetches it, as before).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("spotify_artist", sa.JSON(), nullable=True))
    with op.batch_alter_table("tracks") as batch:
        batch.alter_column("spotify_id", existing_type=sa.String(length=64), nullable=True)
        batch.add_column(sa.Column("deezer_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("deezer_rank", sa.Integer(), nullable=True))
        batch.create_unique_constraint(batch.f("uq_tracks_deezer_id"), ["deezer_id"])
    op.create_table(
        "service_pauses",
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("resume_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_service_pauses")),
    )
    op.create_table(
        "service_capabilities",
        sa.Column("account", sa.String(length=256), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account", name=op.f("pk_service_capabilities")),
    )


def downgrade() -> None:
    op.drop_table("service_capabilities")
    op.drop_table("service_pauses")
    op.execute("DELETE FROM artist_tracks WHERE track_id IN (SELECT id FROM tracks WHERE spotify_id IS NULL)")
    op.execute("DELETE FROM tracks WHERE spotify_id IS NULL")
    with op.batch_alter_table("tracks") as batch:
        batch.drop_constraint("uq_tracks_deezer_id", type_="unique")
        batch.drop_column("deezer_rank")
        batch.drop_column("deezer_id")
        batch.alter_column("spotify_id", existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("spotify_artist")
