"""The local API double: a real HTTP server on 127.0.0.1 speaking Spotify, Deezer and MusicBrainz.

One Starlette app served by uvicorn, with a prefix per service::

    /spotify-accounts/api/token          Spotify Client Credentials (Basic auth)
    /spotify/v1/search, /artists, /artists/{id}, /artists/{id}/top-tracks
    /deezer/artist/{id}, /deezer/artist/{id}/top, /deezer/search/artist
    /musicbrainz/ws/2/url, /musicbrainz/ws/2/artist/{mbid}, /musicbrainz/ws/2/artist?query=arid:...
    /images/{key}-{size}.png             artwork drawn by the double itself
    /health                              {"status": "ok", "artists": <catalog size>}

It serves the bundled sample catalog with the documented answer and error shapes (``shared/api-facts.md``).
This module is the public entry point: the server (:class:`ApiDouble`), its start-up knobs
(:class:`DoubleConfig`), where it answers (:class:`DoubleUrls`) and the command line (:func:`main`). Each
service lives in its own module, on plumbing shared through one core:

- :mod:`~artist_desktop.devtools.double_core`: counters, sliding windows, injected faults, the request path;
- :mod:`~artist_desktop.devtools.double_spotify`: tokens, search, artists, top tracks; Development Mode
  (the default) or Extended Quota Mode, Premium and the quota;
- :mod:`~artist_desktop.devtools.double_deezer`: artists, search, top tracks; error code 4 past 50 requests
  in 5 s;
- :mod:`~artist_desktop.devtools.double_musicbrainz`: URL lookups (one or up to 100 at once), artist details,
  ``arid:`` searches; 503 past 1/s unless ``musicbrainz_rate=None``;
- :mod:`~artist_desktop.devtools.double_images`: PNG artwork for every picture and cover URL.

Knobs for tests are methods of :class:`ApiDouble`: faults (:meth:`~ApiDouble.inject`, image faults, token
expiry), data overrides, the Spotify profile, Premium and quota, rates, latency, and request counters.

Run it alone with ``python -m artist_desktop.devtools.api_double --port 8900``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, load_catalog
from artist_desktop.devtools.double_core import (
    DEEZER,
    IMAGES,
    LASTFM,
    LISTENBRAINZ,
    MUSICBRAINZ,
    REMOVE,
    SERVICES,
    SPOTIFY,
    SPOTIFY_ACCOUNTS,
    WIKIDATA,
    WIKIMEDIA,
    DoubleCore,
    Fault,
)
from artist_desktop.devtools.double_deezer import DeezerDouble
from artist_desktop.devtools.double_images import IMAGE_SIZES, ImageFault, ImagesDouble
from artist_desktop.devtools.double_lastfm import LastfmDouble
from artist_desktop.devtools.double_listenbrainz import ListenBrainzDouble
from artist_desktop.devtools.double_musicbrainz import MusicBrainzDouble
from artist_desktop.devtools.double_spotify import SPOTIFY_PROFILES, SpotifyDouble, SpotifyProfile
from artist_desktop.devtools.double_wikimedia import WikimediaDouble

DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"
#: The Last.fm API key the double accepts (any other answers error 10, "Invalid API key").
DEMO_LASTFM_API_KEY = "demo-lastfm-key"
#: The contact the double's settings carry (the double only refuses generic User-Agents, as MetaBrainz does).
DEMO_CONTACT = "demo@artist-desktop.invalid"


@dataclass(slots=True)
class DoubleConfig:
    """Start-up knobs. Rate limits are ``(requests, seconds)`` sliding windows, or None for no limit."""

    host: str = "127.0.0.1"
    port: int = 0
    #: Seconds added to every request (a slow network).
    latency: float = 0.0
    catalog_path: Path | None = None
    #: Accepted Spotify client id/secret; None accepts any non-empty pair.
    spotify_credentials: tuple[str, str] | None = None
    spotify_token_ttl: int = 3600
    #: "development": every Spotify app created since 2026-02-11 (the default); "extended": Extended Quota
    #: Mode and grandfathered apps, the 2024 API. See :mod:`~artist_desktop.devtools.double_spotify`.
    spotify_profile: SpotifyProfile = "development"
    #: Spotify's Development Mode quota ``(requests, retry_after seconds)``: past ``requests`` admitted Web
    #: API calls, 429 QUOTA_EXCEEDED with Retry-After until ``retry_after`` s have passed. None: no quota.
    spotify_quota: tuple[int, float] | None = None
    spotify_rate: tuple[int, float] | None = (1000, 30.0)
    deezer_quota: tuple[int, float] | None = (50, 5.0)
    #: Deezer fan counts move day by day from the catalog's (the demo's double); off: the catalog's as they are.
    deezer_daily_fans: bool = False
    #: MusicBrainz's real pace, 1 request/s (503 with Retry-After past it); None turns it off for tests and
    #: demos that need speed (they say so, as a test needing the 2024 Spotify API asks for "extended").
    musicbrainz_rate: tuple[int, float] | None = (1, 1.0)
    #: The audience sources' documented (or planned-for) limits: Wikimedia/Wikidata ~200/min with a proper
    #: User-Agent, Last.fm 5/s (its old terms), ListenBrainz ~30 per 10 s.
    wikimedia_rate: tuple[int, float] | None = (200, 60.0)
    wikidata_rate: tuple[int, float] | None = (200, 60.0)
    lastfm_rate: tuple[int, float] | None = (5, 1.0)
    listenbrainz_rate: tuple[int, float] | None = (30, 10.0)


@dataclass(frozen=True, slots=True)
class DoubleUrls:
    """Where the double answers; the field names are the Settings names."""

    base_url: str
    spotify_api_url: str
    spotify_accounts_url: str
    deezer_api_url: str
    musicbrainz_api_url: str
    images_url: str
    demo_credentials: tuple[str, str]
    wikidata_api_url: str = ""
    wikimedia_api_url: str = ""
    lastfm_api_url: str = ""
    listenbrainz_api_url: str = ""

    def as_settings(self, *, include_credentials: bool = True) -> dict[str, str]:
        """Overrides for ``load_settings(**...)`` that point the app at the double."""
        values = {
            "spotify_api_url": self.spotify_api_url,
            "spotify_accounts_url": self.spotify_accounts_url,
            "deezer_api_url": self.deezer_api_url,
            "musicbrainz_api_url": self.musicbrainz_api_url,
            "wikidata_api_url": self.wikidata_api_url,
            "wikimedia_api_url": self.wikimedia_api_url,
            "lastfm_api_url": self.lastfm_api_url,
            "listenbrainz_api_url": self.listenbrainz_api_url,
        }
        if include_credentials:
            values["spotify_client_id"], values["spotify_client_secret"] = self.demo_credentials
            values["lastfm_api_key"] = DEMO_LASTFM_API_KEY
            values["contact"] = DEMO_CONTACT
        return values

    def as_env(self) -> dict[str, str]:
        """The same as ``ARTIST_DESKTOP_*`` environment variables (for another process)."""
        return {f"ARTIST_DESKTOP_{key.upper()}": value for key, value in self.as_settings().items()}


class ApiDouble:
    """The double's server and its knobs. ``async start()``/``stop()`` on the running loop, or
    ``start_in_thread()``/``stop_thread()`` with a private SelectorEventLoop (GUI, ``--demo``, sync tests).
    Every knob may be called from any thread while the server runs; it applies from the next request on.
    """

    def __init__(self, config: DoubleConfig | None = None, *, catalog: Catalog | None = None) -> None:
        self.config = config if config is not None else DoubleConfig()
        self.catalog = catalog if catalog is not None else load_catalog(self.config.catalog_path)
        self._core = DoubleCore(self.config)
        self._spotify = SpotifyDouble(
            self._core,
            self.catalog,
            credentials=self.config.spotify_credentials,
            token_ttl=self.config.spotify_token_ttl,
            profile=self.config.spotify_profile,
            quota=self.config.spotify_quota,
        )
        self._deezer = DeezerDouble(self._core, self.catalog, daily_fans=self.config.deezer_daily_fans)
        self._musicbrainz = MusicBrainzDouble(self._core, self.catalog)
        self._images = ImagesDouble(self._core)
        self._wikimedia = WikimediaDouble(self._core, self.catalog)
        self._lastfm = LastfmDouble(self._core, self.catalog)
        self._listenbrainz = ListenBrainzDouble(self._core, self.catalog)
        for service, rate in (
            (SPOTIFY, self.config.spotify_rate),
            (DEEZER, self.config.deezer_quota),
            (MUSICBRAINZ, self.config.musicbrainz_rate),
            (WIKIMEDIA, self.config.wikimedia_rate),
            (WIKIDATA, self.config.wikidata_rate),
            (LASTFM, self.config.lastfm_rate),
            (LISTENBRAINZ, self.config.listenbrainz_rate),
        ):
            self.set_rate_limit(service, rate)
        self.app = Starlette(
            routes=[
                *self._spotify.routes(),
                *self._deezer.routes(),
                *self._musicbrainz.routes(),
                *self._images.routes(),
                *self._wikimedia.routes(),
                *self._lastfm.routes(),
                *self._listenbrainz.routes(),
                Route("/health", self._health),
            ]
        )
        self._server: _Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread_stop: asyncio.Event | None = None
        self._urls: DoubleUrls | None = None

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "artists": len(self.catalog.artists)})

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def urls(self) -> DoubleUrls:
        if self._urls is None:
            raise RuntimeError("the API double is not running: call start() or start_in_thread() first")
        return self._urls

    @property
    def port(self) -> int:
        return int(self.urls.base_url.rsplit(":", 1)[1])

    @property
    def wikimedia(self) -> WikimediaDouble:
        """Wikidata and Wikimedia pageviews: their own knobs live there."""
        return self._wikimedia

    @property
    def lastfm(self) -> LastfmDouble:
        """Last.fm: its own knobs live there."""
        return self._lastfm

    @property
    def listenbrainz(self) -> ListenBrainzDouble:
        """ListenBrainz: its own knobs live there."""
        return self._listenbrainz

    @property
    def demo_credentials(self) -> tuple[str, str]:
        return self.config.spotify_credentials or (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)

    async def start(self) -> DoubleUrls:
        """Bind (port 0: a free port) and serve on the running loop; returns the URLs."""
        if self._serve_task is not None:
            return self.urls
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError:
            sock.close()
            raise
        sock.set_inheritable(True)
        self._socket = sock
        host, port = sock.getsockname()[:2]
        base = f"http://{host}:{port}"
        self._urls = DoubleUrls(
            base_url=base,
            spotify_api_url=f"{base}/spotify/v1",
            spotify_accounts_url=f"{base}/spotify-accounts",
            deezer_api_url=f"{base}/deezer",
            musicbrainz_api_url=f"{base}/musicbrainz/ws/2",
            images_url=f"{base}/images",
            demo_credentials=self.demo_credentials,
            wikidata_api_url=f"{base}/wikidata",
            wikimedia_api_url=f"{base}/wikimedia",
            lastfm_api_url=f"{base}/lastfm",
            listenbrainz_api_url=f"{base}/listenbrainz",
        )
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            log_level="warning",
        )
        self._server = _Server(config)
        self._serve_task = asyncio.create_task(self._server.serve(sockets=[sock]), name="api-double")
        while not self._server.started:
            if self._serve_task.done():
                self._serve_task.result()
                raise RuntimeError("the API double stopped while starting")
            await asyncio.sleep(0.005)
        return self._urls

    async def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        server, task = self._server, self._serve_task
        self._server = self._serve_task = None
        if server is not None and task is not None:
            server.should_exit = True
            await task
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    async def __aenter__(self) -> ApiDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 10.0) -> DoubleUrls:
        """Serve from a background thread with its own SelectorEventLoop (safe under qasync)."""
        if self._thread is not None:
            return self.urls
        ready = threading.Event()
        failure: list[BaseException] = []

        async def serve() -> None:
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            try:
                await self._thread_stop.wait()
            finally:
                await self.stop()

        def run() -> None:
            loop = asyncio.SelectorEventLoop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(serve())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="api-double", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"the API double did not start within {timeout:g} s")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self.urls

    def stop_thread(self, timeout: float = 10.0) -> None:
        """Stop the background server and wait for its thread (idempotent)."""
        thread, loop, stop = self._thread, self._thread_loop, self._thread_stop
        if thread is None or loop is None or stop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> ApiDouble:
        self.start_in_thread()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()

    # -- knobs: faults, rates, latency -----------------------------------------------------------

    def inject(self, service: str, match: str | int, fault: Fault, times: int | None = 1) -> None:
        """Answer requests of ``service`` whose id or sub-path equals ``match`` ("*": all) with ``fault``,
        ``times`` times (None: until :meth:`clear_faults`)."""
        self._core.inject(service, match, fault, times)

    def clear_faults(self) -> None:
        """Drop injected faults and image faults (profile, Premium and quota stay as set)."""
        self._core.clear_injections()
        self._images.clear_faults()

    def set_latency(self, seconds: float) -> None:
        """Seconds every request waits before its answer."""
        self.config.latency = seconds

    def set_rate_limit(self, service: str, rate: tuple[int, float] | None) -> None:
        """Change a service's sliding-window limit (None: unlimited); counting starts afresh."""
        self._core.set_rate_limit(service, rate)

    def set_image_fault(self, key: str, kind: ImageFault) -> None:
        """Images of ``key`` (a Spotify artist/album id, ``dz<Deezer artist id>`` or ``dzalbum<Deezer album
        id>``): "missing" (404), "not_image" (200 text/html) or "rate_limited" (429, Retry-After a day)."""
        self._images.set_fault(key, kind)

    # -- knobs: Spotify --------------------------------------------------------------------------

    @property
    def spotify_profile(self) -> SpotifyProfile:
        """The Spotify profile answering now ("development" or "extended")."""
        return self._spotify.profile

    def set_spotify_profile(self, profile: SpotifyProfile) -> None:
        """Answer as a Spotify app in ``"development"`` mode (search limit 1..10 default 5, no followers or
        popularity, 403 for top tracks and ``?ids=``, null search entries) or ``"extended"`` mode (the 2024
        API), from the next request on."""
        self._spotify.set_profile(profile)

    def set_spotify_premium(self, premium: bool) -> None:
        """False: the app owner lost Premium; every Web API call answers 403 ``{"error": {"status": 403,
        "message": "Active premium subscription required for the owner of the app. ..."}}``. The token
        endpoint still works. True: normal answers again."""
        self._spotify.set_premium(premium)

    def set_spotify_quota(self, requests: int | None, retry_after: float = 86_400.0) -> None:
        """Spotify's Development Mode quota: after ``requests`` admitted Web API calls (token requests and
        calls refused before the quota do not count), every call answers 429 ``{"error": {"status": 429,
        "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}`` with ``Retry-After`` the whole seconds
        left, each counted in ``rejections("spotify")``. ``retry_after`` seconds after the first refusal a
        fresh allowance of ``requests`` starts. None: no quota. Counting starts afresh."""
        self._spotify.set_quota(requests, retry_after)

    def set_spotify_search_nulls(self, positions: Iterable[int] | None = None, *, items_null: bool = False) -> None:
        """Where search pages put ``null`` entries: at these absolute 0-based result positions, each only when
        a real artist follows it (counted in ``total`` and the page size, hiding no artist); None: the
        profile's default (development ``(3,)``: a null fourth whenever at least 4 artists match; extended
        none); ``()``: none. ``items_null=True`` makes ``items`` itself null on every search page."""
        self._spotify.set_search_nulls(positions, items_null=items_null)

    def override_spotify_artist(self, spotify_id: str, **fields: Any) -> None:
        """Replace fields of a Spotify artist answer; ``REMOVE`` leaves one out (genres=REMOVE). Development
        Mode still leaves ``followers`` and ``popularity`` out."""
        self._spotify.override_artist(spotify_id, **fields)

    def forget_spotify_artist(self, spotify_id: str) -> None:
        """Spotify no longer knows this id (404, null in batches, left out of search)."""
        self._spotify.forget_artist(spotify_id)

    def expire_spotify_tokens(self) -> None:
        """Every token handed out so far now answers 401 "The access token expired"."""
        self._spotify.expire_tokens()

    # -- knobs: Deezer ---------------------------------------------------------------------------

    def override_deezer_artist(self, deezer_id: int, **fields: Any) -> None:
        """Replace fields of a Deezer artist answer, e.g. ``nb_fan="12"``, ``-5`` or ``REMOVE``."""
        self._deezer.override_artist(deezer_id, **fields)

    def set_deezer_top_strings(self, deezer_id: int, strings: bool = True) -> None:
        """The artist's ``/artist/{id}/top`` gives ids (track, artist, album) and ``rank`` as JSON strings
        (``"rank": "654321"``, ``"id": "123"``), as some real samples do; False: numbers again."""
        self._deezer.set_top_strings(deezer_id, strings)

    # -- counters --------------------------------------------------------------------------------

    def request_count(self, service: str | None = None, path: str | None = None, *, prefix: str | None = None) -> int:
        """Requests received: all, per service, per exact sub-path below the service's prefix
        (``request_count("spotify", "/artists/<id>")``, ``request_count("deezer", "/artist/27/top")``), or per
        sub-path prefix (``request_count("spotify", prefix="/artists/")``: every ``/artists/{id}`` and
        ``/artists/{id}/top-tracks`` call; ``prefix="/artists"`` also counts ``/artists?ids=``)."""
        return self._core.request_count(service, path, prefix=prefix)

    def rejections(self, service: str) -> int:
        """Requests refused for being over a quota or rate (Deezer code 4, Spotify 429 from the rate window
        or the quota, MusicBrainz 503)."""
        return self._core.rejections(service)

    def last_user_agent(self, service: str) -> str | None:
        """The User-Agent of the service's latest request (None before any)."""
        return self._core.last_user_agent(service)

    def reset_counters(self) -> None:
        """Zero request and rejection counters."""
        self._core.reset_counters()


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the app (or the test) owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _parse_rate(value: str) -> tuple[int, float] | None:
    """``"50/5"`` -> (50, 5.0); ``"off"`` -> None."""
    if value.lower() in ("off", "none", "0"):
        return None
    count, _, period = value.partition("/")
    return int(count), float(period or 1)


def main(argv: list[str] | None = None) -> int:
    """Run the double in the foreground until Ctrl-C; print the settings that point the app at it."""
    parser = argparse.ArgumentParser(
        prog="python -m artist_desktop.devtools.api_double",
        description="Local double of the Spotify, Deezer and MusicBrainz APIs serving the sample catalog.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free port)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument(
        "--spotify-profile",
        choices=SPOTIFY_PROFILES,
        default="development",
        help="development (apps created since 2026-02-11, the default) or extended (Extended Quota Mode)",
    )
    parser.add_argument(
        "--spotify-quota",
        default="off",
        metavar="N/SECONDS",
        help="Spotify Development Mode quota: requests/retry-after seconds, or off (default off; real: hours)",
    )
    parser.add_argument("--deezer-quota", default="50/5", help="requests/seconds, or off (default 50/5)")
    parser.add_argument("--spotify-rate", default="1000/30", help="requests/seconds, or off (default 1000/30)")
    parser.add_argument("--musicbrainz-rate", default="1/1", help="requests/seconds, or off (default 1/1)")
    args = parser.parse_args(argv)
    try:
        config = DoubleConfig(
            host=args.host,
            port=args.port,
            latency=args.latency,
            spotify_profile=args.spotify_profile,
            spotify_quota=_parse_rate(args.spotify_quota),
            deezer_quota=_parse_rate(args.deezer_quota),
            spotify_rate=_parse_rate(args.spotify_rate),
            musicbrainz_rate=_parse_rate(args.musicbrainz_rate),
        )
    except ValueError as exc:
        parser.error(f"bad rate (use N/SECONDS or off): {exc}")

    async def run() -> None:
        double = ApiDouble(config)
        urls = await double.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows
                loop.add_signal_handler(sig, stop.set)
        quota = config.spotify_quota
        print(
            f"API double listening on {urls.base_url} ({len(double.catalog.artists)} sample artists; "
            f"Spotify {config.spotify_profile} mode, quota "
            f"{f'{quota[0]} requests then {quota[1]:g} s' if quota else 'off'})"
        )
        for name, value in urls.as_env().items():
            print(f"{name}={value}")
        sys.stdout.flush()
        try:
            await stop.wait()
        finally:
            await double.stop()
        print("API double stopped")

    asyncio.run(run())
    return 0


__all__ = [
    "DEEZER",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "IMAGES",
    "IMAGE_SIZES",
    "MUSICBRAINZ",
    "REMOVE",
    "SERVICES",
    "SPOTIFY",
    "SPOTIFY_ACCOUNTS",
    "SPOTIFY_PROFILES",
    "ApiDouble",
    "DoubleConfig",
    "DoubleUrls",
    "Fault",
    "SpotifyProfile",
    "main",
]

if __name__ == "__main__":
    raise SystemExit(main())
