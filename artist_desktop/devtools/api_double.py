"""The local API double: a real HTTP server on 127.0.0.1 speaking Spotify, Deezer and MusicBrainz.

One Starlette app served by uvicorn, with a prefix per service::

    /spotify-accounts/api/token          Spotify Client Credentials (Basic auth)
    /spotify/v1/search, /artists, /artists/{id}, /artists/{id}/top-tracks
    /deezer/artist/{id}, /deezer/search/artist
    /musicbrainz/ws/2/url, /musicbrainz/ws/2/artist/{mbid}
    /images/{key}-{size}.png             artwork drawn by the double itself

It serves the bundled sample catalog with the documented answer and error shapes
(``api-facts.md``) and quotas: Deezer error code 4 past 50 requests in 5 s (sliding window),
Spotify 429 + Retry-After past its configured rate, MusicBrainz 503 past 1/s when enabled.
Knobs for tests: :class:`DoubleConfig`, :meth:`ApiDouble.inject` (per path or id faults, N times),
data overrides, image faults, token expiry, and request counters.

Run it alone with ``python -m artist_desktop.devtools.api_double --port 8900``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import math
import re
import secrets
import signal
import socket
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from artist_desktop.devtools._catalog import Catalog, CatalogArtist, load_catalog
from artist_desktop.devtools._png import artwork_png
from artist_desktop.domain import is_spotify_id

SPOTIFY = "spotify"
SPOTIFY_ACCOUNTS = "spotify-accounts"
DEEZER = "deezer"
MUSICBRAINZ = "musicbrainz"
IMAGES = "images"
SERVICES = (SPOTIFY, SPOTIFY_ACCOUNTS, DEEZER, MUSICBRAINZ, IMAGES)

DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"

#: Sizes the image route draws (Spotify 640/320/300/160/64, Deezer 56/250/500/1000).
IMAGE_SIZES = frozenset({56, 64, 160, 250, 300, 320, 500, 640, 1000})
_IMAGE_NAME = re.compile(r"^(?P<key>[A-Za-z0-9_]+)-(?P<size>\d+)\.png$")
_MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SPOTIFY_ARTIST_URL = re.compile(r"^https?://open\.spotify\.com/artist/(?P<id>[0-9A-Za-z]{22})/?$")

_DEEZER_ERRORS = {
    4: ("Exception", "Quota limit exceeded"),
    100: ("Exception", "An exception occurred"),
    600: ("InvalidQueryException", "Invalid query"),
    700: ("Exception", "Service busy"),
    800: ("DataException", "no data"),
}


class _Remove:
    """Marker: leave the field out of the answer."""

    def __repr__(self) -> str:
        return "REMOVE"


#: Pass as an override value to leave that field out of the answer (e.g. ``nb_fan=REMOVE``).
REMOVE: Any = _Remove()


@dataclass(frozen=True, slots=True)
class Fault:
    """A wrong answer to inject. With only ``delay`` set, the normal answer follows the stall."""

    status: int | None = None
    deezer_code: int | None = None
    body: str | None = None
    content_type: str = "application/json"
    retry_after: float | None = None
    delay: float = 0.0

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None) -> Fault:
        """An HTTP error in the service's documented error shape."""
        return cls(status=status, retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float = 1) -> Fault:
        """Spotify 429 / MusicBrainz 503 with Retry-After, or Deezer's code 4 (the service decides)."""
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def deezer(cls, code: int) -> Fault:
        """Deezer's HTTP-200 error object with this code (4 quota, 700 busy, 800 no data...)."""
        return cls(deezer_code=code)

    @classmethod
    def malformed(cls) -> Fault:
        """HTTP 200 whose body is cut-off JSON."""
        return cls(status=200, body='{"id": 1, "name": "Trunc')

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Stall before answering (for client timeouts)."""
        return cls(delay=seconds)


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
    spotify_rate: tuple[int, float] | None = (1000, 30.0)
    deezer_quota: tuple[int, float] | None = (50, 5.0)
    #: MusicBrainz's 1 request/s; off by default so demo imports are not slowed.
    musicbrainz_rate: tuple[int, float] | None = None


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

    def as_settings(self, *, include_credentials: bool = True) -> dict[str, str]:
        """Overrides for ``load_settings(**...)`` that point the app at the double."""
        values = {
            "spotify_api_url": self.spotify_api_url,
            "spotify_accounts_url": self.spotify_accounts_url,
            "deezer_api_url": self.deezer_api_url,
            "musicbrainz_api_url": self.musicbrainz_api_url,
        }
        if include_credentials:
            values["spotify_client_id"], values["spotify_client_secret"] = self.demo_credentials
        return values

    def as_env(self) -> dict[str, str]:
        """The same as ``ARTIST_DESKTOP_*`` environment variables (for another process)."""
        return {f"ARTIST_DESKTOP_{key.upper()}": value for key, value in self.as_settings().items()}


class _Window:
    """A sliding-window counter: at most ``limit`` admitted requests in any ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque()

    def admit(self) -> float | None:
        """None when admitted, else the seconds until a slot frees."""
        now = time.monotonic()
        while self._times and now - self._times[0] >= self.period:
            self._times.popleft()
        if len(self._times) >= self.limit:
            return self.period - (now - self._times[0])
        self._times.append(now)
        return None


@dataclass(slots=True)
class _Injection:
    service: str
    match: str
    fault: Fault
    remaining: int | None


@dataclass(slots=True)
class _State:
    """Everything tests may change at run time; guarded by ``lock`` (the server may run in a thread)."""

    config: DoubleConfig
    lock: threading.Lock = field(default_factory=threading.Lock)
    injections: list[_Injection] = field(default_factory=list)
    windows: dict[str, _Window] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    requests: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejections: Counter[str] = field(default_factory=Counter)
    user_agents: dict[str, str] = field(default_factory=dict)
    spotify_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    deezer_overrides: dict[int, dict[str, Any]] = field(default_factory=dict)
    unknown_spotify_ids: set[str] = field(default_factory=set)
    image_faults: dict[str, str] = field(default_factory=dict)


def _apply(data: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    if overrides:
        data.update(overrides)
    return {key: value for key, value in data.items() if value is not REMOVE}


class ApiDouble:
    """The double's server and its knobs. ``async start()``/``stop()`` on the running loop, or
    ``start_in_thread()``/``stop_thread()`` with a private SelectorEventLoop (GUI, ``--demo``, sync tests).
    """

    def __init__(self, config: DoubleConfig | None = None, *, catalog: Catalog | None = None) -> None:
        self.config = config if config is not None else DoubleConfig()
        self.catalog = catalog if catalog is not None else load_catalog(self.config.catalog_path)
        self._state = _State(self.config)
        for service, rate in (
            (SPOTIFY, self.config.spotify_rate),
            (DEEZER, self.config.deezer_quota),
            (MUSICBRAINZ, self.config.musicbrainz_rate),
        ):
            self.set_rate_limit(service, rate)
        self.app = self._build_app()
        self._server: _Server | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread_stop: asyncio.Event | None = None
        self._urls: DoubleUrls | None = None

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

    # -- knobs -----------------------------------------------------------------------------------

    def inject(self, service: str, match: str | int, fault: Fault, times: int | None = 1) -> None:
        """Answer requests of ``service`` whose id or sub-path equals ``match`` ("*": all) with ``fault``,
        ``times`` times (None: until :meth:`clear_faults`)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
        with self._state.lock:
            self._state.injections.append(_Injection(service, str(match), fault, times))

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.injections.clear()
            self._state.image_faults.clear()

    def set_latency(self, seconds: float) -> None:
        self.config.latency = seconds

    def set_rate_limit(self, service: str, rate: tuple[int, float] | None) -> None:
        """Change a service's sliding-window limit (None: unlimited); counting starts afresh."""
        with self._state.lock:
            if rate is None:
                self._state.windows.pop(service, None)
            else:
                self._state.windows[service] = _Window(*rate)

    def override_spotify_artist(self, spotify_id: str, **fields: Any) -> None:
        """Replace fields of a Spotify artist answer; ``REMOVE`` leaves one out (followers=REMOVE)."""
        with self._state.lock:
            self._state.spotify_overrides.setdefault(spotify_id, {}).update(fields)

    def override_deezer_artist(self, deezer_id: int, **fields: Any) -> None:
        """Replace fields of a Deezer artist answer, e.g. ``nb_fan="12"``, ``-5`` or ``REMOVE``."""
        with self._state.lock:
            self._state.deezer_overrides.setdefault(int(deezer_id), {}).update(fields)

    def forget_spotify_artist(self, spotify_id: str) -> None:
        """Spotify no longer knows this id (404, null in batches)."""
        with self._state.lock:
            self._state.unknown_spotify_ids.add(spotify_id)

    def set_image_fault(self, key: str, kind: str) -> None:
        """Images of ``key`` (a Spotify artist/album id, or ``dz<deezer id>``): "missing" (404) or
        "not_image" (200 text/html)."""
        if kind not in ("missing", "not_image"):
            raise ValueError(f"image fault must be 'missing' or 'not_image' (got {kind!r})")
        with self._state.lock:
            self._state.image_faults[key] = kind

    def expire_spotify_tokens(self) -> None:
        """Every token handed out so far now answers 401 "The access token expired"."""
        with self._state.lock:
            for token in self._state.tokens:
                self._state.tokens[token] = 0.0

    def request_count(self, service: str | None = None, path: str | None = None) -> int:
        """Requests received (all, per service, or per service and sub-path such as "/artist/27")."""
        with self._state.lock:
            return sum(
                n
                for (svc, sub), n in self._state.requests.items()
                if (service is None or svc == service) and (path is None or sub == path)
            )

    def rejections(self, service: str) -> int:
        """Requests refused for being over the quota/rate (Deezer code 4, Spotify 429, MusicBrainz 503)."""
        with self._state.lock:
            return self._state.rejections[service]

    def last_user_agent(self, service: str) -> str | None:
        with self._state.lock:
            return self._state.user_agents.get(service)

    def reset_counters(self) -> None:
        with self._state.lock:
            self._state.requests.clear()
            self._state.rejections.clear()

    # -- request plumbing ------------------------------------------------------------------------

    def _take_fault(self, service: str, keys: Iterable[str]) -> Fault | None:
        wanted = set(keys) | {"*"}
        with self._state.lock:
            for injection in self._state.injections:
                if injection.service == service and injection.match in wanted and injection.remaining != 0:
                    if injection.remaining is not None:
                        injection.remaining -= 1
                    return injection.fault
        return None

    def _over_limit(self, service: str) -> float | None:
        with self._state.lock:
            window = self._state.windows.get(service)
            wait = window.admit() if window is not None else None
            if wait is not None:
                self._state.rejections[service] += 1
            return wait

    async def _serve(
        self,
        service: str,
        request: Request,
        keys: Iterable[str],
        answer: Callable[[], Awaitable[Response]],
    ) -> Response:
        """The path every request takes: count, latency, quota, injected fault, then the real answer."""
        sub_path = request.url.path.removeprefix(_PREFIXES[service])
        keys = [sub_path, *keys]
        with self._state.lock:
            self._state.requests[(service, sub_path)] += 1
            self._state.user_agents[service] = request.headers.get("user-agent", "")
        if self.config.latency > 0:
            await asyncio.sleep(self.config.latency)
        wait = self._over_limit(service) if service in (SPOTIFY, DEEZER, MUSICBRAINZ) else None
        if wait is not None:
            return _rate_limited(service, wait)
        fault = self._take_fault(service, keys)
        if fault is not None:
            if fault.delay > 0:
                await asyncio.sleep(fault.delay)
            response = _fault_response(service, fault)
            if response is not None:
                return response
        return await answer()

    # -- the app ---------------------------------------------------------------------------------

    def _build_app(self) -> Starlette:
        routes = [
            Route("/spotify-accounts/api/token", self._token, methods=["POST"]),
            Route("/spotify/v1/search", self._spotify_search),
            Route("/spotify/v1/artists", self._spotify_artists),
            Route("/spotify/v1/artists/{id}", self._spotify_artist),
            Route("/spotify/v1/artists/{id}/top-tracks", self._spotify_top_tracks),
            Route("/deezer/artist/{id}", self._deezer_artist),
            Route("/deezer/search/artist", self._deezer_search),
            Route("/musicbrainz/ws/2/url", self._mb_url),
            Route("/musicbrainz/ws/2/artist/{mbid}", self._mb_artist),
            Route("/images/{name}", self._image),
            Route("/health", self._health),
        ]
        return Starlette(routes=routes)

    async def _health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "artists": len(self.catalog.artists)})

    # Spotify accounts ---------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        async def answer() -> Response:
            # A urlencoded form, parsed by hand: Starlette's form parser needs python-multipart.
            form = parse_qs((await request.body()).decode("utf-8", "replace"))
            if form.get("grant_type") != ["client_credentials"]:
                return JSONResponse(
                    {
                        "error": "unsupported_grant_type",
                        "error_description": "grant_type parameter is missing",
                    },
                    status_code=400,
                )
            if not self._credentials_ok(request.headers.get("authorization", "")):
                return JSONResponse({"error": "invalid_client", "error_description": "Invalid client"}, 400)
            token = secrets.token_urlsafe(24)
            ttl = self.config.spotify_token_ttl
            with self._state.lock:
                self._state.tokens[token] = time.monotonic() + ttl
            return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl})

        return await self._serve(SPOTIFY_ACCOUNTS, request, (), answer)

    def _credentials_ok(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            client_id, sep, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not sep or not client_id or not secret:
            return False
        expected = self.config.spotify_credentials
        return expected is None or (client_id, secret) == expected

    # Spotify Web API ----------------------------------------------------------------------------

    def _token_error(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _spotify_error(401, "No token provided")
        with self._state.lock:
            expires = self._state.tokens.get(token)
        if expires is None:
            return _spotify_error(401, "Invalid access token")
        if expires <= time.monotonic():
            return _spotify_error(401, "The access token expired")
        return None

    def _spotify_known(self, spotify_id: str) -> CatalogArtist | None:
        with self._state.lock:
            if spotify_id in self._state.unknown_spotify_ids:
                return None
        return self.catalog.by_spotify_id.get(spotify_id)

    def _spotify_artist_json(self, request: Request, artist: CatalogArtist) -> dict[str, Any]:
        api = _base(request) + "/spotify/v1"
        images = _base(request) + "/images"
        sid = artist.spotify_id
        data: dict[str, Any] = {
            "external_urls": {"spotify": artist.spotify_url},
            "followers": {"href": None, "total": artist.followers} if artist.followers is not None else REMOVE,
            "genres": list(artist.genres) if artist.genres is not None else REMOVE,
            "href": f"{api}/artists/{sid}",
            "id": sid,
            "images": [
                {"url": f"{images}/{sid}-{size}.png", "height": size, "width": size} for size in (640, 320, 160)
            ],
            "name": artist.name,
            "popularity": artist.popularity if artist.popularity is not None else REMOVE,
            "type": "artist",
            "uri": f"spotify:artist:{sid}",
        }
        with self._state.lock:
            overrides = dict(self._state.spotify_overrides.get(sid, {}))
        return _apply(data, overrides)

    async def _spotify_api(
        self, request: Request, keys: Iterable[str], answer: Callable[[], Awaitable[Response]]
    ) -> Response:
        async def authorised() -> Response:
            return self._token_error(request) or await answer()

        return await self._serve(SPOTIFY, request, keys, authorised)

    async def _spotify_search(self, request: Request) -> Response:
        async def answer() -> Response:
            params = request.query_params
            query = params.get("q", "")
            if not query.strip():
                return _spotify_error(400, "No search query")
            if "artist" not in params.get("type", "").split(","):
                return _spotify_error(
                    400, "Missing parameter type" if not params.get("type") else "Bad search type field"
                )
            limit = _int_param(params.get("limit"), 20)
            offset = _int_param(params.get("offset"), 0)
            if limit is None or not 1 <= limit <= 50:
                return _spotify_error(400, "Invalid limit")
            if offset is None or not 0 <= offset <= 1000:
                return _spotify_error(400, "Invalid offset")
            found = [a for a in self.catalog.search_spotify(query) if self._spotify_known(a.spotify_id)]
            page = found[offset : offset + limit]
            href = f"{_base(request)}/spotify/v1/search?q={query}&type=artist"
            more = offset + limit < len(found)
            return JSONResponse(
                {
                    "artists": {
                        "href": f"{href}&offset={offset}&limit={limit}",
                        "items": [self._spotify_artist_json(request, a) for a in page],
                        "limit": limit,
                        "next": f"{href}&offset={offset + limit}&limit={limit}" if more else None,
                        "offset": offset,
                        "previous": f"{href}&offset={max(0, offset - limit)}&limit={limit}" if offset else None,
                        "total": len(found),
                    }
                }
            )

        return await self._spotify_api(request, (), answer)

    async def _spotify_artists(self, request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]

        async def answer() -> Response:
            if not ids:
                return _spotify_error(400, "invalid request")
            if len(ids) > 50:
                return _spotify_error(400, "Too many ids requested")
            if not all(is_spotify_id(i) for i in ids):
                return _spotify_error(400, "Invalid base62 id")
            artists = [self._spotify_known(i) for i in ids]
            return JSONResponse({"artists": [self._spotify_artist_json(request, a) if a else None for a in artists]})

        return await self._spotify_api(request, ids, answer)

    async def _spotify_artist(self, request: Request) -> Response:
        spotify_id = request.path_params["id"]

        async def answer() -> Response:
            if not is_spotify_id(spotify_id):
                return _spotify_error(400, "Invalid base62 id")
            artist = self._spotify_known(spotify_id)
            if artist is None:
                return _spotify_error(404, "Resource not found")
            return JSONResponse(self._spotify_artist_json(request, artist))

        return await self._spotify_api(request, (spotify_id,), answer)

    async def _spotify_top_tracks(self, request: Request) -> Response:
        spotify_id = request.path_params["id"]

        async def answer() -> Response:
            if not is_spotify_id(spotify_id):
                return _spotify_error(400, "Invalid base62 id")
            artist = self._spotify_known(spotify_id)
            if artist is None:
                return _spotify_error(404, "Resource not found")
            images = _base(request) + "/images"
            summary = {
                "id": artist.spotify_id,
                "name": artist.name,
                "type": "artist",
                "uri": f"spotify:artist:{artist.spotify_id}",
            }
            tracks = [
                {
                    "id": t.id,
                    "name": t.name,
                    "popularity": t.popularity,
                    "duration_ms": t.duration_ms,
                    "album": {
                        "id": t.album_id,
                        "name": t.album,
                        "images": [
                            {"url": f"{images}/{t.album_id}-{size}.png", "height": size, "width": size}
                            for size in (640, 300, 64)
                        ],
                    },
                    "artists": [summary],
                    "external_urls": {"spotify": f"https://open.spotify.com/track/{t.id}"},
                    "type": "track",
                    "uri": f"spotify:track:{t.id}",
                }
                for t in artist.top_tracks[:10]
            ]
            return JSONResponse({"tracks": tracks})

        return await self._spotify_api(request, (spotify_id,), answer)

    # Deezer -------------------------------------------------------------------------------------

    def _deezer_artist_json(self, request: Request, raw: dict[str, Any]) -> dict[str, Any]:
        deezer_id = int(raw["id"])
        images = f"{_base(request)}/images/dz{deezer_id}"
        data: dict[str, Any] = {
            "id": deezer_id,
            "name": raw["name"],
            "link": f"https://www.deezer.com/artist/{deezer_id}",
            "share": f"https://www.deezer.com/artist/{deezer_id}?utm_source=deezer&utm_content=artist",
            "picture": f"{images}-250.png",
            "picture_small": f"{images}-56.png",
            "picture_medium": f"{images}-250.png",
            "picture_big": f"{images}-500.png",
            "picture_xl": f"{images}-1000.png",
            "nb_album": raw.get("nb_album", 0),
            "nb_fan": raw.get("nb_fan", 0),
            "radio": True,
            "tracklist": f"{_base(request)}/deezer/artist/{deezer_id}/top?limit=50",
            "type": "artist",
        }
        with self._state.lock:
            overrides = dict(self._state.deezer_overrides.get(deezer_id, {}))
        return _apply(data, overrides)

    async def _deezer_artist(self, request: Request) -> Response:
        raw_id = request.path_params["id"]

        async def answer() -> Response:
            raw = self.catalog.deezer_artists.get(int(raw_id)) if raw_id.isdigit() else None
            if raw is None:
                return _deezer_error(800)
            return JSONResponse(self._deezer_artist_json(request, raw))

        return await self._serve(DEEZER, request, (raw_id,), answer)

    async def _deezer_search(self, request: Request) -> Response:
        async def answer() -> Response:
            params = request.query_params
            query = params.get("q", "")
            if not query.strip():
                return JSONResponse(
                    {
                        "error": {
                            "type": "MissingParameterException",
                            "message": "Missing parameters: q",
                            "code": 501,
                        }
                    }
                )
            index = max(0, _int_param(params.get("index"), 0) or 0)
            limit = max(1, min(100, _int_param(params.get("limit"), 25) or 25))
            found = self.catalog.search_deezer(query)
            page = found[index : index + limit]
            body: dict[str, Any] = {
                "data": [self._deezer_artist_json(request, raw) for raw in page],
                "total": len(found),
            }
            if index + limit < len(found):
                body["next"] = f"{_base(request)}/deezer/search/artist?q={query}&index={index + limit}&limit={limit}"
            return JSONResponse(body)

        return await self._serve(DEEZER, request, (), answer)

    # MusicBrainz --------------------------------------------------------------------------------

    async def _musicbrainz(
        self, request: Request, keys: Iterable[str], answer: Callable[[], Awaitable[Response]]
    ) -> Response:
        async def checked() -> Response:
            agent = request.headers.get("user-agent", "")
            if not agent or agent.lower().startswith(("python-", "curl/")) or "/" not in agent:
                return JSONResponse(
                    {"error": "Please provide a meaningful User-Agent: AppName/version ( contact )"}, 403
                )
            if request.query_params.get("fmt") != "json":
                return JSONResponse({"error": "this double only answers fmt=json"}, 400)
            return await answer()

        return await self._serve(MUSICBRAINZ, request, keys, checked)

    def _mb_artist_summary(self, artist: CatalogArtist) -> dict[str, Any]:
        mb = artist.musicbrainz or {}
        return {
            "id": mb["mbid"],
            "name": artist.name,
            "sort-name": _sort_name(artist.name, mb.get("type")),
            "type": mb.get("type"),
            "disambiguation": "",
        }

    async def _mb_url(self, request: Request) -> Response:
        resource = request.query_params.get("resource", "")

        async def answer() -> Response:
            if not resource:
                return JSONResponse({"error": "Invalid resource: ."}, 400)
            match = _SPOTIFY_ARTIST_URL.match(resource)
            artist = self.catalog.by_spotify_id.get(match["id"]) if match else None
            if artist is None or not artist.musicbrainz:
                return JSONResponse({"error": "Not Found"}, 404)
            body: dict[str, Any] = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, resource)), "resource": resource}
            if "artist-rels" in request.query_params.get("inc", "").split("+"):
                body["relations"] = [
                    {
                        "type": "free streaming",
                        "target-type": "artist",
                        "direction": "backward",
                        "artist": self._mb_artist_summary(artist),
                    }
                ]
            return JSONResponse(body)

        return await self._musicbrainz(request, (resource,), answer)

    async def _mb_artist(self, request: Request) -> Response:
        mbid = request.path_params["mbid"]

        async def answer() -> Response:
            if not _MBID.match(mbid):
                return JSONResponse({"error": "Invalid mbid."}, 400)
            artist = self.catalog.by_mbid.get(mbid)
            if artist is None or not artist.musicbrainz:
                return JSONResponse({"error": "Not Found"}, 404)
            mb = artist.musicbrainz
            span = mb.get("life_span") or {}
            area = mb.get("area")
            country = mb.get("country")
            body = {
                **self._mb_artist_summary(artist),
                "gender": mb.get("gender"),
                "country": country,
                "area": {"name": area, "iso-3166-1-codes": [country] if country else []} if area else None,
                "begin-area": None,
                "life-span": {
                    "begin": span.get("begin"),
                    "end": span.get("end"),
                    "ended": bool(span.get("ended")),
                },
            }
            return JSONResponse(body)

        return await self._musicbrainz(request, (mbid,), answer)

    # Images -------------------------------------------------------------------------------------

    async def _image(self, request: Request) -> Response:
        name = request.path_params["name"]
        match = _IMAGE_NAME.match(name)
        key = match["key"] if match else name

        async def answer() -> Response:
            if match is None or int(match["size"]) not in IMAGE_SIZES:
                return PlainTextResponse("Not Found", 404)
            with self._state.lock:
                fault = self._state.image_faults.get(key)
            if fault == "missing":
                return PlainTextResponse("Not Found", 404)
            if fault == "not_image":
                return Response("<html><body>Image moved</body></html>", media_type="text/html")
            return Response(
                artwork_png(key, int(match["size"])),
                media_type="image/png",
                headers={"Cache-Control": "public, max-age=86400"},
            )

        return await self._serve(IMAGES, request, (key,), answer)


_PREFIXES = {
    SPOTIFY: "/spotify/v1",
    SPOTIFY_ACCOUNTS: "/spotify-accounts",
    DEEZER: "/deezer",
    MUSICBRAINZ: "/musicbrainz/ws/2",
    IMAGES: "/images",
}


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the app (or the test) owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _int_param(value: str | None, default: int) -> int | None:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        return None


def _sort_name(name: str, kind: str | None) -> str:
    if name.startswith("The "):
        return f"{name[4:]}, The"
    parts = name.split()
    if kind == "Person" and len(parts) == 2:
        return f"{parts[1]}, {parts[0]}"
    return name


def _spotify_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": {"status": status, "message": message}}, status, headers=headers)


def _deezer_error(code: int, message: str | None = None) -> Response:
    kind, default = _DEEZER_ERRORS.get(code, ("Exception", "An exception occurred"))
    return JSONResponse({"error": {"type": kind, "message": message or default, "code": code}})


def _rate_limited(service: str, wait: float, retry_after: float | None = None) -> Response:
    seconds = retry_after if retry_after is not None else max(1, math.ceil(wait))
    header = {"Retry-After": f"{seconds:g}"}
    if service == DEEZER:
        return _deezer_error(4)
    if service == MUSICBRAINZ:
        return JSONResponse(
            {
                "error": "Your requests are exceeding the allowable rate limit. Please see "
                "https://wiki.musicbrainz.org/XMLWebService for more information."
            },
            503,
            headers=header,
        )
    return _spotify_error(429, "API rate limit exceeded", header)


def _fault_response(service: str, fault: Fault) -> Response | None:
    """The response a fault stands for; None when it only delays."""
    if fault.deezer_code is not None:
        return _deezer_error(fault.deezer_code)
    if fault.body is not None:
        return Response(fault.body, fault.status or 200, media_type=fault.content_type)
    if fault.status is None:
        return None
    if fault.status == 429:
        return _rate_limited(service, 0, fault.retry_after)
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
    if service in (SPOTIFY, SPOTIFY_ACCOUNTS):
        return _spotify_error(fault.status, _REASONS.get(fault.status, "Error"), headers)
    if service == MUSICBRAINZ:
        return JSONResponse({"error": _REASONS.get(fault.status, "Error")}, fault.status, headers=headers)
    return PlainTextResponse(_REASONS.get(fault.status, "Error"), fault.status, headers=headers)


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


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
    parser.add_argument("--deezer-quota", default="50/5", help="requests/seconds, or off (default 50/5)")
    parser.add_argument("--spotify-rate", default="1000/30", help="requests/seconds, or off (default 1000/30)")
    parser.add_argument("--musicbrainz-rate", default="off", help="requests/seconds, or off (default off)")
    args = parser.parse_args(argv)
    try:
        config = DoubleConfig(
            host=args.host,
            port=args.port,
            latency=args.latency,
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
        print(f"API double listening on {urls.base_url} ({len(double.catalog.artists)} sample artists)")
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


__all__ = ["REMOVE", "ApiDouble", "DoubleConfig", "DoubleUrls", "Fault", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
