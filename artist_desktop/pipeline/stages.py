"""The five working stages of one artist's import, as DESIGN.md's "Stages, concretely" table says.

INIT 0-5, METADATA 5-25, ANALYTICS 25-50, MEDIA 50-75, STORE 75-95, then COMPLETE 100 (the runner
publishes COMPLETE or ERROR). A required source that fails (the Spotify artist, the database) raises
`StageFailed`; an optional one (MusicBrainz, Deezer, images, top tracks) adds a warning and goes on.
A required source that is out of quota (Spotify's daily quota, or an app owner without Premium) raises
`ServicePaused`: the artist waits in the queue and resumes by itself; it never fails for it.

Spotify is used frugally (a Development Mode app has a small daily quota, ``../shared/api-facts.md``):
an artist picked from search results carries Spotify's artist object, so METADATA sends no request;
top tracks come from Deezer's keyless ``/artist/{id}/top`` unless the app has Extended Quota.

MusicBrainz is asked for the whole batch at once (:mod:`~artist_desktop.pipeline.coalesce`): the artists of a
batch wait together ("Waiting for MusicBrainz (batch of 37)") and share one URL lookup, then one ``arid:``
search for the gender and life-span a URL's relation does not give; 100 artists cost two requests. Deezer
costs one search per artist (its match carries ``nb_fan`` and ``nb_album``; an id the library already holds is
asked for directly instead) plus the top-tracks request. Only a sure Deezer match is kept
(:mod:`~artist_desktop.services.deezer_matcher`); an optional id (Deezer, MusicBrainz) another artist already
holds is left out with a warning, and STORE completes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import (
    STAGE_RANGES,
    ArtistRecord,
    MetricType,
    Platform,
    ProgressUpdate,
    ServicePause,
    SpotifyAppMode,
    Stage,
    is_spotify_id,
    slugify,
    utcnow,
)
from artist_desktop.pipeline.audience import AudienceLookups, import_sources
from artist_desktop.pipeline.coalesce import MusicBrainzLookups, waiting_message
from artist_desktop.pipeline.media_cache import CachedMedia, MediaCache, NotAnImageError
from artist_desktop.services import ServiceClients, ServiceError
from artist_desktop.services.deezer import DeezerArtist, DeezerTrack
from artist_desktop.services.deezer_matcher import DeezerMatch, match_deezer_artist
from artist_desktop.services.errors import (
    EndpointUnavailableError,
    NotFoundError,
    PremiumRequiredError,
    QuotaExceededError,
)
from artist_desktop.services.images import ImageClient
from artist_desktop.services.musicbrainz import MusicBrainzArtist
from artist_desktop.services.spotify import SpotifyArtist, SpotifyTrack
from artist_desktop.sources.base import ArtistFigures, FigureOutcome, MetricSource
from artist_desktop.store import Database, repository

log = logging.getLogger(__name__)


#: Spotify service name in pauses and messages ("Waiting for Spotify (resumes 14:20)").
SPOTIFY = "Spotify"
#: How long imports wait before trying Spotify again after "Active premium subscription required"
#: (Spotify says it can take hours to clear after subscribing).
PREMIUM_RECHECK = timedelta(minutes=15)
#: Top tracks kept per artist.
TOP_TRACKS = 10


class ServicePaused(Exception):
    """A required service asked us to wait (quota, or Premium missing): the artist goes back to the queue."""

    def __init__(self, pause: ServicePause) -> None:
        super().__init__(pause.sentence())
        self.pause = pause


class StageFailed(Exception):
    """A required step failed: the artist ends as ERROR naming `stage`."""

    def __init__(self, stage: Stage, reason: str) -> None:
        super().__init__(f"{stage.label}: {reason}")
        self.stage = stage
        self.reason = reason


@dataclass(slots=True)
class StageDeps:
    """What the stages use, shared by every artist of a batch."""

    clients: ServiceClients
    images: ImageClient
    media: MediaCache
    database: Database
    bus: ProgressBus
    market: str = "US"
    #: MusicBrainz lookups batched across the artists in flight (built from ``clients.musicbrainz``).
    musicbrainz: MusicBrainzLookups = field(init=False)
    #: The audience sources an import collects, batched the same way (ListenBrainz: 1,000 artists a request).
    audience: AudienceLookups = field(init=False)

    def __post_init__(self) -> None:
        self.musicbrainz = MusicBrainzLookups(self.clients.musicbrainz)
        self.audience = AudienceLookups(import_sources(self.clients))


@dataclass(frozen=True, slots=True)
class TopTrack:
    """One of the artist's top tracks, from Spotify (``spotify_id``, ``popularity`` 0-100) or from Deezer
    (``deezer_id``, ``deezer_rank`` 1..1,000,000, higher = more popular)."""

    name: str
    duration_ms: int | None
    album_name: str | None
    album_image_url: str | None
    spotify_id: str | None = None
    popularity: int | None = None
    deezer_id: str | None = None
    deezer_rank: int | None = None

    @classmethod
    def from_spotify(cls, track: SpotifyTrack) -> TopTrack:
        return cls(
            name=track.name,
            duration_ms=track.duration_ms,
            album_name=track.album_name,
            album_image_url=track.album_image_url,
            spotify_id=track.id,
            popularity=track.popularity,
        )

    @classmethod
    def from_deezer(cls, track: DeezerTrack) -> TopTrack:
        return cls(
            name=track.title,
            duration_ms=track.duration_s * 1000,
            album_name=track.album_title or None,
            album_image_url=track.album_cover_url,
            deezer_id=str(track.id),
            deezer_rank=track.rank,
        )


@dataclass(slots=True)
class ArtistImport:
    """One artist's way through the stages: what each stage found, and the progress published so far."""

    spotify_id: str
    batch_ts: datetime
    name: str = ""
    stage: Stage = Stage.INIT
    progress: int = 0
    warnings: list[str] = field(default_factory=list)
    #: What the details say without making the artist incomplete ("ListenBrainz: at the next refresh").
    notes: list[str] = field(default_factory=list)
    #: Spotify's artist object stored with the job when it was picked from search results.
    spotify_artist_data: dict[str, Any] | None = None
    spotify: SpotifyArtist | None = None
    musicbrainz: MusicBrainzArtist | None = None
    deezer: DeezerArtist | None = None
    tracks: list[TopTrack] = field(default_factory=list)
    media: list[tuple[str, str, CachedMedia]] = field(default_factory=list)
    #: Figures (and ids) of the audience sources collected in ANALYTICS, stored in STORE.
    audience: list[tuple[MetricSource, ArtistFigures]] = field(default_factory=list)
    artist_id: int | None = None

    @property
    def details(self) -> str:
        return "; ".join([*self.warnings, *self.notes])


ProgressSink = Callable[[ProgressUpdate], Awaitable[None]]


class UpdatePublisher(Protocol):
    """What publishes an update: a :class:`ProgressBus`, or the runner's
    :class:`~artist_desktop.bus.progress.DeferredPublisher` (which never fails an import for a Redis outage)."""

    async def publish(self, update: ProgressUpdate) -> ProgressUpdate: ...


class Reporter:
    """Publishes an artist's progress, keeping it monotonic within the run."""

    def __init__(self, job: ArtistImport, bus: UpdatePublisher, on_published: ProgressSink | None = None) -> None:
        self.job = job
        self.bus = bus
        self.on_published = on_published

    async def report(
        self, stage: Stage, fraction: float, message: str, payload: dict[str, Any] | None = None
    ) -> ProgressUpdate:
        """`fraction` (0-1) is how far into `stage` the work is; it maps onto the stage's progress range."""
        low, high = STAGE_RANGES.get(stage, (self.job.progress, self.job.progress))
        progress = max(self.job.progress, round(low + (high - low) * min(max(fraction, 0.0), 1.0)))
        return await self.publish(stage, progress, message, payload)

    async def publish(
        self, stage: Stage, progress: int, message: str, payload: dict[str, Any] | None = None
    ) -> ProgressUpdate:
        self.job.stage = stage
        self.job.progress = max(self.job.progress, progress) if stage is not Stage.ERROR else self.job.progress
        update = await self.bus.publish(
            ProgressUpdate(
                spotify_id=self.job.spotify_id,
                stage=stage,
                progress=self.job.progress,
                message=message,
                details=self.job.details,
                payload=payload,
            )
        )
        if self.on_published is not None:
            await self.on_published(update)
        return update


async def _optional(job: ArtistImport, what: str, call: Awaitable[Any]) -> Any:
    """Await an optional source; its failure becomes a warning in `details` instead of an error."""
    try:
        return await call
    except ServiceError as exc:
        job.warnings.append(f"{what}: {exc}")
        log.info("%s: %s unavailable: %s", job.spotify_id, what, exc)
        return None


async def stage_init(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    await reporter.report(Stage.INIT, 0.0, "Adding artist")
    if not is_spotify_id(job.spotify_id):
        raise StageFailed(Stage.INIT, f"{job.spotify_id!r} is not a Spotify artist id (22 letters and digits)")
    await reporter.report(Stage.INIT, 1.0, "Artist added")


async def _spotify_artist(job: ArtistImport, deps: StageDeps) -> SpotifyArtist:
    """The artist picked from search results (no request), else ``GET /artists/{id}``.

    Raises :class:`ServicePaused` when Spotify's quota is used up or the app owner lacks Premium, and
    :class:`StageFailed` for any other failure (an unknown id, Spotify down after retries).
    """
    if job.spotify_artist_data is not None:
        try:
            return SpotifyArtist.from_dict(job.spotify_artist_data)
        except ServiceError as exc:
            log.warning("%s: the stored Spotify artist is unusable (%s); fetching it", job.spotify_id, exc)
    try:
        return await deps.clients.spotify.get_artist(job.spotify_id)
    except QuotaExceededError as exc:
        raise ServicePaused(ServicePause(SPOTIFY, exc.resume_at, str(exc))) from exc
    except PremiumRequiredError as exc:
        raise ServicePaused(ServicePause(SPOTIFY, utcnow() + PREMIUM_RECHECK, str(exc))) from exc
    except NotFoundError as exc:
        raise StageFailed(Stage.METADATA, f"No Spotify artist has the id {job.spotify_id}: check the link") from exc
    except ServiceError as exc:  # the message names Spotify already ("Spotify is not answering: ...")
        raise StageFailed(Stage.METADATA, str(exc) if "Spotify" in str(exc) else f"Spotify: {exc}") from exc


async def stage_metadata(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    picked = job.spotify_artist_data is not None
    await reporter.report(
        Stage.METADATA, 0.0, "Reading the Spotify artist" if picked else "Fetching the Spotify artist"
    )
    job.spotify = await _spotify_artist(job, deps)
    job.name = job.spotify.name
    await reporter.report(Stage.METADATA, 1 / 3, f"Looking up {job.name} on MusicBrainz")
    job.musicbrainz = await _musicbrainz(job, job.spotify.url, deps, reporter)
    await reporter.report(Stage.METADATA, 2 / 3, f"Finding {job.name} on Deezer")
    job.deezer = await _deezer(job, deps)
    await reporter.report(Stage.METADATA, 1.0, "Metadata collected")


async def _deezer(job: ArtistImport, deps: StageDeps) -> DeezerArtist | None:
    """The artist's Deezer entry, only when sure (the rule: :mod:`~artist_desktop.services.deezer_matcher`).

    The id the library already holds for this artist (matched before, or set by hand) is kept and asked for
    directly; otherwise a sure match from a name search (its answer carries nb_fan and nb_album: one Deezer
    request, no ``/artist/{id}`` after it) whose id no other artist holds. Anything else leaves the artist
    without a Deezer id, with a warning saying why ("2 Deezer artists named Nirvana: set one by hand").
    """
    assert job.spotify is not None
    deezer = deps.clients.deezer
    try:
        async with deps.database.session() as session:
            mine = await repository.find_artist_id_by_platform(session, Platform.SPOTIFY, job.spotify_id)
            held = await repository.platform_ids_of(session, [] if mine is None else [mine], Platform.DEEZER)
    except SQLAlchemyError as exc:
        raise StageFailed(Stage.METADATA, f"Database: {exc}") from exc
    known = held.get(mine) if mine is not None else None
    if known is not None:
        found: DeezerArtist | None = await _optional(job, "Deezer", deezer.get_artist(known))
        return found
    match: DeezerMatch | None = await _optional(
        job, "Deezer", match_deezer_artist(deezer, job.name, job.spotify.followers)
    )
    if match is None:
        return None
    artist = match.artist
    if artist is None:
        if match.warning:
            job.warnings.append(match.warning)
            log.info("%s: %s", job.spotify_id, match.warning)
        return None
    try:
        async with deps.database.session() as session:
            taken = await _taken(session, Platform.DEEZER, str(artist.id), mine)
    except SQLAlchemyError as exc:
        raise StageFailed(Stage.METADATA, f"Database: {exc}") from exc
    if taken is not None:
        job.warnings.append(taken)
        return None
    return artist


#: How the optional platforms are named in warnings.
_PLATFORM_NAMES = {Platform.DEEZER: "Deezer", Platform.MUSICBRAINZ: "MusicBrainz"}


async def _taken(session: AsyncSession, platform: Platform, platform_id: str, artist_id: int | None) -> str | None:
    """The warning when another artist than ``artist_id`` (None: a new one) holds ``platform_id``, else None."""
    owner = await repository.find_artist_id_by_platform(session, platform, platform_id)
    if owner is None or owner == artist_id:
        return None
    return await _taken_warning(session, platform, platform_id, owner)


async def _taken_warning(session: AsyncSession, platform: Platform, platform_id: str, owner: int) -> str:
    """ "Deezer id 415 already belongs to Nirvana in the library: not stored"."""
    name = (await repository.artist_names(session, [owner])).get(owner) or f"artist {owner}"
    return f"{_PLATFORM_NAMES[platform]} id {platform_id} already belongs to {name} in the library: not stored"


async def _musicbrainz(job: ArtistImport, url: str, deps: StageDeps, reporter: Reporter) -> MusicBrainzArtist | None:
    """The artist behind the Spotify URL with its country, gender and life-span, looked up together with the
    other artists in flight: the URL lookup, then the details its relation does not give. A failed details
    lookup keeps what the URL lookup gave (a warning says so)."""
    lookups = deps.musicbrainz

    async def waiting(size: int) -> None:
        await reporter.report(Stage.METADATA, 1 / 3, waiting_message(lookups.service, size))

    found: MusicBrainzArtist | None = await _optional(job, "MusicBrainz", lookups.by_url.get(url, waiting))
    if found is None or not found.partial:
        return found
    details: MusicBrainzArtist | None = await _optional(job, "MusicBrainz", lookups.by_mbid.get(found.mbid, waiting))
    return details if details is not None else found


async def stage_analytics(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    assert job.spotify is not None
    if job.spotify.followers is not None or job.spotify.popularity is not None:
        await reporter.report(Stage.ANALYTICS, 0.0, "Collecting Spotify followers and popularity")
    else:  # not a warning: a Development Mode app never receives them (api-facts.md)
        await reporter.report(Stage.ANALYTICS, 0.0, "Spotify followers and popularity: not available for this app")
    # Deezer fans and albums came with METADATA's Deezer answer (the search match, or the held id's artist).
    await _audience(job, deps, reporter)
    await reporter.report(Stage.ANALYTICS, 2 / 3, "Fetching top tracks")
    job.tracks = await _top_tracks(job, deps)
    await reporter.report(Stage.ANALYTICS, 1.0, f"{len(job.tracks)} top tracks")


async def _audience(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    """The import-time audience sources' figures for the artist (those needing its MBID wait for METADATA's)."""
    lookups = deps.audience
    if not lookups.sources or job.musicbrainz is None:
        return
    names = ", ".join(source.name.label for source in lookups.sources)
    await reporter.report(Stage.ANALYTICS, 1 / 3, f"Collecting {names}")

    async def waiting(size: int) -> None:
        await reporter.report(Stage.ANALYTICS, 1 / 3, waiting_message(names, size))

    for collected in await lookups.collect(job.name, job.musicbrainz.mbid, job.batch_ts.date(), waiting):
        figures = collected.figures
        if figures is not None and figures.outcome is FigureOutcome.UPDATED:
            job.audience.append((collected.source, figures))
        elif figures is not None and figures.outcome is FigureOutcome.FAILED:  # not found: nothing to say
            job.notes.append(f"{collected.source.name.label}: at the next refresh ({figures.reason})")
        elif collected.note is not None:
            job.notes.append(collected.note)


async def _top_tracks(job: ArtistImport, deps: StageDeps) -> list[TopTrack]:
    """Spotify's top tracks where the app still has the endpoint (Extended Quota), else Deezer's ``/top``."""
    spotify = deps.clients.spotify
    capabilities = spotify.capabilities
    if capabilities.mode is SpotifyAppMode.EXTENDED and "top-tracks" not in capabilities.removed_endpoints:
        try:
            tracks = await spotify.get_top_tracks(job.spotify_id, market=deps.market)
        except EndpointUnavailableError:
            pass  # removed for this app after all: Deezer's list below
        except ServiceError as exc:
            if job.deezer is None:
                job.warnings.append(f"Spotify top tracks: {exc}")
                return []
        else:
            return [TopTrack.from_spotify(track) for track in tracks[:TOP_TRACKS]]
    if job.deezer is None:
        return []
    found = await _optional(job, "Deezer top tracks", deps.clients.deezer.get_top_tracks(job.deezer.id, TOP_TRACKS))
    return [TopTrack.from_deezer(track) for track in found or []]


async def stage_media(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    assert job.spotify is not None
    wanted: list[tuple[str, str]] = []
    if job.spotify.image_url:
        wanted.append(("artist_image", job.spotify.image_url))
    for track in job.tracks:
        if track.album_image_url and all(url != track.album_image_url for _, url in wanted):
            wanted.append(("track_art", track.album_image_url))
    if not wanted:
        await reporter.report(Stage.MEDIA, 1.0, "No images")
        return
    failed = 0
    for done, (kind, url) in enumerate(wanted):
        await reporter.report(Stage.MEDIA, done / len(wanted), f"Downloading image {done + 1} of {len(wanted)}")
        try:
            data = await deps.images.fetch(url)
            cached = await asyncio.to_thread(deps.media.store, data)
        except (ServiceError, NotAnImageError) as exc:
            failed += 1
            job.warnings.append(f"Image {url.rsplit('/', 1)[-1]}: {exc}")
            continue
        job.media.append((kind, url, cached))
    summary = f"{len(job.media)} images cached" + (f", {failed} failed" if failed else "")
    await reporter.report(Stage.MEDIA, 1.0, summary)


async def stage_store(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    """Everything of the artist in one transaction: all of it lands, or none of it."""
    assert job.spotify is not None
    await reporter.report(Stage.STORE, 0.0, "Saving")
    spotify, mb, deezer = job.spotify, job.musicbrainz, job.deezer
    record = ArtistRecord(
        name=spotify.name,
        slug=f"{slugify(spotify.name)}-{spotify.id}",
        gender=(mb.gender if mb else None),
        country=(mb.country if mb else None),
        birth_date=(mb.life_span_begin if mb else None),
        image_url=spotify.image_url,
        genres=list(spotify.genres),
        popularity=spotify.popularity,
        followers=spotify.followers,
        is_complete=not job.warnings,
    )
    metrics: list[tuple[Platform, MetricType, float]] = []
    if spotify.followers is not None:
        metrics.append((Platform.SPOTIFY, MetricType.FOLLOWERS, spotify.followers))
    if spotify.popularity is not None:
        metrics.append((Platform.SPOTIFY, MetricType.POPULARITY, spotify.popularity))

    async def write() -> int:
        nonlocal record, deezer
        async with deps.database.session() as session, session.begin():
            existing = await repository.find_artist_id_by_platform(session, Platform.SPOTIFY, spotify.id)
            if existing is not None:
                record = await _keep_slug(session, existing, record)
            artist_id = await repository.upsert_artist(session, record)
            await repository.upsert_platform_id(session, artist_id, Platform.SPOTIFY, spotify.id)
            # Optional ids another artist holds are left out with a warning; the import still completes.
            warned = len(job.warnings)
            if deezer is not None and not await _optional_id(session, job, artist_id, Platform.DEEZER, str(deezer.id)):
                _forget_deezer(job)
                deezer = None
            if mb is not None:
                await _optional_id(session, job, artist_id, Platform.MUSICBRAINZ, mb.mbid)
            if len(job.warnings) > warned and record.is_complete:
                await repository.upsert_artist(session, replace(record, is_complete=False))
            if deezer is not None:
                metrics.extend(_deezer_metrics(deezer))
            for platform, metric_type, value in metrics:
                # One figure per metric per UTC day: today's replaces today's, a new day adds a point.
                await repository.upsert_metric(session, artist_id, platform, metric_type, value, job.batch_ts)
            for source, collected in job.audience:
                for figure in collected.figures:
                    await repository.upsert_metric(
                        session, artist_id, source.name, figure.metric, figure.value, job.batch_ts, day=figure.day
                    )
                for platform, platform_id in collected.resolved_ids.items():
                    await _optional_id(session, job, artist_id, platform, platform_id)
            track_ids = [
                await repository.upsert_track(
                    session,
                    name=track.name,
                    duration_ms=track.duration_ms,
                    album_name=track.album_name,
                    image_url=track.album_image_url,
                    spotify_id=track.spotify_id,
                    popularity=track.popularity,
                    deezer_id=track.deezer_id,
                    deezer_rank=track.deezer_rank,
                )
                for track in job.tracks
            ]
            await repository.set_artist_tracks(session, artist_id, track_ids)
            for kind, url, cached in job.media:
                await repository.upsert_media_asset(
                    session,
                    artist_id=artist_id,
                    kind=kind,
                    source_url=url,
                    sha256=cached.sha256,
                    path=str(cached.path),
                    content_type=cached.content_type,
                    size_bytes=cached.size_bytes,
                )
        return artist_id

    # Shielded: a cancel landing while the transaction commits waits for it to end, so the job can say what was
    # stored (the runner ends a job whose artist was saved as complete, whatever cancelled it afterwards).
    writing = asyncio.ensure_future(write())
    try:
        artist_id = await asyncio.shield(writing)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            job.artist_id = await writing
        raise
    except Exception as exc:
        log.exception("saving %s failed", job.spotify_id)
        raise StageFailed(Stage.STORE, f"Database: {exc}") from exc
    job.artist_id = artist_id
    await reporter.report(Stage.STORE, 1.0, "Saved")


def _deezer_metrics(deezer: DeezerArtist) -> list[tuple[Platform, MetricType, float]]:
    """The fan and album counts the Deezer match carries (those Deezer gave as usable numbers)."""
    metrics: list[tuple[Platform, MetricType, float]] = []
    fans = deezer.fans
    if fans is not None:
        metrics.append((Platform.DEEZER, MetricType.FOLLOWERS, fans))
    if isinstance(deezer.nb_album, int) and deezer.nb_album >= 0:
        metrics.append((Platform.DEEZER, MetricType.ALBUMS, deezer.nb_album))
    return metrics


async def _optional_id(
    session: AsyncSession, job: ArtistImport, artist_id: int, platform: Platform, platform_id: str
) -> bool:
    """Record an optional platform id; False, and a warning, when another artist holds it (never an error)."""
    try:
        await repository.upsert_platform_id(session, artist_id, platform, platform_id)
    except repository.PlatformIdConflict as conflict:
        warning = await _taken_warning(session, platform, platform_id, conflict.owner_id)
        job.warnings.append(warning)
        log.warning("%s: %s", job.spotify_id, warning)
        return False
    return True


def _forget_deezer(job: ArtistImport) -> None:
    """The Deezer match turned out to be another artist's: its top tracks and their covers are not ours either."""
    dropped = {track.album_image_url for track in job.tracks if track.deezer_id is not None}
    job.tracks = [track for track in job.tracks if track.deezer_id is None]
    job.media = [item for item in job.media if not (item[0] == "track_art" and item[1] in dropped)]
    job.deezer = None


async def _keep_slug(session: Any, artist_id: int, record: ArtistRecord) -> ArtistRecord:
    """A re-import keeps the artist's slug, so renaming on Spotify updates the row instead of adding one."""
    slug = await repository.artist_slug(session, artist_id)
    return replace(record, slug=slug) if slug else record


STAGES: tuple[tuple[Stage, Callable[[ArtistImport, StageDeps, Reporter], Awaitable[None]]], ...] = (
    (Stage.INIT, stage_init),
    (Stage.METADATA, stage_metadata),
    (Stage.ANALYTICS, stage_analytics),
    (Stage.MEDIA, stage_media),
    (Stage.STORE, stage_store),
)


async def run_stages(job: ArtistImport, deps: StageDeps, reporter: Reporter) -> None:
    """Run every stage in order; raises StageFailed (or CancelledError) and leaves COMPLETE/ERROR to the caller."""
    for _stage, run in STAGES:
        await run(job, deps, reporter)
