"""SQLAlchemy 2 models of every table (DESIGN.md "Data model"), portable between SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

from artist_desktop.domain import JobStatus, Stage, utcnow

#: Constraint names are fixed so later migrations (and SQLite batch mode) can address them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

URL_LENGTH = 2048
NAME_LENGTH = 512


class RefreshRunStatus(enum.StrEnum):
    """One source's refresh run: running -> complete | cancelled | failed, or skipped from the start (the source
    could not run: no API key...; the run row's ``reason`` says why). All but ``running`` are final."""

    RUNNING = "running"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self is not RefreshRunStatus.RUNNING


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones: values are stored as naive UTC and come back with ``tzinfo=UTC``, so
    equal instants compare (and hit unique keys) equally whatever zone the caller used. A naive
    value is rejected rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the store needs timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _str_enum(enum_cls: type[enum.StrEnum]) -> Enum:
    """A portable enum column: VARCHAR holding the member values (no native PostgreSQL type)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class Artist(Base):
    __tablename__ = "artists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    slug: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    gender: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(64))
    #: MusicBrainz life-span begin: "1993", "1993-04" or "1969-02-19".
    birth_date: Mapped[str | None] = mapped_column(String(10))
    image_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))
    genres: Mapped[list[str]] = mapped_column(JSON, default=list)
    popularity: Mapped[int | None] = mapped_column(Integer)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    is_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ArtistPlatformId(Base):
    """One artist's id on one platform: each artist has at most one per platform, each id one artist."""

    __tablename__ = "artist_platform_ids"
    __table_args__ = (
        UniqueConstraint("platform", "platform_id"),
        UniqueConstraint("artist_id", "platform"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    platform_id: Mapped[str] = mapped_column(String(128))


def _utc_day(context: Any) -> date:
    """The UTC day of the row's ``observed_at``: the default of ``day`` when a writer gives only the instant."""
    observed: datetime = context.get_current_parameters()["observed_at"]
    return observed.astimezone(UTC).date()


class ArtistMetric(Base):
    """One metric's figure for one artist on one UTC ``day``: at most one per (artist, platform, metric, day).

    A later figure the same day replaces the value and ``observed_at`` (when it was read); a new day adds a
    point, so the rows of one metric are its daily history. ``day`` defaults to ``observed_at``'s UTC day.
    """

    __tablename__ = "artist_metrics"
    __table_args__ = (
        UniqueConstraint("artist_id", "platform", "metric_type", "day"),
        # Each metric's newest day in one index seek (the library anchors its trends there).
        Index(None, "platform", "metric_type", "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    metric_type: Mapped[str] = mapped_column(String(32))
    value: Mapped[float] = mapped_column(Double)
    day: Mapped[date] = mapped_column(Date, default=_utc_day)
    observed_at: Mapped[datetime] = mapped_column()


class Track(Base):
    """A top track, from Spotify (``spotify_id``, ``popularity`` 0-100) or from Deezer (``deezer_id``,
    ``deezer_rank`` 1..1,000,000, higher = more popular): at least one of the two ids is set."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spotify_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    deezer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    popularity: Mapped[int | None] = mapped_column(Integer)
    deezer_rank: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    album_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    image_url: Mapped[str | None] = mapped_column(String(URL_LENGTH))


class ArtistTrack(Base):
    """An artist's top track and its rank (1 = first)."""

    __tablename__ = "artist_tracks"

    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)


class MediaAsset(Base):
    """A downloaded image cached on disk, with the hash that names and verifies it."""

    __tablename__ = "media_assets"
    __table_args__ = (UniqueConstraint("artist_id", "source_url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    source_url: Mapped[str] = mapped_column(String(URL_LENGTH))
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(1024))
    content_type: Mapped[str | None] = mapped_column(String(128))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)


class ImportJob(Base):
    """The durable ledger entry of one artist import (see :class:`JobStatus` for its transitions)."""

    __tablename__ = "import_jobs"
    __table_args__ = (Index(None, "status", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    spotify_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    #: Selection order: jobs run (and are listed) by ascending position.
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[JobStatus] = mapped_column(_str_enum(JobStatus), default=JobStatus.QUEUED)
    stage: Mapped[Stage] = mapped_column(_str_enum(Stage), default=Stage.INIT)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    artist_id: Mapped[int | None] = mapped_column(ForeignKey("artists.id", ondelete="SET NULL"))
    #: Spotify's artist object when the artist was picked from search results: METADATA then needs no request.
    spotify_artist: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    #: The batch that queued it last (one enqueue: a window's Process all, a command's import); None before 0006.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id", ondelete="SET NULL"), index=True)


class ImportBatch(Base):
    """One enqueue: the artists queued together (``source`` window, cli or serve) and how many there were.
    Its jobs point at it (``import_jobs.batch_id``); its outcome is counted from them."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16), default="window")
    total: Mapped[int] = mapped_column(Integer, default=0)


class ServicePauseRow(Base):
    """A service that asked us to stop calling it until ``resume_at`` (Spotify's daily quota), shared by
    every process using this database."""

    __tablename__ = "service_pauses"

    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    resume_at: Mapped[datetime] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ServiceCapabilitiesRow(Base):
    """What an account of a service has shown it can do (``spotify:<client id>`` -> SpotifyCapabilities)."""

    __tablename__ = "service_capabilities"

    account: Mapped[str] = mapped_column(String(256), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MetricRefreshRun(Base):
    """One refresh of one platform's metric; every value it writes carries the same ``run_date``."""

    __tablename__ = "metric_refresh_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    run_date: Mapped[datetime] = mapped_column()
    status: Mapped[RefreshRunStatus] = mapped_column(_str_enum(RefreshRunStatus), default=RefreshRunStatus.RUNNING)
    total: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    #: Why the source was skipped or failed as a whole ("no API key", "ListenBrainz now asks for a token").
    reason: Mapped[str | None] = mapped_column(Text)
    #: The daily schedule started it (one run per source of a collection).
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MetricRefreshResult(Base):
    """One artist's outcome in a refresh run; kept (no foreign key) even if the artist is deleted later."""

    __tablename__ = "metric_refresh_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("metric_refresh_runs.id", ondelete="CASCADE"), index=True)
    artist_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    success: Mapped[bool] = mapped_column(Boolean)
    #: The source's headline figure (Deezer fans, Last.fm listeners, yesterday's pageviews...).
    value: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    previous_value: Mapped[int | None] = mapped_column(BigInteger)
    #: Not a failure of the service: it does not know the artist (no Wikipedia article, no Deezer artist).
    not_found: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ScheduledRunStatus(enum.StrEnum):
    """A scheduled collection of one day: running -> complete | nothing | failed | busy | cancelled.

    ``complete``, ``nothing`` (no source had anything to collect) and ``failed`` are final for their day;
    ``busy`` (another refresh held the run lock) and ``cancelled`` (the process stopped mid-run) are retried, and
    so is a ``running`` row found by the next holder of the schedule's lock (its process died).
    """

    RUNNING = "running"
    COMPLETE = "complete"
    NOTHING = "nothing"
    FAILED = "failed"
    BUSY = "busy"
    CANCELLED = "cancelled"

    @property
    def settles_day(self) -> bool:
        """No more scheduled run that day."""
        return self in (ScheduledRunStatus.COMPLETE, ScheduledRunStatus.NOTHING, ScheduledRunStatus.FAILED)


class ScheduledRun(Base):
    """The daily collection of one local ``day`` (at most one row per day, whichever process ran it)."""

    __tablename__ = "scheduled_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    due_at: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[ScheduledRunStatus] = mapped_column(
        _str_enum(ScheduledRunStatus), default=ScheduledRunStatus.RUNNING
    )
    #: One line for the status bar ("Deezer fans: 118 updated, 2 failed").
    outcome: Mapped[str] = mapped_column(Text, default="")
    holder: Mapped[str] = mapped_column(String(NAME_LENGTH), default="")
    #: The refresh run it recorded (the history's "Scheduled" marker).
    refresh_run_id: Mapped[int | None] = mapped_column(ForeignKey("metric_refresh_runs.id", ondelete="SET NULL"))
    new_alerts: Mapped[int] = mapped_column(Integer, default=0)


class MetricAlert(Base):
    """A day whose change of one metric was far outside the artist's own recent variability (metrics.alerts)."""

    __tablename__ = "metric_alerts"
    __table_args__ = (
        UniqueConstraint("artist_id", "platform", "metric_type", "day"),
        Index(None, "day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    metric_type: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Double)
    change: Mapped[float] = mapped_column(Double)
    change_percent: Mapped[float] = mapped_column(Double)
    #: The robust z-score of the change (median and MAD of the previous 28 days' changes).
    score: Mapped[float] = mapped_column(Double)
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
