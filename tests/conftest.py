"""Fixtures shared by the whole suite: an isolated user environment and a guard against the internet."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from artist_desktop.store import normalise_url

if TYPE_CHECKING:
    from artist_desktop.bus import ProgressBus
    from artist_desktop.config import Settings
    from artist_desktop.devtools._catalog import CatalogArtist
    from artist_desktop.devtools.api_double import ApiDouble
    from artist_desktop.runtime import Runtime
    from artist_desktop.services import ServiceClients
    from artist_desktop.store import Database

T = TypeVar("T")

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["ARTIST_DESKTOP_NO_KEYRING"] = "1"


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class InternetAccessError(AssertionError):
    """A test tried to reach a host that is not this machine."""


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _guard_address(address: Any) -> None:
    host = address[0] if isinstance(address, tuple) and address else None
    if isinstance(host, str) and not _is_loopback(host):
        raise InternetAccessError(f"tests must not reach the network: connect to {host!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _guard_address(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _guard_address(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, bytes):
        host = host.decode()
    if isinstance(host, str) and host and not _is_loopback(host):
        raise InternetAccessError(f"tests must not reach the network: lookup of {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


# Installed at import time so that every test, thread and fixture is covered; loopback stays open.
socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def isolated_user_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own data dir and settings file, and no ARTIST_DESKTOP_* from the caller."""
    for name in list(os.environ):
        if name.startswith("ARTIST_DESKTOP_") and name not in (
            "ARTIST_DESKTOP_TEST_POSTGRES_URL",
            "ARTIST_DESKTOP_TEST_PACKAGING",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ARTIST_DESKTOP_NO_KEYRING", "1")
    data_dir = tmp_path / "data"
    monkeypatch.setenv("ARTIST_DESKTOP_DATA_DIR", str(data_dir))
    monkeypatch.setenv("ARTIST_DESKTOP_SETTINGS_FILE", str(tmp_path / "config" / "settings.toml"))
    yield data_dir


# -- real services -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a private redis-server (unix socket) that lives for the whole test session."""
    from artist_desktop.bus import EmbeddedRedis

    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    try:
        yield server.start_sync()
    finally:
        server.stop_sync()


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of the test's own, so tests sharing the server never see each other's keys."""
    return f"test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def bus(redis_url: str, redis_prefix: str) -> AsyncIterator[ProgressBus]:
    from artist_desktop.bus import ProgressBus, connect_redis

    client = connect_redis(redis_url)
    try:
        yield ProgressBus(client, prefix=redis_prefix)
    finally:
        await client.aclose()


@pytest.fixture
async def api_double() -> AsyncIterator[ApiDouble]:
    """The local API double (Spotify, Deezer, MusicBrainz, images) on a free loopback port; MusicBrainz's
    1 request/s is off here (clients from `fast_clients` relax it too): tests at its real pace ask for it."""
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig

    double = ApiDouble(DoubleConfig(musicbrainz_rate=None))
    await double.start()
    try:
        yield double
    finally:
        await double.stop()


@pytest.fixture
def threaded_double() -> Iterator[ApiDouble]:
    """The API double on its own thread: for synchronous GUI tests, and reachable from another process
    (a command run with ``subprocess`` pointed at ``double.urls.as_env()``). MusicBrainz's 1/s is off, as in
    `api_double`."""
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig

    double = ApiDouble(DoubleConfig(musicbrainz_rate=None))
    double.start_in_thread()
    try:
        yield double
    finally:
        double.stop_thread()


#: Retries that keep the documented behaviour (backoff, Retry-After) but give up within a second or two.
FAST_RETRY = {"max_attempts": 3, "max_total": 2.0, "base_delay": 0.05, "max_delay": 0.2}


def fast_clients(settings: Settings) -> ServiceClients:
    """Real API clients with short retries, MusicBrainz relaxed from its 1/s (the double allows it)."""
    from artist_desktop.services import MusicBrainzClient, RateGate, RetryPolicy, build_clients

    clients = build_clients(settings, retry=RetryPolicy(**FAST_RETRY))
    clients.musicbrainz = MusicBrainzClient(
        settings.musicbrainz_api_url,
        settings.contact,
        gate=RateGate("MusicBrainz", 100, 1.0),
        retry=RetryPolicy(**FAST_RETRY),
    )
    return clients


def double_settings(double: ApiDouble, redis_url: str, redis_prefix: str, **extra: Any) -> Settings:
    """Settings pointing the app at the API double and the session's Redis."""
    from artist_desktop.config import load_settings

    return load_settings(redis_url=redis_url, redis_prefix=redis_prefix, **double.urls.as_settings(), **extra)


@pytest.fixture(name="fast_clients")
def fast_clients_fixture() -> Callable[[Settings], ServiceClients]:
    """`fast_clients(settings)`: API clients for tests (see `fast_clients`)."""
    return fast_clients


@pytest.fixture(name="double_settings")
def double_settings_fixture() -> Callable[..., Settings]:
    """`double_settings(double, redis_url, redis_prefix, **extra)`: settings pointed at the double."""
    return double_settings


async def add_library_artist(database: Database, name: str, deezer_id: str | int | None = None) -> int:
    """An artist in the library (with a Deezer id when given), committed; returns its id."""
    from artist_desktop.domain import ArtistRecord, Platform, slugify
    from artist_desktop.store import repository

    async with database.session() as session, session.begin():
        artist_id = await repository.upsert_artist(session, ArtistRecord(name=name, slug=slugify(name)))
        if deezer_id is not None:
            await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, str(deezer_id))
    return artist_id


@pytest.fixture(name="add_library_artist")
def add_library_artist_fixture() -> Callable[..., Awaitable[int]]:
    """`await add_library_artist(database, name, deezer_id=None)`: seed the library (see the function)."""
    return add_library_artist


# -- PostgreSQL (the store tests and team mode run on it when ARTIST_DESKTOP_TEST_POSTGRES_URL is set) ----

POSTGRES_ENV = "ARTIST_DESKTOP_TEST_POSTGRES_URL"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database in the test's tmp dir (tests/store parametrizes its own over PostgreSQL)."""
    from artist_desktop.store import open_database

    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}")
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def catalog_artists() -> list[CatalogArtist]:
    """Catalog artists every service knows (Spotify, Deezer and MusicBrainz), in catalog order."""
    from artist_desktop.devtools._catalog import load_catalog

    return [a for a in load_catalog().artists if a.deezer and a.musicbrainz]


@pytest.fixture
async def runtime(api_double: ApiDouble, redis_url: str, redis_prefix: str) -> AsyncIterator[Runtime]:
    """A started runtime on the API double, the session's Redis and a SQLite file, with no local worker (the
    test runs the queue with ``runtime.runner.run_until_idle()`` when it wants imports)."""
    from artist_desktop.runtime import Runtime

    settings = double_settings(api_double, redis_url, redis_prefix, local_worker=False)
    started = Runtime(settings, clients=fast_clients(settings))
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def _run_in_thread(make_coro: Callable[[], Awaitable[T]]) -> T:
    """Run admin work on its own event loop, away from the loop pytest-asyncio gives the test."""

    async def runner() -> T:
        return await make_coro()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, runner()).result()


@pytest.fixture(scope="module")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test module (dropped at the end)."""
    admin_url = os.environ.get(POSTGRES_ENV)
    if not admin_url:
        raise RuntimeError(f"{POSTGRES_ENV} is not set")  # only requested when it is
    module = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    name = f"ad_{module}_{uuid.uuid4().hex[:8]}"[:63]

    async def admin(sql: str) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction.
        engine = create_async_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    _run_in_thread(lambda: admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _run_in_thread(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- Qt + qasync ---------------------------------------------------------------------------------
# GUI tests are synchronous and share one qasync loop (see ../shared/qt-async-notes.md). The loop is marked
# running only while a GUI test runs, so plain pytest-asyncio tests in the same process keep their own loops.


@pytest.fixture(scope="session")
def qasync_loop(qapp: Any) -> Iterator[asyncio.AbstractEventLoop]:
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    yield loop
    executor = loop._QEventLoop__default_executor  # type: ignore[attr-defined]  # no public accessor
    if executor is not None:
        executor.shutdown()


@pytest.fixture
def gui_loop(qasync_loop: asyncio.AbstractEventLoop) -> Iterator[asyncio.AbstractEventLoop]:
    """The qasync loop, running for the duration of one GUI test."""
    asyncio.set_event_loop(qasync_loop)
    asyncio.events._set_running_loop(qasync_loop)
    try:
        yield qasync_loop
    finally:
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


class AsyncRunner:
    """Runs a coroutine on the qasync loop from a synchronous GUI test, pumping Qt events until it ends."""

    def __init__(self, qtbot: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.qtbot = qtbot
        self.loop = loop

    def __call__(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        task = self.loop.create_task(coro)
        try:
            self.qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        except BaseException:
            task.cancel()
            raise
        return task.result()


@pytest.fixture
def run_async(qtbot: Any, gui_loop: asyncio.AbstractEventLoop) -> AsyncRunner:
    return AsyncRunner(qtbot, gui_loop)
