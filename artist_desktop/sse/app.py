"""The Starlette app of the embedded SSE endpoint: progress streams, health, a dashboard page.

Routes (DESIGN.md, "Embedded SSE endpoint"):

- ``GET /api/artists/progress/{spotify_id}``: ``text/event-stream``; the artist's snapshot first,
  then live updates (``event: progress``, ``id:`` = seq, ``data:`` = the update's JSON), a comment
  heartbeat every ``ping_interval`` seconds; ends after COMPLETE or ERROR. ``Last-Event-ID`` skips
  updates already seen; a stream whose final update was already seen answers 204 (EventSource stops
  reconnecting). An artist without progress yet waits, with heartbeats.
- ``GET /api/artists/progress``: every artist's snapshot, then every live update (no ``id:``: seqs
  are per artist); never ends on its own.
- ``GET /api/health``: ``{"status": "ok"|"degraded", "redis": bool, "database": bool, ...}``
  (503 when degraded).
- ``GET /``: a small dashboard page rendering the streams (``?artist=ID``, ``?token=``).

Fan-out: one bus subscription for the whole app (:class:`ProgressHub`) feeds a bounded queue per
client; a client whose queue overflows is sent ``event: error`` and disconnected, so a slow client
never delays the publisher or the others. Setting ``stop_event`` ends every stream cleanly.

Overload: streams past the server's connection limit less :data:`REQUEST_RESERVE` (see
:func:`~artist_desktop.sse.server.connection_limit`) are refused with 503, ``{"error": "too_many_streams"}`` and
``Retry-After``, so health and the page still answer while the streams are full.

Security, outermost first: a Host header that is not loopback gets 421 (DNS rebinding); CORS for
the configured origins only; when a token is set, requests without it (``Authorization: Bearer``
or ``?token=``) get 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from artist_desktop.bus.progress import ProgressBus
from artist_desktop.domain import ProgressUpdate, Stage, is_spotify_id
from artist_desktop.sse.server import connection_limit

__all__ = [
    "DEFAULT_ABORT_GRACE",
    "DEFAULT_CLIENT_QUEUE_SIZE",
    "DEFAULT_PING_INTERVAL",
    "HealthCheck",
    "ProgressHub",
    "create_app",
    "is_loopback_host",
]

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[dict[str, Any]]]

#: Seconds between heartbeat comments on an idle stream.
DEFAULT_PING_INTERVAL: Final = 15.0
#: Updates buffered per client before it counts as fallen behind and is disconnected.
DEFAULT_CLIENT_QUEUE_SIZE: Final = 1000
#: Seconds a cut-off client gets to take its final event before its connection is dropped.
DEFAULT_ABORT_GRACE: Final = 2.0
#: Connections kept for requests other than streams (health, the page, names) when the streams are full.
REQUEST_RESERVE: Final = 32
#: Seconds a client refused for too many streams is asked to wait before it tries again.
TOO_MANY_RETRY_AFTER: Final = 10
TOO_MANY_STREAMS = "too_many_streams"
#: Bounds on waiting for the bus subscription and for the health callable.
_BUS_READY_TIMEOUT: Final = 5.0
_HEALTH_TIMEOUT: Final = 3.0

FELL_BEHIND = "fell_behind"
BUS_LOST = "bus_unavailable"
_REASON_TEXT: Final = {
    FELL_BEHIND: "This client fell too far behind the progress stream and was disconnected; reconnect.",
    BUS_LOST: "The progress bus stopped; reconnect later.",
}


# -- fan-out -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Closed:
    """Queue marker: the stream ends; ``reason`` (if any) is sent as a final ``event: error``."""

    reason: str | None = None


@dataclass(eq=False)
class _Client:
    """One open stream: which artist it follows (None: all) and its bounded buffer."""

    spotify_id: str | None
    queue: asyncio.Queue[ProgressUpdate | _Closed]
    aborted: anyio.Event = field(default_factory=anyio.Event)
    #: True once its snapshot was read: from then on it misses no update.
    streaming: bool = False

    #: Why the stream was closed (sent as a final ``event: error``); None: closed quietly or still open.
    closed_reason: str | None = None

    def close(self, reason: str | None) -> None:
        """Replace whatever is buffered with the end marker (never blocks, never overflows)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(_Closed(reason))
        self.aborted.set()

    async def updates(self) -> AsyncIterator[ProgressUpdate]:
        """The buffered updates as they come, until the stream is closed (then `closed_reason` says why)."""
        while True:
            item = await self.queue.get()
            if isinstance(item, _Closed):
                self.closed_reason = item.reason
                return
            yield item


class ProgressHub:
    """One bus subscription for every client of the app; each client gets its own bounded queue.

    The subscription starts with the first client and stays up until the app stops. A client whose
    queue is full is closed with ``fell_behind``; the publisher and other clients never wait for it.
    """

    def __init__(self, bus: ProgressBus, queue_size: int) -> None:
        self._bus = bus
        self._queue_size = queue_size
        self._clients: set[_Client] = set()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def client_count(self) -> int:
        """Open streams (snapshot sent or being sent; every later update reaches them)."""
        return sum(client.streaming for client in self._clients)

    async def register(self, spotify_id: str | None) -> _Client:
        """A new client, registered only once the shared subscription is live (no update is missed)."""
        self._ensure_running()
        async with asyncio.timeout(_BUS_READY_TIMEOUT):
            await self._ready.wait()
        client = _Client(spotify_id, asyncio.Queue(maxsize=self._queue_size))
        self._clients.add(client)
        return client

    @property
    def open_count(self) -> int:
        """Registered clients, their snapshot sent or not (what the stream limit counts)."""
        return len(self._clients)

    def unregister(self, client: _Client) -> None:
        self._clients.discard(client)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._ready.clear()
            self._task = asyncio.create_task(self._run(), name="sse-progress-hub")

    async def _run(self) -> None:
        reason: str | None = BUS_LOST
        try:
            async with self._bus.subscribe() as subscription:
                await subscription.wait_connected()
                self._ready.set()
                async for update in subscription:
                    self._dispatch(update)
        except asyncio.CancelledError:
            reason = None
            raise
        except Exception:
            log.exception("The SSE progress hub lost its bus subscription")
        finally:
            self._ready.clear()
            self.close_all(reason)

    def _dispatch(self, update: ProgressUpdate) -> None:
        for client in list(self._clients):
            if client.spotify_id is not None and client.spotify_id != update.spotify_id:
                continue
            try:
                client.queue.put_nowait(update)
            except asyncio.QueueFull:
                log.warning("SSE client following %s fell behind; disconnecting it", client.spotify_id or "all")
                self._clients.discard(client)
                client.close(FELL_BEHIND)

    def close_all(self, reason: str | None) -> None:
        """End every open stream (with a final error event when ``reason`` is given)."""
        for client in list(self._clients):
            client.close(reason)
        self._clients.clear()

    async def aclose(self) -> None:
        """Stop the subscription and end every stream."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.close_all(None)


# -- streams -------------------------------------------------------------------------------------


class _ClientStream(EventSourceResponse):
    """An SSE response that is dropped ``grace`` seconds after its client was cut off.

    A client that stopped reading blocks the send of its final event forever; without this its
    connection (and its task) would live until the server stops.
    """

    def __init__(self, *args: Any, client: _Client, grace: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client = client
        self._grace = grace

    @staticmethod
    async def _listen_for_exit_signal() -> None:
        """Streams end on the app's stop event instead: sse-starlette's own shutdown watcher would poll
        every 0.5 s for the life of the event loop (the window's) and cut streams mid-message.
        (Not ``anyio.sleep_forever()``: qasync cannot schedule its infinite timer.)"""
        await anyio.Event().wait()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def respond() -> None:
                await super(_ClientStream, self).__call__(scope, receive, send)
                group.cancel_scope.cancel()

            async def drop_when_aborted() -> None:
                await self._client.aborted.wait()
                await anyio.sleep(self._grace)
                group.cancel_scope.cancel()

            group.start_soon(respond)
            group.start_soon(drop_when_aborted)


def _progress_event(update: ProgressUpdate, *, with_id: bool) -> ServerSentEvent:
    return ServerSentEvent(
        data=update.to_json(),
        event="progress",
        id=str(update.seq) if with_id else None,
    )


def _error_event(reason: str) -> ServerSentEvent:
    return ServerSentEvent(
        data=json.dumps({"error": reason, "message": _REASON_TEXT.get(reason, reason)}),
        event="error",
    )


def _json_error(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id", "").strip()
    try:
        return int(raw) if raw else None
    except ValueError:
        return None  # an id this server never sent: start from the snapshot


# -- security middleware -------------------------------------------------------------------------


def _host_name(host_header: str) -> str | None:
    """The name in a Host header (``name``, ``name:port``, ``[v6]``, ``[v6]:port``), lower-cased; None when the
    header is malformed (a port that is not a number, text after the brackets, an empty name)."""
    host = host_header.strip().lower()
    port = ""
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else ""
        if rest and not port:
            return None
    elif host.count(":") == 1:
        name, _, port = host.partition(":")
        if not port:
            return None
    else:
        name = host  # no port, or a bare IPv6 address (checked as an address below)
    if port and not (port.isascii() and port.isdigit() and len(port) <= 5):
        return None
    return name or None


def is_loopback_host(host_header: str) -> bool:
    """True for exactly ``localhost``, ``127.x.y.z``, ``[::1]`` (with or without a numeric port).

    ``localhost:evil``, ``evil.localhost``, ``127.0.0.1.evil.com`` are refused: a name under ``.localhost`` is
    only loopback where the resolver says so, and a DNS-rebinding page picks its own name.
    """
    name = _host_name(host_header)
    if name is None:
        return False
    if name.endswith(".") and name.count(".") == 1:
        name = name[:-1]  # "localhost." is the same name, fully qualified
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class LoopbackHostMiddleware:
    """Refuse (421) a request whose Host header is not a loopback name: a DNS-rebinding page would
    reach this server under its own domain name."""

    def __init__(self, app: ASGIApp, extra_hosts: frozenset[str] = frozenset()) -> None:
        self.app = app
        self._extra_hosts = extra_hosts

    def _allowed(self, host_header: str) -> bool:
        if is_loopback_host(host_header):
            return True
        name = _host_name(host_header)
        return name is not None and name in self._extra_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = ""
            for name, value in scope["headers"]:
                if name == b"host":
                    host = value.decode("latin-1")
                    break
            if not self._allowed(host):
                response = _json_error(421, "misdirected_request", "This server only answers to localhost.")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class TokenMiddleware:
    """When a token is set, require it as ``Authorization: Bearer <token>`` or ``?token=<token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._authorized(Request(scope)):
            response = _json_error(
                401,
                "unauthorized",
                "A valid access token is required (Authorization: Bearer <token>, or ?token=).",
                headers={"WWW-Authenticate": "Bearer"},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorized(self, request: Request) -> bool:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        candidates = [request.query_params.get("token", "")]
        if scheme.lower() == "bearer":
            candidates.append(credentials.strip())
        # compare_digest every candidate: the time taken says nothing about the token
        return any([hmac.compare_digest(c.encode(), self._token) for c in candidates if c])


# -- the app -------------------------------------------------------------------------------------


#: ``names(spotify_ids)``: the display names the job ledger knows for these ids.
NameLookup = Callable[[list[str]], Awaitable[dict[str, str]]]
#: The most ids one names request may carry (the dashboard asks in batches of 100).
MAX_NAME_IDS = 200


def _dashboard_html() -> str:
    return (resources.files("artist_desktop.sse") / "static" / "index.html").read_text(encoding="utf-8")


def create_app(
    bus: ProgressBus,
    *,
    health: HealthCheck | None = None,
    token: str | None = None,
    cors_origins: list[str] | None = None,
    stop_event: asyncio.Event,
    ping_interval: float = DEFAULT_PING_INTERVAL,
    client_queue_size: int = DEFAULT_CLIENT_QUEUE_SIZE,
    abort_grace: float = DEFAULT_ABORT_GRACE,
    allowed_hosts: list[str] | None = None,
    names: NameLookup | None = None,
    max_connections: int | None = None,
) -> Starlette:
    """The SSE endpoint's ASGI app.

    ``health`` adds ``database`` (and any other fields) to /api/health; ``names`` answers
    ``/api/artists/names?ids=a,b`` with the names the job ledger knows (the dashboard's labels; progress
    updates carry no name until COMPLETE); ``/api/stages`` gives each stage's label. Setting ``stop_event`` ends
    every open stream; ``allowed_hosts`` names Host headers accepted besides loopback ones (for a
    server bound to another interface on purpose); the hub is at ``app.state.hub``. Streams are refused (503)
    past ``connection_limit(max_connections)`` less :data:`REQUEST_RESERVE` (``app.state.max_streams``).
    """
    hub = ProgressHub(bus, client_queue_size)
    max_streams = max(1, connection_limit(max_connections) - REQUEST_RESERVE)
    dashboard = _dashboard_html()

    async def open_client(spotify_id: str | None) -> _Client | Response:
        if stop_event.is_set():
            return _json_error(503, "stopping", "The server is shutting down.")
        try:
            client = await hub.register(spotify_id)
        except TimeoutError:
            return _json_error(503, BUS_LOST, "The progress bus (Redis) is not reachable.")
        if hub.open_count > max_streams:  # counted once registered: clients arriving together are counted too
            hub.unregister(client)
            log.warning("Progress streams refused: the limit of %d open streams is reached", max_streams)
            return _json_error(
                503,
                TOO_MANY_STREAMS,
                f"Too many open progress streams (at most {max_streams}); try again in {TOO_MANY_RETRY_AFTER} s.",
                headers={"Retry-After": str(TOO_MANY_RETRY_AFTER)},
            )
        return client

    def stream(client: _Client, events: AsyncIterator[ServerSentEvent]) -> Response:
        return _ClientStream(
            events,
            client=client,
            grace=abort_grace,
            ping=ping_interval,
            background=BackgroundTask(hub.unregister, client),
        )

    async def artist_progress(request: Request) -> Response:
        spotify_id = request.path_params["spotify_id"]
        if not is_spotify_id(spotify_id):
            return _json_error(400, "invalid_id", "A Spotify artist id is 22 characters of base 62.")
        seen = _last_event_id(request) or 0
        opened = await open_client(spotify_id)
        if isinstance(opened, Response):
            return opened
        client = opened
        try:
            snapshot = await bus.snapshot(spotify_id)
        except Exception:
            hub.unregister(client)
            log.exception("Could not read the progress snapshot of %s", spotify_id)
            return _json_error(503, BUS_LOST, "The progress bus (Redis) is not reachable.")
        if snapshot is not None and snapshot.stage.is_final and snapshot.seq <= seen:
            hub.unregister(client)
            return Response(status_code=204)  # the client saw the end already: EventSource stops
        client.streaming = True

        async def events() -> AsyncIterator[ServerSentEvent]:
            last = seen
            try:
                if snapshot is not None and snapshot.seq > last:
                    yield _progress_event(snapshot, with_id=True)
                    last = snapshot.seq
                    if snapshot.stage.is_final:
                        return
                async for item in client.updates():
                    if item.seq <= last:
                        continue
                    yield _progress_event(item, with_id=True)
                    last = item.seq
                    if item.stage.is_final:
                        return
                if client.closed_reason is not None:
                    yield _error_event(client.closed_reason)
            finally:
                hub.unregister(client)

        return stream(client, events())

    async def all_progress(request: Request) -> Response:
        opened = await open_client(None)
        if isinstance(opened, Response):
            return opened
        client = opened
        try:
            current = await bus.snapshots()
        except Exception:
            hub.unregister(client)
            log.exception("Could not read the progress snapshots")
            return _json_error(503, BUS_LOST, "The progress bus (Redis) is not reachable.")
        client.streaming = True

        async def events() -> AsyncIterator[ServerSentEvent]:
            last: dict[str, int] = {}
            try:
                for update in sorted(current.values(), key=lambda u: (u.ts, u.spotify_id)):
                    last[update.spotify_id] = update.seq
                    yield _progress_event(update, with_id=False)
                async for item in client.updates():
                    if item.seq <= last.get(item.spotify_id, 0):
                        continue
                    last[item.spotify_id] = item.seq
                    yield _progress_event(item, with_id=False)
                if client.closed_reason is not None:
                    yield _error_event(client.closed_reason)
            finally:
                hub.unregister(client)

        return stream(client, events())

    async def health_route(request: Request) -> Response:
        body: dict[str, Any] = {"status": "ok", "redis": await bus.ping()}
        if health is not None:
            try:
                async with asyncio.timeout(_HEALTH_TIMEOUT):
                    body.update(await health())
            except Exception as exc:
                log.warning("The health check failed: %s", exc)
                body["database"] = False
        body["clients"] = hub.client_count
        healthy = body["redis"] and body.get("database", True) is not False
        body["status"] = "ok" if healthy else "degraded"
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def index(request: Request) -> Response:
        return HTMLResponse(dashboard, headers={"Cache-Control": "no-store"})

    async def stages_route(request: Request) -> Response:
        return JSONResponse({stage.value: stage.label for stage in Stage})

    async def names_route(request: Request) -> Response:
        ids = [value for value in request.query_params.get("ids", "").split(",") if is_spotify_id(value)]
        if len(ids) > MAX_NAME_IDS:
            return _json_error(400, "too_many_ids", f"Ask for at most {MAX_NAME_IDS} ids at once.")
        if names is None or not ids:
            return JSONResponse({})
        try:
            async with asyncio.timeout(_HEALTH_TIMEOUT):
                found = await names(ids)
        except Exception as exc:
            log.warning("Could not read artist names: %s", exc)
            return _json_error(503, "names_unavailable", "The artists' names cannot be read right now.")
        return JSONResponse({spotify_id: name for spotify_id, name in found.items() if name != spotify_id})

    async def stop_hub_when_stopping() -> None:
        await stop_event.wait()
        hub.close_all(None)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = asyncio.create_task(stop_hub_when_stopping(), name="sse-stop-watcher")
        try:
            yield
        finally:
            watcher.cancel()
            await hub.aclose()

    middleware = [
        Middleware(LoopbackHostMiddleware, extra_hosts=frozenset(h.lower() for h in allowed_hosts or [])),
        Middleware(
            CORSMiddleware,
            allow_origins=list(cors_origins or []),
            allow_methods=["GET"],
            allow_headers=["Authorization", "Last-Event-ID", "Cache-Control"],
        ),
    ]
    if token:
        middleware.append(Middleware(TokenMiddleware, token=token))

    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/api/health", health_route, methods=["GET"]),
            Route("/api/stages", stages_route, methods=["GET"]),
            Route("/api/artists/names", names_route, methods=["GET"]),
            Route("/api/artists/progress", all_progress, methods=["GET"]),
            Route("/api/artists/progress/{spotify_id}", artist_progress, methods=["GET"]),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.hub = hub
    app.state.max_streams = max_streams
    return app
