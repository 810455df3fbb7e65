"""The database handle: an async engine (SQLite or PostgreSQL), sessions, and Alembic migrations in code."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

log = logging.getLogger(__name__)

#: Where the Alembic scripts live: inside the package, so an installed wheel or a bundle finds them.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: How long a SQLite writer waits for another writer's lock before "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 15_000
#: At start-up (migrations) a lock held this long is another program's (DB Browser, a stuck process), not a
#: worker's short write: say so instead of waiting the full busy timeout.
SQLITE_STARTUP_BUSY_TIMEOUT_MS = 3_000


#: Seconds a new PostgreSQL connection may take (the ``CONNECT_TIMEOUT`` setting's default).
CONNECT_TIMEOUT_SECONDS = 5.0
#: The advisory lock migrations take on PostgreSQL: the run locks' namespace ("AD", store.locks) and a key
#: of its own.
MIGRATION_LOCK_NAMESPACE = 0x4144
MIGRATION_LOCK_KEY = 0x6D696772  # "migr"
#: How long a SQLite migrator waits for another one before saying so.
SQLITE_MIGRATION_WAIT_SECONDS = 120.0
_LOCK_POLL_SECONDS = 0.05


class DatabaseOpenError(Exception):
    """The database cannot be opened or migrated; the message is one sentence naming the file or host and
    what to do (the original error is the ``__cause__``)."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config built in code (no alembic.ini), for :meth:`Database.migrate` and for tooling.

    ``url`` is only needed to drive Alembic commands outside the app, e.g.
    ``command.revision(alembic_config(url), "add x", autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_path_separator", "os")
    if url:
        config.set_main_option("sqlalchemy.url", normalise_url(url).render_as_string(hide_password=False))
    return config


#: The async driver for each supported backend; :func:`normalise_url` is the one place a driver is picked.
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}


def normalise_url(url: str | URL) -> URL:
    """The URL with the async driver this app uses (:data:`_DRIVERS`), whatever driver it named.

    The settings (``effective_database_url``), the engine and Alembic all go through here.
    ``ValueError`` for a backend other than SQLite or PostgreSQL; SQLAlchemy's ``ArgumentError``
    for text that is not a URL at all.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _DRIVERS:
        raise ValueError(f"unsupported database {backend!r}: use a sqlite or postgresql URL")
    return parsed.set(drivername=_DRIVERS[backend])


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url.query)


def _on_sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL lets the window read while a worker writes; SQLite leaves foreign keys off unless asked."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL, much faster commits
    finally:
        cursor.close()
    # The driver's own deferred BEGIN lets a transaction that read first fail at once with "database is
    # locked" when it then writes while another connection writes; we begin ourselves (see _on_sqlite_begin).
    dbapi_connection.isolation_level = None


#: Execution option that :func:`_on_sqlite_begin` reads: the ``PRAGMA foreign_keys`` value to set before
#: the transaction begins (SQLite ignores the pragma inside a transaction). Only migrations use it.
_SQLITE_FOREIGN_KEYS = "artist_desktop_sqlite_foreign_keys"
#: Execution option: the ``PRAGMA busy_timeout`` (ms) to set before the transaction begins (start-up waits less).
_SQLITE_BUSY_TIMEOUT = "artist_desktop_sqlite_busy_timeout"
#: Execution option of :meth:`Database.read_session`'s engine: begin transactions DEFERRED (no write lock).
_SQLITE_READ_ONLY = "artist_desktop_sqlite_read_only"


def _on_sqlite_begin(connection: Any) -> None:
    """Take the write lock when a transaction starts, so concurrent writers wait (busy_timeout) in turn."""
    foreign_keys = connection.get_execution_options().get(_SQLITE_FOREIGN_KEYS)
    if foreign_keys is not None:
        connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
    busy_timeout = connection.get_execution_options().get(_SQLITE_BUSY_TIMEOUT)
    if busy_timeout is not None:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_timeout)}")
    # A read session's transaction takes no write lock: with WAL it never waits for a writer or holds one up.
    read_only = connection.get_execution_options().get(_SQLITE_READ_ONLY)
    connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


class Database:
    """One database: an async engine plus a session factory. Create with :meth:`from_url`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._read_engine = engine.execution_options(**{_SQLITE_READ_ONLY: True})
        self._read_sessions = async_sessionmaker(self._read_engine, expire_on_commit=False)

    @classmethod
    def from_url(
        cls, url: str | URL, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS, **engine_options: Any
    ) -> Database:
        """Build the engine; a SQLite file's directory is created, a plain ``postgresql://`` gets asyncpg,
        whose new connections give up after ``connect_timeout`` seconds (its own default is 60)."""
        parsed = normalise_url(url)
        options: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            if _is_memory_sqlite(parsed):
                # One shared connection, or every pooled connection would see its own empty database.
                options["poolclass"] = StaticPool
            else:
                Path(str(parsed.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        else:
            options["pool_pre_ping"] = True
            options["connect_args"] = {"timeout": connect_timeout}
        options.update(engine_options)
        engine = create_async_engine(parsed, **options)
        if parsed.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
            event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The URL for display and logs: the password is masked."""
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    async def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it already is), on this engine.

        Processes starting at once migrate one at a time: PostgreSQL takes an advisory lock
        (:data:`MIGRATION_LOCK_KEY`) in the migration's transaction, SQLite an ``flock`` on a file beside the
        database (``.<name>.migrate.lock``; the ``BEGIN IMMEDIATE`` below would serialise them too, but gives up
        after the short start-up busy timeout). The others wait, then find nothing to do.

        On SQLite the migrations run with foreign keys off: a batch operation rebuilds a table (copy, drop,
        rename), and dropping it with foreign keys on would first delete every row that references it
        (``ON DELETE CASCADE``). ``PRAGMA foreign_key_check`` must find nothing before the commit, and the
        connection gets its foreign keys back before the pool hands it out again.
        """
        if self.dialect != "sqlite":
            async with self.engine.begin() as connection:
                # One migrator at a time: the others wait here, then find the schema at head (nothing to do).
                # A transaction-level lock: the commit (or a dropped connection) releases it.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:ns, :key)"),
                    {"ns": MIGRATION_LOCK_NAMESPACE, "key": MIGRATION_LOCK_KEY},
                )
                await connection.run_sync(_upgrade_head)
            return
        async with _sqlite_migration_lock(self.engine.url):
            await self._migrate_sqlite()

    async def _migrate_sqlite(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execution_options(
                **{_SQLITE_FOREIGN_KEYS: False, _SQLITE_BUSY_TIMEOUT: SQLITE_STARTUP_BUSY_TIMEOUT_MS}
            )
            try:
                async with connection.begin():
                    await connection.run_sync(_upgrade_head)
                    broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"the migration left rows pointing at missing rows: {broken[:5]}")
            finally:
                await connection.execution_options(
                    **{_SQLITE_FOREIGN_KEYS: True, _SQLITE_BUSY_TIMEOUT: SQLITE_BUSY_TIMEOUT_MS}
                )
                with contextlib.suppress(DBAPIError):  # after a lock, the error above is the one to report
                    async with connection.begin():  # an empty transaction: its start turns foreign keys on
                        pass

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session for one unit of work; the caller commits. Objects stay readable after commit."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (the library, the queue's state, histories). On SQLite its transactions begin
        DEFERRED, so a long read (10,000 artists' trends) never holds the write lock the import's and the
        refresh's short writes wait for (`SQLITE_BUSY_TIMEOUT_MS`). Writing in it works but may meet "locked"."""
        async with self._read_sessions() as session:
            yield session

    async def ping(self) -> bool:
        """Whether the database answers a trivial query (for health checks and the status bar)."""
        try:
            async with self._read_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("Database %s does not answer: %s", self.url, exc)
            return False
        return True

    async def dispose(self) -> None:
        """Close every pooled connection (call on shutdown)."""
        await self.engine.dispose()


def _migration_lock_path(url: URL) -> tuple[Path, Path]:
    """The SQLite database file and its migration lock file beside it."""
    database = Path(str(url.database)).expanduser()
    return database, database.with_name(f".{database.name}.migrate.lock")


@asynccontextmanager
async def _sqlite_migration_lock(url: URL) -> AsyncIterator[None]:
    """Hold an exclusive ``flock`` on ``.<database file>.migrate.lock`` (nothing for a memory database, or
    without ``fcntl``: Windows relies on ``BEGIN IMMEDIATE``)."""
    try:
        import fcntl
    except ImportError:
        fcntl = None  # type: ignore[assignment]
    if fcntl is None or _is_memory_sqlite(url):
        yield
        return
    database, path = _migration_lock_path(url)
    handle = await asyncio.to_thread(path.open, "a")
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SQLITE_MIGRATION_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if loop.time() > deadline:
                    raise TimeoutError(
                        f"another process has been migrating {database} for {SQLITE_MIGRATION_WAIT_SECONDS:g} s"
                    ) from None
                await asyncio.sleep(_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _upgrade_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def open_database(url: str | URL, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> Database:
    """A migrated database, ready to use; a PostgreSQL server that does not answer fails after ``connect_timeout``.

    Raises `DatabaseOpenError` with one sentence for the faults people meet (a SQLite file locked by another
    program, read-only, damaged; a PostgreSQL server that does not answer or refuses the login).
    """
    database = Database.from_url(url, connect_timeout=connect_timeout)
    try:
        await database.migrate()
    except BaseException as exc:
        await database.dispose()
        if isinstance(exc, Exception):
            said = TimeoutError(f"no answer within {connect_timeout:g} s") if _silent_timeout(exc) else exc
            raise DatabaseOpenError(describe_open_failure(said, database.engine.url)) from exc
        raise
    return database


def _silent_timeout(exc: BaseException) -> bool:
    """A connection attempt that ran out of time without a word (asyncpg's TimeoutError has no text)."""
    return isinstance(exc, TimeoutError) and not str(exc)


def describe_open_failure(exc: BaseException, url: URL) -> str:
    """One sentence for why ``url`` could not be opened, naming the file or host and what to do."""
    text = str(getattr(exc, "orig", None) or exc)
    lowered = text.lower()
    if url.get_backend_name() == "sqlite":
        where = str(Path(str(url.database)).expanduser())
        if "locked" in lowered:
            return (
                f"The database {where} is locked by another program (a database browser, or a stuck Artist "
                "Desktop): close it and start again."
            )
        if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
            return f"The database {where} cannot be written: check the permissions of the file and its folder."
        if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
            return (
                f"The database {where} is damaged or is not a database: move it aside and start again to "
                "create a new one."
            )
        return f"The database {where} cannot be opened: {text}"
    host = f"{url.host or 'localhost'}:{url.port or 5432}"
    if "password" in lowered or "authentication" in lowered or "role" in lowered:
        return f"PostgreSQL at {host} refused the login ({text}): check the user and password in DATABASE_URL."
    if "does not exist" in lowered and "database" in lowered:
        return f"PostgreSQL at {host} has no database {url.database!r}: create it, or fix DATABASE_URL."
    if isinstance(exc, OSError | TimeoutError) or "connect" in lowered or "refused" in lowered:
        reason = text or type(exc).__name__
        return f"PostgreSQL at {host} does not answer ({reason}): check DATABASE_URL and that the server runs."
    return f"The database at {host} cannot be opened: {text}"
