"""The store layer: SQLAlchemy models, the database handle with its migrations, the library's repository
functions and the import-job ledger.

Import from here (``from artist_desktop.store import Database, jobs, repository``); nothing in this package
knows about HTTP, Redis or Qt.
"""

from artist_desktop.store import alerts, jobs, repository, scheduled_runs
from artist_desktop.store.database import Database, DatabaseOpenError, alembic_config, normalise_url, open_database
from artist_desktop.store.models import (
    Artist,
    ArtistMetric,
    ArtistPlatformId,
    ArtistTrack,
    Base,
    ImportJob,
    MediaAsset,
    MetricAlert,
    MetricRefreshResult,
    MetricRefreshRun,
    RefreshRunStatus,
    ScheduledRun,
    ScheduledRunStatus,
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
    "MetricAlert",
    "MetricRefreshResult",
    "MetricRefreshRun",
    "PlatformArtist",
    "PlatformIdConflict",
    "RefreshRunStatus",
    "ScheduledRun",
    "ScheduledRunStatus",
    "Track",
    "alembic_config",
    "alerts",
    "jobs",
    "normalise_url",
    "open_database",
    "repository",
    "scheduled_runs",
]
