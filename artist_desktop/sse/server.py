"""Runs the SSE app with uvicorn as a task on the current event loop (qasync or plain asyncio).

uvicorn normally grabs SIGINT/SIGTERM and exits without the app's cleanup; :class:`_QuietServer`
captures no signals (the app installs its own handlers and calls :meth:`SseServer.stop`). Stopping
sets the app's stop event first, so every stream ends on a message boundary, then shuts uvicorn
down with a short grace period: the port is free again within about 2 s.

Overload: connections are limited below the process's file limit (:func:`connection_limit`: the soft
``RLIMIT_NOFILE`` less :data:`FD_HEADROOM` for the Redis, database and HTTP client sockets, or less when the
``SSE_MAX_CONNECTIONS`` setting says so); uvicorn answers the excess 503 and closes it, and the app refuses
streams past its own lower bound with a JSON 503 and Retry-After, so /api/health still answers. Accept errors and
refusals are logged at most once per :data:`LOG_INTERVAL` per kind (:class:`OncePerInterval`), never per attempt:
1,100 clients at a 1,024 file limit once wrote 3.5 GB of log in two minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import resource
import socket
import threading
import time
from collections.abc import Generator
from typing import Final

import uvicorn
from starlette.applications import Starlette

__all__ = [
    "DEFAULT_SSE_PORT",
    "FD_HEADROOM",
    "LOG_INTERVAL",
    "OncePerInterval",
    "SseServer",
    "SseServerError",
    "binds_loopback_only",
    "check_exposure",
    "connection_limit",
]

log = logging.getLogger(__name__)

DEFAULT_SSE_PORT: Final = 8765
_STARTUP_TIMEOUT: Final = 10.0
#: Seconds uvicorn waits for open connections before cancelling them.
_GRACEFUL_SHUTDOWN: Final = 1
_STOP_TIMEOUT: Final = 3.0


#: File descriptors kept free for everything but the stream's clients: Redis, the database, HTTP clients, logs.
FD_HEADROOM: Final = 200
#: The fewest connections a server is given, however low the file limit (a limit that low leaves few anyway).
_MIN_CONNECTIONS: Final = 16
#: Connections allowed when the file limit is unlimited and no setting bounds them.
_UNLIMITED_CONNECTIONS: Final = 10_000
#: Seconds between two log lines of one kind (an accept error, a refused connection).
LOG_INTERVAL: Final = 10.0
#: The loggers whose lines come per connection attempt under overload.
_OVERLOAD_LOGGERS: Final = ("asyncio", "uvicorn.error", "artist_desktop.sse.app")


def connection_limit(setting: int | None = None) -> int:
    """The most connections the server keeps open: the soft file limit less :data:`FD_HEADROOM`, lowered to
    ``setting`` when that is set (a positive number), never under a small floor."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = _UNLIMITED_CONNECTIONS if soft == resource.RLIM_INFINITY else soft - FD_HEADROOM
    if setting:
        limit = min(limit, setting)
    return max(_MIN_CONNECTIONS, limit)


class OncePerInterval(logging.Filter):
    """Lets one record per kind (logger and message template) through every ``interval`` seconds; the next one
    let through says how many were held back meanwhile."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        super().__init__()
        self.interval = interval
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, str(record.msg))
        now = time.monotonic()
        with self._lock:
            last = self._last.get(kind)
            if last is not None and now - last < self.interval:
                self._held[kind] = self._held.get(kind, 0) + 1
                return False
            self._last[kind] = now
            held = self._held.pop(kind, 0)
        if held:
            record.msg = f"{record.msg} ({held} more like this in the last {self.interval:.0f} s)"
        return True


def _quiet_overload_logs() -> None:
    """Attach one :class:`OncePerInterval` to each logger that writes per connection attempt (once a process)."""
    for name in _OVERLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, OncePerInterval) for existing in logger.filters):
            logger.addFilter(OncePerInterval())


class SseServerError(RuntimeError):
    """The SSE server could not start (the message names the address and the reason)."""


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def install_signal_handlers(self) -> None:  # uvicorn < 0.29
        return None


def binds_loopback_only(host: str) -> bool:
    """Whether listening on `host` serves this machine only: ``localhost`` or a loopback address (``0.0.0.0``,
    ``::``, an empty host, a LAN address or any other name may be reached from other machines)."""
    name = host.strip().lower().removeprefix("[").removesuffix("]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, token: str | None) -> None:
    """Refuse (`SseServerError`, one sentence) to serve other machines without an access token: the Host check
    alone cannot stop them, since another machine writes whatever Host header it likes."""
    if not token and not binds_loopback_only(host):
        raise SseServerError(
            f"The progress stream would be open to other machines on SSE_HOST={host or '(all addresses)'} "
            "without an access token: set SSE_TOKEN too, or SSE_HOST=127.0.0.1 to serve this machine only."
        )


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (SO_REUSEADDR, as uvicorn sets it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=2048)
    sock.set_inheritable(True)
    return sock


class SseServer:
    """The embedded SSE endpoint's HTTP server: ``port = await server.start(host, port)`` ...
    ``await server.stop()``.

    ``stop_event`` must be the event the app was created with (:func:`create_app`); it is set on stop.
    When the asked port is taken a free one is used and ``port_was_taken`` is True (the window says so).
    ``max_connections`` lowers :func:`connection_limit` (the connections kept open; the excess is answered 503).
    """

    def __init__(
        self,
        app: Starlette,
        stop_event: asyncio.Event,
        *,
        log_level: str = "warning",
        max_connections: int | None = None,
    ) -> None:
        self._app = app
        self._stop_event = stop_event
        self._log_level = log_level
        self.max_connections = connection_limit(max_connections)
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._host = "127.0.0.1"
        self.port: int | None = None
        self.port_was_taken = False

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def url(self) -> str:
        """The base URL for this machine's clients, e.g. ``http://127.0.0.1:8765``."""
        if self.port is None:
            raise SseServerError("the SSE server is not running")
        host = self._host
        if host in ("", "0.0.0.0", "localhost"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = DEFAULT_SSE_PORT) -> int:
        """Listen on host:port (a free port when that one is taken) and serve; returns the bound port."""
        if self.running:
            assert self.port is not None
            return self.port
        self._host = host
        self.port_was_taken = False
        try:
            sock = _bind(host, port)
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE or port == 0:
                raise SseServerError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
            log.warning("Port %d is taken; the SSE endpoint uses a free port instead", port)
            self.port_was_taken = True
            try:
                sock = _bind(host, 0)
            except OSError as exc2:
                raise SseServerError(f"Cannot listen on {host}: {exc2.strerror or exc2}") from exc2
        bound: int = sock.getsockname()[1]

        config = uvicorn.Config(
            self._app,
            log_level=self._log_level,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
            server_header=False,
            limit_concurrency=self.max_connections,
        )
        _quiet_overload_logs()
        server = _QuietServer(config)
        self._server = server
        self._stop_event.clear()
        self._task = asyncio.create_task(self._serve(server, sock), name=f"sse-server:{bound}")
        try:
            async with asyncio.timeout(_STARTUP_TIMEOUT):
                while not server.started:
                    if self._task.done():
                        break
                    await asyncio.sleep(0.01)
        except TimeoutError:
            pass
        if not server.started:
            await self._abort_start(sock)
            raise SseServerError(f"The SSE server on {host}:{bound} did not start")
        self.port = bound
        log.info("SSE endpoint listening on %s", self.url)
        return bound

    async def _serve(self, server: _QuietServer, sock: socket.socket) -> None:
        try:
            await server.serve(sockets=[sock])
        except (Exception, SystemExit):  # uvicorn exits with SystemExit when the lifespan fails
            log.exception("The SSE server stopped with an error")
        finally:
            sock.close()

    async def _abort_start(self, sock: socket.socket) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        sock.close()
        self._server = None

    async def stop(self) -> None:
        """End every stream, stop accepting connections and free the port (within about 2 s)."""
        self._stop_event.set()
        server, task = self._server, self._task
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            async with asyncio.timeout(_STOP_TIMEOUT):
                await asyncio.shield(task)
        except TimeoutError:
            log.warning("The SSE server did not stop in %.0f s; cancelling it", _STOP_TIMEOUT)
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._server = None
        self._task = None
        self.port = None
