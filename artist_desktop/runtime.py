"""The headless runtime: starts settings -> Redis -> database -> API clients -> pipeline -> SSE, stops them in reverse.

`Runtime` is the one composition root. The window (`artist_desktop.gui`), `serve` and every command-line
command start it the same way and use what it built through `Runtime.application`, the use-cases of
`artist_desktop.application`. It never imports Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from artist_desktop.application import Application, Health
from artist_desktop.bus import ProgressBus, SharedEmbeddedRedis, WorkerRegistry, connect_redis
from artist_desktop.config import Settings, with_overrides
from artist_desktop.domain import utcnow
from artist_desktop.store import Database, DatabaseOpenError, open_database

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from artist_desktop.pipeline.runner import BatchRunner
    from artist_desktop.services import ServiceClients
    from artist_desktop.sse import SseServer

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A part could not start; the message is one sentence naming the file or host and what to do (the window
    shows it, commands print it and exit 1; the original error is the ``__cause__``, logged to the file)."""


@contextlib.asynccontextmanager
async def demo_backend(settings: Settings) -> AsyncIterator[Settings]:
    """In demo mode, run the bundled API double and yield settings pointed at it; else `settings` as is."""
    if not settings.demo:
        yield settings
        return
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig

    # Demo imports stay quick: the demo's MusicBrainz gate is looser than 1/s (services.DEMO_MUSICBRAINZ_QUOTA).
    # Deezer's fan counts move day by day, so a refresh tomorrow shows a change.
    double = ApiDouble(DoubleConfig(musicbrainz_rate=None, deezer_daily_fans=True))
    await asyncio.to_thread(double.start_in_thread)
    try:
        log.info("demo mode: API double at %s", double.urls.deezer_api_url)
        yield with_overrides(settings, **double.urls.as_settings())
    finally:
        await asyncio.to_thread(double.stop_thread)


class Runtime:
    """Starts the app's parts in dependency order and stops them in reverse, even after a failure.

    Used as ``async with Runtime(settings) as runtime:``; `application` is the surface callers use, the
    parts (`bus`, `database`, `clients`, `runner`) are there for that surface and for tests.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        clients: ServiceClients | None = None,
        with_sse: bool = False,
        demo_history: bool = False,
        schedule: bool = False,
    ) -> None:
        """`clients` replaces the API clients the settings would build (tests and benchmarks tune them);
        `with_sse` serves the progress stream (the window and `serve`; not one-shot commands); `demo_history`
        in demo mode loads the catalog's 90 days of figures on the first start (the window;
        `artist_desktop.devtools.demo_history`); `schedule` runs the daily collection when the settings ask for it
        (``collect_daily``; the window and `serve`, not one-shot commands: `artist_desktop.sources.schedule`)."""
        self.settings = settings
        self._given_clients = clients
        self._with_sse = with_sse
        self._demo_history = demo_history
        self._schedule = schedule
        self._schedule_task: asyncio.Task[None] | None = None
        self._sse: SseServer | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._embedded: SharedEmbeddedRedis | None = None
        self._redis: Redis | None = None
        self._bus: ProgressBus | None = None
        self._workers: WorkerRegistry | None = None
        self._database: Database | None = None
        self._clients: ServiceClients | None = None
        self._runner: BatchRunner | None = None
        self._application: Application | None = None
        self.redis_url = ""

    # The parts, available once started.
    @property
    def bus(self) -> ProgressBus:
        assert self._bus is not None, "Runtime.start() first"
        return self._bus

    @property
    def database(self) -> Database:
        assert self._database is not None, "Runtime.start() first"
        return self._database

    @property
    def clients(self) -> ServiceClients:
        assert self._clients is not None, "Runtime.start() first"
        return self._clients

    @property
    def runner(self) -> BatchRunner:
        assert self._runner is not None, "Runtime.start() first"
        return self._runner

    @property
    def application(self) -> Application:
        """The use-cases the window and the commands call, on the parts this runtime started."""
        assert self._application is not None, "Runtime.start() first"
        return self._application

    async def start(self) -> None:
        async with contextlib.AsyncExitStack() as stack:
            settings = self.settings = await stack.enter_async_context(demo_backend(self.settings))
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.redis_url = settings.redis_url
            if not self.redis_url:
                # One server per data dir: the window, `import` and `serve` share it (bus.embedded).
                self._embedded = SharedEmbeddedRedis(settings.data_dir / "redis")
                try:
                    self.redis_url = await self._embedded.start()
                except (OSError, RuntimeError) as exc:
                    raise StartupError(f"The app's own Redis could not start: {exc}") from exc
                stack.push_async_callback(self._embedded.stop)
            self._redis = connect_redis(self.redis_url, connect_timeout=settings.connect_timeout)
            stack.push_async_callback(self._redis.aclose)
            try:
                async with asyncio.timeout(settings.connect_timeout):  # a server that accepts and never answers
                    await self._redis.ping()  # type: ignore[misc]  # redis-py types ping() as "Awaitable[bool] | bool"
            except (RedisError, OSError, TimeoutError) as exc:
                where = "The app's own Redis" if self._embedded else f"Redis at {_display_url(self.redis_url)}"
                reason = f"no answer within {settings.connect_timeout:g} s" if isinstance(exc, TimeoutError) else exc
                raise StartupError(
                    f"{where} does not answer ({reason}): start it, or remove REDIS_URL to use the app's own."
                ) from exc
            self._bus = ProgressBus(self._redis, settings.redis_prefix)
            self._workers = WorkerRegistry(self._redis, settings.redis_prefix)
            try:
                self._database = await open_database(
                    settings.effective_database_url, connect_timeout=settings.connect_timeout
                )
            except DatabaseOpenError as exc:
                raise StartupError(str(exc)) from exc
            stack.push_async_callback(self._database.dispose)
            if settings.demo and self._demo_history:
                await self._load_demo_history(settings)
            self._clients = self._given_clients or await self._build_clients(settings)
            stack.push_async_callback(self._clients.aclose)
            await self._hold_back_paused_services(self._clients)
            from artist_desktop.pipeline.media_cache import MediaCache
            from artist_desktop.pipeline.runner import BatchRunner
            from artist_desktop.services import build_image_client

            images = build_image_client(settings, redis=self._redis)
            stack.push_async_callback(images.aclose)
            self._runner = BatchRunner(
                self._database,
                self._bus,
                self._clients,
                images,
                MediaCache(settings.media_dir),
                concurrency=settings.concurrency,
                job_timeout=settings.job_timeout,
                registry=self._workers,
                worker=f"{settings.worker_name}:{os.getpid()}" if settings.worker_name else None,
            )
            stack.push_async_callback(self._runner.stop)
            if self._with_sse:
                await self._start_sse(stack)
            self._application = Application(self)
            if self._schedule and settings.collect_daily:
                self._start_schedule(stack, self._application)
            self._stack = stack.pop_all()

    def _start_schedule(self, stack: contextlib.AsyncExitStack, application: Application) -> None:
        """The daily collection, as a task stopped first at shutdown (a run under way is marked cancelled)."""
        from artist_desktop.sources.schedule import DailySchedule

        schedule = DailySchedule(self.database, application.collect_metrics, self.settings.collect_time)
        task = asyncio.create_task(schedule.run_forever(), name="daily-collection")
        self._schedule_task = task

        async def stop() -> None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._schedule_task = None

        stack.push_async_callback(stop)

    @property
    def schedule_running(self) -> bool:
        """This process runs the daily collection's schedule."""
        return self._schedule_task is not None and not self._schedule_task.done()

    async def _load_demo_history(self, settings: Settings) -> None:
        """The demo catalog's daily figures, its artists and their pictures, once (see `seed_demo_history`)."""
        from artist_desktop.devtools._catalog import load_catalog
        from artist_desktop.devtools.demo_history import seed_demo_history
        from artist_desktop.pipeline.media_cache import MediaCache

        catalog = await asyncio.to_thread(load_catalog)
        media = MediaCache(settings.media_dir)
        await seed_demo_history(self.database, catalog, media, spotify_api_url=settings.spotify_api_url)

    async def _build_clients(self, settings: Settings) -> ServiceClients:
        """The API clients, with the disk cache and what earlier runs learnt about the Spotify app."""
        from artist_desktop.domain import SpotifyCapabilities
        from artist_desktop.services import build_clients, http_cache_dir
        from artist_desktop.store import service_state

        database = self.database
        account = f"spotify:{settings.spotify_client_id}"
        async with database.session() as session:
            stored = await service_state.load_capabilities(session, account)

        async def remember(capabilities: SpotifyCapabilities) -> None:
            async with database.session() as session, session.begin():
                await service_state.save_capabilities(session, account, capabilities.to_dict())

        return build_clients(
            settings,
            cache_dir=http_cache_dir(settings),
            spotify_capabilities=SpotifyCapabilities.from_dict(stored) if stored else None,
            on_spotify_capabilities_changed=remember,
            redis=self._redis,  # every gate shared with the other processes on this Redis
        )

    async def _hold_back_paused_services(self, clients: ServiceClients) -> None:
        """A Spotify pause recorded by an earlier run or another process holds this one's client back too."""
        from artist_desktop.pipeline.stages import SPOTIFY
        from artist_desktop.store import service_state

        async with self.database.session() as session:
            pause = await service_state.active_pause(session, SPOTIFY)
        if pause is not None:
            clients.spotify.gate.close_for((pause.resume_at - utcnow()).total_seconds(), pause.reason or None)

    @property
    def sse(self) -> SseServer | None:
        """The progress stream server, when this instance serves one."""
        return self._sse

    async def _start_sse(self, stack: contextlib.AsyncExitStack) -> None:
        from artist_desktop.sse import SseServer, create_app
        from artist_desktop.sse.server import SseServerError, check_exposure

        settings = self.settings
        try:
            check_exposure(settings.sse_host, settings.sse_token.get_secret_value())
        except SseServerError as exc:
            raise StartupError(str(exc)) from exc
        stop_event = asyncio.Event()
        app = create_app(
            self.bus,
            health=self._health_fields,
            token=settings.sse_token.get_secret_value() or None,
            cors_origins=settings.sse_cors_origins,
            stop_event=stop_event,
            names=self._job_names,
            max_connections=settings.sse_max_connections or None,
        )
        self._sse = SseServer(app, stop_event, max_connections=settings.sse_max_connections or None)
        await self._sse.start(settings.sse_host, settings.sse_port)
        stack.push_async_callback(self._sse.stop)
        if self._sse.port_was_taken:
            log.warning("port %d is taken; the progress stream is at %s", settings.sse_port, self._sse.url)

    async def _job_names(self, spotify_ids: list[str]) -> dict[str, str]:
        """The dashboard's names (the SSE server starts before the application exists: none until then)."""
        return await self._application.job_names(spotify_ids) if self._application is not None else {}

    async def _health_fields(self) -> dict[str, object]:
        health = await self.health()
        return {"database": health.database_ok, "redis": health.redis_ok, "demo": health.demo, "worker": health.worker}

    async def stop(self) -> None:
        """Stop every part that started, in reverse order; a failing step is logged and the rest still run."""
        stack, self._stack = self._stack, None
        if stack is not None:
            try:
                await stack.aclose()
            except Exception:
                log.exception("shutting down failed")
        self._clients = self._database = self._redis = self._embedded = self._bus = self._runner = None
        self._sse = self._application = None

    async def live_workers(self) -> list[str]:
        """Import workers that announced themselves within the job timeout (this one included)."""
        if self._workers is None:
            return []
        try:
            return await self._workers.live_workers()
        except Exception:
            return []

    async def health(self) -> Health:
        redis_ok = False
        if self._bus is not None:
            with contextlib.suppress(Exception):
                redis_ok = await asyncio.wait_for(self._bus.ping(), 2)
        database_ok = False
        if self._database is not None:
            with contextlib.suppress(Exception):
                database_ok = await asyncio.wait_for(self._database.ping(), 2)
        return Health(
            redis_ok=redis_ok,
            redis_where="embedded" if self._embedded else _display_url(self.redis_url),
            database_ok=database_ok,
            database_where=self._database.url if self._database else "",
            demo=self.settings.demo,
            team_mode=self.settings.team_mode,
            database_host=self._database.engine.url.host or "" if self._database else "",
            live_workers=len(await self.live_workers()) if self.settings.team_mode else 0,
            worker=self._runner.loop_state().value if self._runner is not None and self._runner.started else "",
        )

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def _display_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"
