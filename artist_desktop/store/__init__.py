"""The store layer: SQLAlchemy models, the database handle with its migrations, the library's repository
functions and the import-job ledger.

Import from here (``from artist_desktop.store import Database, jobs, repository``); nothing in this package
knows about HTTP, Redis or Qt.
"""

from artist_desktop.store import jobs, repository
from artist_desktop.store.database import Database, DatabaseOpenError, alembic_config, normalise_url, open_database
from artist_desktop.store.models import (
    Artist,
    ArtistMetric,
    ArtistPlatformId,
    ArtistTrack,
    Base,
    ImportJob,
    MediaAsset,
    MetricRefreshResult,
    MetricRefreshRun,
    RefreshRunStatus,
    Track,
)
from artist_desktop.store.repository import PlatformArtist, PlatformIdConflict

__all__ = [
    "Artist",
    "ArtistMetric",
    "ArtistPlatformId",
    "ArtistTrack",
    "Base",
    "Database",
    "DatabaseOpenError",
    "ImportJob",
    "MediaAsset",
    "MetricRefreshResult",
    "MetricRefreshRun",
    "PlatformArtist",
    "PlatformIdConflict",
    "RefreshRunStatus",
    "Track",
    "alembic_config",
    "jobs",
    "normalise_url",
    "open_database",
    "repository",
]
