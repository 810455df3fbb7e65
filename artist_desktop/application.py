"""The application surface: every use-case the window needs, as methods with plain data in and out.

The window holds one `Application` (made by `artist_desktop.runtime.Runtime` once its parts run) and
calls nothing else below `ui/`: search, the import queue (enqueue, cancel, retry, remove), live progress,
the library and its metric series, Deezer refreshes and their history, health and pauses. Each method
opens its own short database session; none blocks (all are coroutines) and none imports Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, unquote, unquote_plus

from artist_desktop.config import Settings
from artist_desktop.domain import (
    DailyFigure,
    ImportRequest,
    JobStatus,
    LibraryArtist,
    MetricType,
    Platform,
    ProgressUpdate,
    ServicePause,
    Stage,
    parse_artist_lines,
    spotify_id_from_text,
    utcnow,
)
from artist_desktop.export import metrics_of, series_rows, table_rows
from artist_desktop.services import ServiceError
from artist_desktop.services.deezer_matcher import Match, find_missing_deezer_ids, undo_match
from artist_desktop.services.spotify import SpotifyArtist, SpotifySearchPage
from artist_desktop.services.spotify_links import resolve_short_link
from artist_desktop.sources import (
    RefreshResult,
    RefreshStatus,
    RefreshSummary,
    refresh_deezer_fans,
)
from artist_desktop.sources.alerts import Alert, AlertRule, Detection, alert_of, detect_alerts
from artist_desktop.sources.refresh import RefreshAllSummary, SourceProgress, refresh_sources
from artist_desktop.sources.registry import build_sources
from artist_desktop.sources.schedule import Collected, LastRun, last_run, next_run
from artist_desktop.store import PlatformIdConflict, alerts, jobs, library, repository, scheduled_runs
from artist_desktop.store.jobs import BatchSummary

if TYPE_CHECKING:
    from artist_desktop.bus import ProgressBus
    from artist_desktop.pipeline.runner import BatchRunner, QueueState
    from artist_desktop.services import ServiceClients
    from artist_desktop.sources.base import MetricSource
    from artist_desktop.sse import SseServer
    from artist_desktop.store import Database

__all__ = [
    "HISTORY_LIMIT",
    "Application",
    "BatchSummary",
    "Health",
    "JobState",
    "PastedLinkError",
    "ProgressCallback",
    "QueueState",
    "QueuedArtist",
    "RefreshRunRow",
    "ResumedQueue",
    "ScheduleStatus",
    "SearchOutcome",
    "SourceInfo",
]

log = logging.getLogger(__name__)

#: How many past refresh runs the history lists.
HISTORY_LIMIT = 200
#: The platforms whose artist id a person may set by hand (Spotify's is the artist's identity).
SETTABLE_PLATFORMS = (
    Platform.DEEZER.value,
    Platform.MUSICBRAINZ.value,
    Platform.WIKIPEDIA.value,
    Platform.LASTFM.value,
)
#: Platforms whose figures belong to the page the id names: a new id drops the old page's figures (the next refresh
#: collects the new page's, Wikipedia 90 days back).
_PAGE_PLATFORMS = (Platform.WIKIPEDIA.value, Platform.LASTFM.value)
_WIKIPEDIA_LINK = re.compile(r"^(?:https?://)?en\.(?:m\.)?wikipedia\.org/wiki/(?P<title>[^?#]+)")
_LASTFM_LINK = re.compile(r"^(?:https?://)?(?:www\.)?last\.fm/(?:[a-z]{2}/)?music/(?P<name>[^/?#]+)")
#: A Deezer artist id, or the artist's deezer.com link (``https://www.deezer.com/fr/artist/27``).
_DEEZER_ID = re.compile(
    r"^(?:(?:https?://)?(?:www\.)?deezer\.com/(?:[a-z]{2}(?:-[a-z]{2})?/)?artist/)?(?P<id>[1-9][0-9]{0,11})/?$"
)
#: A MusicBrainz artist id (MBID), or the artist's musicbrainz.org link.
_MBID = re.compile(
    r"^(?:(?:https?://)?(?:beta\.)?musicbrainz\.org/artist/)?"
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:[/?#].*)?$",
    re.IGNORECASE,
)
#: Days before today a collection's alert detection judges again (a figure can arrive late).
ALERT_RECHECK_DAYS = 7
#: ``progress(done, total, artist_name)`` for the Deezer refresh and Find Deezer ids.
ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    """One page of results (null items already skipped by the client), which of them are already imported,
    the offset of the next page (None: no more), and whether it answers a pasted link."""

    items: tuple[SpotifyArtist, ...]
    total: int
    next_offset: int | None
    in_library: frozenset[str]
    pasted: bool = False
    offset: int = 0

    @classmethod
    def of_page(cls, page: SpotifySearchPage, in_library: frozenset[str]) -> SearchOutcome:
        return cls(page.items, page.total, page.next_offset, in_library, offset=page.offset)

    @classmethod
    def of_artist(cls, artist: SpotifyArtist, in_library: frozenset[str]) -> SearchOutcome:
        return cls((artist,), 1, None, in_library, pasted=True)


@dataclass(frozen=True, slots=True)
class Health:
    """What the status bar and `/api/health` report."""

    redis_ok: bool
    redis_where: str
    database_ok: bool
    database_where: str
    demo: bool
    team_mode: bool = False
    database_host: str = ""
    live_workers: int = 0
    #: This process's import loop (`LoopState`: running, retrying, stalled, stopped); "" when it runs none.
    worker: str = ""

    @property
    def worker_ok(self) -> bool:
        """False when this process's import loop is stalled or stopped while it should run (or retrying)."""
        return self.worker in ("", "running")


@dataclass(frozen=True, slots=True)
class JobState:
    """One import as the ledger holds it now, and the progress update that says so (the view applies it when
    it missed the live ones)."""

    spotify_id: str
    status: JobStatus
    stage: Stage
    progress: int
    last_error: str | None
    update: ProgressUpdate


class RuntimeParts(Protocol):
    """What the application needs of a started runtime (`artist_desktop.runtime.Runtime` is one)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def database(self) -> Database: ...
    @property
    def bus(self) -> ProgressBus: ...
    @property
    def clients(self) -> ServiceClients: ...
    @property
    def runner(self) -> BatchRunner: ...
    @property
    def sse(self) -> SseServer | None: ...
    async def health(self) -> Health: ...


class PastedLinkError(Exception):
    """A pasted link that names no Spotify artist (a short link that resolves to something else, or nowhere)."""


@dataclass(frozen=True, slots=True)
class QueuedArtist:
    """An artist waiting in the job ledger (queued, or left running by a process that stopped)."""

    spotify_id: str
    name: str
    status: JobStatus


class ResumedQueue(dict[str, str]):
    """What `Application.resume_queue` found: the unfinished jobs' names by Spotify id (a dict, as before),
    and `resumed`, how many of them were interrupted imports (running when their process stopped)."""

    def __init__(self, names: dict[str, str], resumed: int = 0) -> None:
        super().__init__(names)
        self.resumed = resumed


@dataclass(frozen=True, slots=True)
class RefreshRunRow:
    """One past refresh run of one source as the history lists it; ``scheduled``: the daily schedule started it;
    ``reason``: why it was skipped or failed as a whole."""

    run_id: int
    run_date: datetime
    status: RefreshStatus
    total: int
    updated: int
    failed: int
    scheduled: bool = False
    source: Platform = Platform.DEEZER
    reason: str | None = None
    #: How many of ``failed`` the service does not know (no article, no such id): not failures of the service.
    not_found: int = 0


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """A metric source as the Metrics menu offers it: its name (the CLI's ``--source``), what a person reads,
    and why it would be skipped now (None: it can run)."""

    name: Platform
    label: str
    skip_reason: str | None


@dataclass(frozen=True, slots=True)
class ScheduleStatus:
    """The daily collection as the status bar shows it: whether it is on (``collect_daily``), when it runs
    next (local time; None when off) and how the last scheduled run went (None: none yet)."""

    enabled: bool
    next_run: datetime | None
    last: LastRun | None


class Application:
    """The use-cases of a running runtime, for the window (and anything else that wants plain data)."""

    def __init__(self, runtime: RuntimeParts) -> None:
        self._runtime = runtime

    @property
    def settings(self) -> Settings:
        """The settings the runtime started with (demo mode: pointed at the API double)."""
        return self._runtime.settings

    # -- search ---------------------------------------------------------------------------------
    async def search_artists(self, query: str, offset: int = 0, *, limit: int | None = None) -> SearchOutcome:
        """One page of Spotify's artist search, with the ids already in the library. ``limit`` defaults to the
        app's page size and is capped by it (10 in Development Mode, where a larger ``limit`` answers 400
        "Invalid limit").

        Raises `ServiceError` subclasses (`QuotaExceededError`, `PremiumRequiredError`, ...)."""
        page = await self._runtime.clients.spotify.search_artists(query, limit=limit, offset=offset)
        return SearchOutcome.of_page(page, frozenset(await self.spotify_ids_in_library(a.id for a in page.items)))

    async def look_up_pasted(self, text: str) -> SearchOutcome:
        """The one artist a pasted id, ``spotify:artist:`` URI or (short) link names (one Spotify request).

        Raises `PastedLinkError` when a short link leads to no artist, `ServiceError` as `search_artists`."""
        spotify_id = spotify_id_from_text(text)
        if spotify_id is None:
            requests, bad = await self.requests_from_text(text)
            if not requests:  # the reason comes as "<link>: <sentence>"
                reason = bad[0][1].removeprefix(f"{text.strip()}: ") if bad else ""
                raise PastedLinkError(reason or "That link leads to no Spotify artist.")
            spotify_id = requests[0].spotify_id
        artist = await self._runtime.clients.spotify.get_artist(spotify_id)
        return SearchOutcome.of_artist(artist, frozenset(await self.spotify_ids_in_library([artist.id])))

    async def spotify_ids_in_library(self, spotify_ids: Iterable[str]) -> set[str]:
        """Which of these Spotify ids are already imported (the "In library" badge)."""
        async with self._runtime.database.read_session() as session:
            return await repository.spotify_ids_in_library(session, spotify_ids)

    async def fetch_image(self, url: str) -> bytes:
        """An image's bytes (artist thumbnails), through the shared image client and its retries."""
        return await self._runtime.runner.deps.images.fetch(url)

    # -- the import queue -------------------------------------------------------------------------
    async def requests_from_text(self, text: str) -> tuple[list[ImportRequest], list[tuple[int, str]]]:
        """Artists named in pasted text or a .txt/.csv file: ids, artist links, URIs and short links.

        Short links (``spotify.link``, ``open.spotify.com/s/``) are resolved by following their redirect once
        (not an API request). Returns the requests in first-seen order and the lines that name no artist as
        ``(line number, "text: reason")``.
        """
        parsed = parse_artist_lines(text)
        ids = list(parsed.ids)
        bad = [(number, f"{line}: not a Spotify artist id, link or URI") for number, line in parsed.bad]
        numbers = {line.strip(): number for number, line in enumerate(text.splitlines(), start=1)}
        for link in parsed.short_links:
            try:
                ids.append(await resolve_short_link(link))
            except ServiceError as exc:
                bad.append((numbers.get(link, 0), f"{link}: {exc}"))
        return [ImportRequest(spotify_id) for spotify_id in dict.fromkeys(ids)], sorted(bad)

    async def enqueue(self, requests: Sequence[ImportRequest]) -> list[str]:
        """Queue artists for import in the shared job ledger, as one batch; returns the ids queued (see
        `BatchRunner.enqueue`)."""
        return await self._runtime.runner.enqueue(requests, source="window")

    async def batches(self) -> list[BatchSummary]:
        """The import batches, newest first, each with its outcome (N complete, M failed, K cancelled)."""
        async with self._runtime.database.read_session() as session:
            return await jobs.list_batches(session)

    async def batch_jobs(self, batch_id: int) -> list[QueuedArtist]:
        """One batch's imports in selection order, with their status now."""
        async with self._runtime.database.read_session() as session:
            found = await jobs.batch_jobs(session, batch_id)
        return [QueuedArtist(job.spotify_id, job.name, job.status) for job in found]

    async def set_queue_paused(self, paused: bool) -> QueueState:
        """Pause the import queue for every process on this database (running imports finish), or resume it
        (a pause an outage made too: it pauses again if the outage goes on); returns the queue's state after."""
        runner = self._runtime.runner
        if paused:
            await runner.pause_queue()
        else:
            await runner.resume_queue(outage=True)
            await runner.resume_queue()
        return await runner.queue_state()

    async def queue_state(self) -> QueueState:
        """Whether the queue claims imports, and why not (paused by you, Spotify down, the database away)."""
        return await self._runtime.runner.queue_state()

    async def resume_queue(self) -> ResumedQueue:
        """Start-up: put back jobs a stopped process left running, re-announce every unfinished job on the bus,
        and start this machine's worker unless team mode leaves importing to `serve` workers.

        Returns the unfinished jobs' names by Spotify id (progress updates carry no name), with
        ``.resumed``: how many interrupted imports were put back ("Resumed 17 interrupted imports")."""
        runner = self._runtime.runner
        resumed = await runner.resume_interrupted()
        waiting = await self.unfinished_jobs()
        if waiting:
            await runner.enqueue([(job.spotify_id, job.name) for job in waiting])
        if self.settings.runs_local_worker:
            runner.start()
        return ResumedQueue({job.spotify_id: job.name for job in waiting}, resumed)

    async def unfinished_jobs(self) -> list[QueuedArtist]:
        """Queued and running jobs in selection order: the queue that survives a restart."""
        async with self._runtime.database.read_session() as session:
            unfinished = await jobs.list_jobs(session, (JobStatus.QUEUED, JobStatus.RUNNING))
        return [QueuedArtist(job.spotify_id, job.name, job.status) for job in unfinished]

    async def job_states(
        self, spotify_ids: Iterable[str], finished_since: datetime | None = None
    ) -> dict[str, JobState]:
        """The ledger's state of these imports, plus (with ``finished_since``) every unfinished one and those
        finished since then: what the progress view re-reads to agree with the ledger after lost updates."""
        from artist_desktop.pipeline.runner import ledger_update

        async with self._runtime.database.read_session() as session:
            found = dict(await jobs.get_jobs(session, spotify_ids))
            if finished_since is not None:
                found.update({job.spotify_id: job for job in await jobs.jobs_to_show(session, finished_since)})
            return {
                spotify_id: JobState(
                    spotify_id, job.status, job.stage, job.progress, job.last_error, ledger_update(job)
                )
                for spotify_id, job in found.items()
            }

    async def job_names(self, spotify_ids: Iterable[str]) -> dict[str, str]:
        """The display names the ledger knows for these ids."""
        async with self._runtime.database.read_session() as session:
            return await jobs.job_names(session, spotify_ids)

    async def retry(self, spotify_ids: Sequence[str]) -> None:
        """Queue these failed or cancelled imports again."""
        for spotify_id in spotify_ids:
            await self._runtime.runner.retry(spotify_id)

    async def cancel(self, spotify_ids: Sequence[str]) -> None:
        """Cancel these imports, queued or running (on whichever worker runs them)."""
        for spotify_id in spotify_ids:
            await self._runtime.runner.cancel(spotify_id)

    async def cancel_all(self) -> None:
        """Cancel every unfinished import."""
        await self._runtime.runner.cancel_all()

    async def remove(self, spotify_ids: Sequence[str]) -> None:
        """Forget these finished imports (ledger row and last progress update)."""
        for spotify_id in spotify_ids:
            await self._runtime.runner.remove(spotify_id)

    @contextlib.asynccontextmanager
    async def progress_updates(
        self, on_connection_change: Callable[[bool], None] | None = None
    ) -> AsyncIterator[AsyncIterator[ProgressUpdate]]:
        """Every artist's progress from the Redis bus: the last update of each first, then live ones; resynced
        after a reconnect (`on_connection_change(False)` when the link drops, `True` when it is back)."""
        async with self._runtime.bus.subscribe(on_connection_change=on_connection_change) as subscription:
            yield aiter(subscription)

    async def spotify_pause(self) -> ServicePause | None:
        """Spotify's pause in force (its daily quota is used up), shared by every process; None when none."""
        return await self._runtime.runner.current_spotify_pause()

    # -- library --------------------------------------------------------------------------------
    async def library_artists(
        self, artist_ids: Sequence[int] | None = None, *, spotify_ids: Sequence[str] | None = None
    ) -> list[LibraryArtist]:
        """Every artist of the library by name, or only these (by id, or by Spotify id: what an import just
        stored): ids, cached picture and a trend per metric (latest daily figure, 1/7/28-day change, the last 28
        days for a sparkline); see `store.library.library_artists`. A full read of 10,000 artists takes seconds:
        after an import, read only the artists it stored."""
        async with self._runtime.database.read_session() as session:
            if spotify_ids is not None:
                found = [
                    await repository.find_artist_id_by_platform(session, Platform.SPOTIFY, spotify_id)
                    for spotify_id in spotify_ids
                ]
                artist_ids = [*(artist_ids or ()), *(artist_id for artist_id in found if artist_id is not None)]
            return await library.library_artists(session, artist_ids)

    async def metric_series(
        self, artist_ids: Sequence[int], platform: str, metric: str
    ) -> dict[int, list[DailyFigure]]:
        """Every daily figure of one metric for each artist, oldest first (an empty list when it has none)."""
        async with self._runtime.database.read_session() as session:
            return await library.metric_series(session, artist_ids, platform, metric)

    async def reimport(self, artist_ids: Sequence[int]) -> list[str]:
        """Queue these artists for import again through the job ledger (a new day's figures, fresh metadata);
        artists without a Spotify id are skipped. Returns the Spotify ids queued."""
        async with self._runtime.database.read_session() as session:
            spotify_ids = await repository.platform_ids_of(session, artist_ids, Platform.SPOTIFY.value)
            names = await repository.artist_names(session, spotify_ids)
        requests = [
            ImportRequest(spotify_ids[artist_id], names.get(artist_id, ""))
            for artist_id in dict.fromkeys(artist_ids)
            if artist_id in spotify_ids
        ]
        return await self.enqueue(requests) if requests else []

    async def set_platform_id(self, artist_id: int, platform: str, platform_id: str | None) -> None:
        """Set the artist's Deezer or MusicBrainz id, English Wikipedia article title or Last.fm name by hand (the
        id, title or name, or the page's link), or clear it (None or blank). A new one is checked with the service
        first; a new Wikipedia title or Last.fm name drops the figures of the old page.

        Raises ValueError with a sentence for a person (not an id of that platform, or another artist of the
        library has it), the service's `NotFoundError` when it has no such artist, other `ServiceError`s when
        it cannot be asked."""
        if platform not in SETTABLE_PLATFORMS:
            raise ValueError(
                "Only Deezer and MusicBrainz ids, Wikipedia titles and Last.fm names can be set by hand, "
                f"not {platform}."
            )
        database = self._runtime.database
        if platform_id is None or not platform_id.strip():
            async with database.session() as session, session.begin():
                await repository.delete_platform_id(session, artist_id, platform)
            return
        checked = await self._checked_platform_id(platform, platform_id.strip())
        try:
            async with database.session() as session, session.begin():
                before = (await repository.platform_ids_of(session, [artist_id], platform)).get(artist_id)
                await repository.upsert_platform_id(session, artist_id, platform, checked)
                if platform in _PAGE_PLATFORMS and before not in (None, checked):
                    await repository.delete_metrics(session, artist_id, platform)
        except PlatformIdConflict as conflict:
            async with database.read_session() as session:
                owner = (await repository.artist_names(session, [conflict.owner_id])).get(conflict.owner_id)
            name = Platform(platform).label
            raise ValueError(
                f"{name} id {checked} already belongs to {owner or 'another artist'} in the library."
            ) from None

    async def _checked_platform_id(self, platform: str, text: str) -> str:
        """The id in ``text`` once the service confirmed it names an artist (see `set_platform_id`)."""
        clients = self._runtime.clients
        if platform == Platform.WIKIPEDIA.value:
            return await self._checked_wikipedia_title(text)
        if platform == Platform.LASTFM.value:
            return await self._checked_lastfm_name(text)
        if platform == Platform.DEEZER.value:
            match = _DEEZER_ID.fullmatch(text)
            if match is None:
                raise ValueError(
                    f"“{text}” is not a Deezer artist id: it is a number, like 27 in deezer.com/artist/27."
                )
            await clients.deezer.get_artist(match["id"])
            return match["id"]
        match = _MBID.fullmatch(text)
        if match is None:
            raise ValueError(
                f"“{text}” is not a MusicBrainz artist id: it looks like 056e4f3e-d505-4dad-8ec1-d04f521cbb56, "
                "as in musicbrainz.org/artist/056e4f3e-d505-4dad-8ec1-d04f521cbb56."
            )
        mbid = match["id"].lower()
        await clients.musicbrainz.get_artist(mbid)
        return mbid

    async def _checked_wikipedia_title(self, text: str) -> str:
        """The article title in ``text`` (a title or an en.wikipedia.org link) once Wikimedia has pageviews for it
        in the last 30 days; NotFoundError when it has none (no such article, or a redirect's old title)."""
        match = _WIKIPEDIA_LINK.match(text)
        title = unquote(match["title"]) if match else text
        title = title.replace("_", " ").strip()
        if not title:
            raise ValueError("Enter the English Wikipedia article's title, or its link.")
        wikimedia = self._runtime.clients.wikimedia
        if wikimedia is None:
            raise ValueError("Wikipedia is not set up in this app.")
        yesterday = utcnow().date() - timedelta(days=1)
        await wikimedia.daily_pageviews(title, yesterday - timedelta(days=29), yesterday)
        return title

    async def _checked_lastfm_name(self, text: str) -> str:
        """The Last.fm artist name in ``text`` (a name or a last.fm/music link), as Last.fm writes it, once
        ``artist.getInfo`` knows it; NotFoundError when Last.fm has no such artist."""
        match = _LASTFM_LINK.match(text)
        name = unquote_plus(match["name"]) if match else text.strip()
        lastfm = self._runtime.clients.lastfm
        if lastfm is None:
            raise ValueError("Last.fm is not set up in this app.")
        found = await lastfm.artist_info(name=name, autocorrect=False)
        return found.name

    async def remove_artists(self, artist_ids: Sequence[int]) -> int:
        """Remove these artists with their daily figures, platform ids, top-track links and cached pictures (the
        files too, unless another artist still uses them). Their import jobs stay in the ledger. Returns how
        many artists were removed."""
        async with self._runtime.database.session() as session, session.begin():
            removed, paths = await repository.remove_artists(session, artist_ids)
        await asyncio.to_thread(_delete_cached_files, self.settings.media_dir, paths)
        return removed

    async def export_library(
        self, *, metrics: Sequence[tuple[str, str]] | None = None, days: int | None = None
    ) -> list[dict[str, object]]:
        """The library as export rows (`artist_desktop.export` describes both shapes and writes them).

        Without ``days``: the table, one row per artist with ids and, per metric (default: every metric any
        artist has), the latest figure, its day and the 1/7/28-day changes. With ``days``: the series, one row
        per day, artist and metric for the last ``days`` UTC days (today included). ValueError for ``days``
        below 1."""
        if days is not None and days < 1:
            raise ValueError(f"days must be 1 or more (got {days})")
        artists = await self.library_artists()
        if days is None:
            return table_rows(artists, metrics)
        chosen = list(metrics) if metrics is not None else metrics_of(artists)
        ids = [artist.artist_id for artist in artists]
        series = {metric: await self.metric_series(ids, *metric) for metric in chosen}
        return series_rows(artists, series, since=utcnow().date() - timedelta(days=days - 1))

    # -- Deezer refresh -------------------------------------------------------------------------------
    async def refresh_deezer_fans(
        self,
        progress: ProgressCallback | None = None,
        *,
        run_date: datetime | None = None,
        only_artist_ids: set[int] | None = None,
    ) -> RefreshSummary:
        """Refresh the Deezer fan count of every artist with a Deezer id (or only these; with ``run_date``, a
        retry that updates that run's day). Raises as `metrics.refresh_deezer_fans`; cancellable."""
        runtime = self._runtime
        return await refresh_deezer_fans(
            runtime.database,
            runtime.clients.deezer,
            progress=progress,
            run_date=run_date,
            only_artist_ids=only_artist_ids,
        )

    def metric_sources(self) -> list[SourceInfo]:
        """Every metric source, in the menu's order, with why it would be skipped with the current settings."""
        return [SourceInfo(source.name, source.label, source.skip_reason()) for source in self._sources()]

    def _sources(self) -> list[MetricSource]:
        runtime = self._runtime
        return build_sources(runtime.clients, runtime.settings.contact)

    async def refresh_metrics(
        self,
        sources: Iterable[Platform] | None = None,
        progress: SourceProgress | None = None,
        *,
        run_date: datetime | None = None,
        only_artist_ids: set[int] | None = None,
    ) -> RefreshAllSummary:
        """Refresh the metric sources named (None: all) at once, each with its own run row; a source without
        its key is skipped with the reason, never a failure. ``progress(source, done, total, name)`` after each
        artist. Raises as `sources.refresh.refresh_sources` (`NothingToRefresh`, `DatabaseUnavailableError`,
        `LockHeld` for one source another process refreshes); cancellable."""
        chosen = self._sources()
        if sources is not None:
            wanted = set(sources)
            chosen = [source for source in chosen if source.name in wanted]
        return await refresh_sources(
            self._runtime.database, chosen, progress=progress, run_date=run_date, only_artist_ids=only_artist_ids
        )

    async def find_missing_deezer_ids(self, progress: ProgressCallback | None = None) -> list[Match]:
        """Match artists without a Deezer id to Deezer by name; returns what was matched."""
        return await find_missing_deezer_ids(self._runtime.database, self._runtime.clients.deezer, progress)

    async def undo_deezer_matches(self, artist_ids: Sequence[int]) -> list[int]:
        """Forget the Deezer id of each artist in turn; returns those that had one."""
        return [artist_id for artist_id in artist_ids if await undo_match(self._runtime.database, artist_id)]

    async def deezer_refresh_runs(self, limit: int = HISTORY_LIMIT) -> list[RefreshRunRow]:
        """Past Deezer refresh runs, newest first."""
        return await self.refresh_runs(Platform.DEEZER, limit)

    async def refresh_runs(self, source: Platform | None = None, limit: int = HISTORY_LIMIT) -> list[RefreshRunRow]:
        """Past refresh runs of one source (None: every source), newest first."""
        async with self._runtime.database.read_session() as session:
            runs = await repository.list_refresh_runs(session, source.value if source else None, limit)
            scheduled = await scheduled_runs.scheduled_refresh_runs(session, [run.id for run in runs])
            not_found = await repository.not_found_counts(session, [run.id for run in runs])
            return [
                RefreshRunRow(
                    run.id,
                    run.run_date,
                    RefreshStatus(run.status),
                    run.total,
                    run.updated,
                    run.failed,
                    run.id in scheduled,
                    Platform(run.platform),
                    run.reason,
                    not_found.get(run.id, 0),
                )
                for run in runs
            ]

    async def stored_refresh(self, run: RefreshRunRow) -> RefreshSummary:
        """A past run's figures and per-artist results (sorted by name), as the results dialog shows them."""
        async with self._runtime.database.read_session() as session:
            rows = await repository.refresh_results(session, run.run_id)
            results = [
                RefreshResult(
                    row.artist_id, row.name, row.success, row.value, row.error, row.previous_value, row.not_found
                )
                for row in rows
            ]
        results.sort(key=lambda result: (result.name.casefold(), result.artist_id))
        source = next((source for source in self._sources() if source.name is run.source), None)
        label = source.label if source is not None else run.source.value
        headline = source.headline if source is not None else MetricType.FOLLOWERS
        return RefreshSummary(
            run.run_id,
            run.run_date,
            run.status,
            run.total,
            run.updated,
            run.failed,
            results,
            run.source,
            label,
            run.reason,
            headline,
        )

    # -- the daily collection and alerts -----------------------------------------------------------
    async def collect_metrics(self) -> Collected:
        """The daily collection: every metric source refreshed at once, then alert detection on the recent days.
        Raises as `refresh_metrics` (`NothingToRefresh` when no source has an artist, ...)."""
        summary = await self.refresh_metrics()
        outcome = "; ".join(
            f"{run.label}: {run.counts_text()} (of {run.total})"
            if run.status is not RefreshStatus.SKIPPED
            else f"{run.label}: skipped ({run.reason})"
            for run in summary.runs
            if run.run_id is not None  # a source with no artist to refresh has nothing to say
        )
        run_ids = tuple(run.run_id for run in summary.runs if run.run_id is not None)
        try:
            detection = await self.detect_alerts(since=utcnow().date() - timedelta(days=ALERT_RECHECK_DAYS))
        except Exception:  # the figures are stored: the collection stands without its alerts
            log.exception("alert detection after the collection failed")
            return Collected(f"{outcome}; alerts not checked (see the log)", run_ids)
        return Collected(outcome, run_ids, len(detection.new))

    async def detect_alerts(self, since: date | None = None) -> Detection:
        """Judge every artist's daily changes from ``since`` on (None: the whole history) with the settings'
        thresholds and store the alerts (see `metrics.alerts`); returns what is new."""
        rule = AlertRule(self.settings.alert_threshold, self.settings.alert_min_change_percent)
        return await detect_alerts(self._runtime.database, rule, since=since)

    async def alerts(self, since: date | None = None, include_dismissed: bool = False) -> list[Alert]:
        """Stored alerts of days from ``since`` on (None: all), newest day first, then by artist."""
        async with self._runtime.database.read_session() as session:
            return [alert_of(row) for row in await alerts.list_alerts(session, since, include_dismissed)]

    async def dismiss_alerts(self, alert_ids: Sequence[int]) -> int:
        """Hide these alerts (they stay dismissed when detection runs again); returns how many changed."""
        async with self._runtime.database.session() as session, session.begin():
            return await alerts.dismiss(session, alert_ids)

    async def schedule_status(self) -> ScheduleStatus:
        """The daily collection's next run and last outcome (whichever process ran it)."""
        last = await last_run(self._runtime.database)
        if not self.settings.collect_daily:
            return ScheduleStatus(False, None, last)
        now = datetime.now().astimezone()
        settled = last is not None and last.day == now.date() and last.status.settles_day
        return ScheduleStatus(True, next_run(now, self.settings.collect_time, settled), last)

    # -- status ---------------------------------------------------------------------------------
    async def health(self) -> Health:
        """Redis and database reachability, where they are, team mode and live workers (the status bar)."""
        return await self._runtime.health()

    @property
    def stream_url(self) -> str | None:
        """The progress stream's address for browsers and scripts; None when this process serves none."""
        sse = self._runtime.sse
        return f"{sse.url}/api/artists/progress" if sse is not None and sse.running else None

    @property
    def dashboard_url(self) -> str | None:
        """The live dashboard page (names, stages, totals) for a browser, with the access token when one is set;
        None when this process serves none."""
        sse = self._runtime.sse
        if sse is None or not sse.running:
            return None
        token = self.settings.sse_token.get_secret_value()
        return f"{sse.url}/" + (f"?token={quote(token)}" if token else "")

    @property
    def stream_port_taken(self) -> tuple[int, str] | None:
        """``(configured port, address used instead)`` when the configured SSE port was taken at start."""
        sse = self._runtime.sse
        if sse is None or not sse.port_was_taken:
            return None
        return self.settings.sse_port, sse.url


def _delete_cached_files(media_dir: Path, paths: Iterable[str]) -> None:
    """Delete cached files no artist uses any more; only inside the media cache (a path elsewhere is left)."""
    root = media_dir.resolve()
    for text in paths:
        path = Path(text).resolve()
        if not path.is_relative_to(root):
            log.warning("not deleting %s: it is outside the media cache %s", path, root)
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not delete the cached file %s: %s", path, exc)
