"""The progress bus: publish each artist's latest update to Redis and stream updates to subscribers.

Redis layout (DESIGN.md, "Progress contract"), ``{ns}`` being the configurable prefix:

- ``{ns}artist:progress:{spotify_id}``: the latest update's JSON; expires 300 s after COMPLETE or
  ERROR, never before. Updates are also PUBLISHed on a channel of the same name.
- ``{ns}artist:progress-seq:{spotify_id}``: the artist's seq counter, kept 24 h after its last use
  so seq keeps increasing across retries of the same artist.

One Lua script assigns the seq, SETs and PUBLISHes, so a snapshot and the stream never disagree.
A new counter starts at the server's clock in microseconds rather than at 1: a restarted Redis
without persistence (the embedded one) loses its counters, and starting from the clock keeps seq
increasing across the restart, so subscribers and SSE clients (``Last-Event-ID``) that remember an
older seq still accept the new updates.

Errors: publishing, reading and clearing raise redis-py's errors (``redis.exceptions.RedisError``,
``ConnectionError`` when the server is gone); :meth:`ProgressBus.ping` never raises. A subscription
handles connection errors itself (reconnects with backoff) and raises anything else to its reader.
:class:`DeferredPublisher` is how the import pipeline publishes: progress is not the import, so while Redis
is away it keeps each artist's latest update (the database ledger stays the truth) and publishes them when
Redis is back; it raises nothing for a connection error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from types import TracebackType
from typing import Final, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from artist_desktop.domain import ProgressUpdate, ServicePause, utcnow

__all__ = [
    "DEFAULT_PREFIX",
    "FINAL_TTL_SECONDS",
    "SEQ_TTL_SECONDS",
    "DeferredPublisher",
    "ProgressBus",
    "ProgressSubscription",
]

log = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "artist-desktop:"
#: How long the latest update stays readable after COMPLETE or ERROR.
#: Seconds a closing subscription waits for its connection before giving up on it.
CLOSE_TIMEOUT: Final = 1.0
#: Messages handled between two yields to the event loop (the window stays responsive under a backlog).
YIELD_EVERY: Final = 50
FINAL_TTL_SECONDS: Final = 300
#: How long an artist's seq counter survives its last update.
SEQ_TTL_SECONDS: Final = 24 * 3600
_MGET_CHUNK = 500

# KEYS[1] latest-update key (also the channel), KEYS[2] seq counter.
# ARGV[1] the update's JSON object without "seq" and "ts", ARGV[2] "ts" as a JSON string,
# ARGV[3] expiry of the latest key in seconds (0: none), ARGV[4] expiry of the counter.
# The JSON is spliced, not re-encoded: cjson would turn [] into {} and round big numbers.
_PUBLISH_LUA = """
local seq = redis.call('INCR', KEYS[2])
if seq == 1 then
  local now = redis.call('TIME')
  seq = tonumber(now[1]) * 1000000 + tonumber(now[2])
  redis.call('SET', KEYS[2], string.format('%d', seq))
end
redis.call('EXPIRE', KEYS[2], ARGV[4])
local json = string.sub(ARGV[1], 1, -2) .. ',"seq":' .. string.format('%d', seq) .. ',"ts":' .. ARGV[2] .. '}'
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], json, 'EX', ttl)
else
  redis.call('SET', KEYS[1], json)
end
redis.call('PUBLISH', KEYS[1], json)
return seq
"""

_CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


def _glob_escape(text: str) -> str:
    """Escape Redis glob metacharacters, so a prefix such as ``team[1]:`` matches only itself."""
    return re.sub(r"([\\*?\[\]])", r"\\\1", text)


def _decode(raw: bytes | str | None) -> ProgressUpdate | None:
    if raw is None:
        return None
    try:
        return ProgressUpdate.from_json(raw)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("Ignoring a malformed progress update (%s): %.200r", exc, raw)
        return None


class ProgressBus:
    """Publishes progress updates and reads the latest state, on one Redis client the caller owns."""

    def __init__(self, redis: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self._redis = redis
        self._prefix = prefix
        self._publish_script = redis.register_script(_PUBLISH_LUA)

    @property
    def redis(self) -> Redis:
        return self._redis

    @property
    def prefix(self) -> str:
        return self._prefix

    def key(self, spotify_id: str) -> str:
        """The latest-update key, which is also the artist's channel."""
        return f"{self._prefix}artist:progress:{spotify_id}"

    channel = key

    def seq_key(self, spotify_id: str) -> str:
        return f"{self._prefix}artist:progress-seq:{spotify_id}"

    @property
    def pattern(self) -> str:
        """The glob matching every artist's key and channel (and nothing else)."""
        return f"{_glob_escape(self._prefix)}artist:progress:*"

    async def publish(self, update: ProgressUpdate) -> ProgressUpdate:
        """Assign the next seq, store the update as the latest and publish it, atomically."""
        body = update.to_dict()
        body.pop("seq")
        ts = body.pop("ts")
        ttl = FINAL_TTL_SECONDS if update.stage.is_final else 0
        seq = await self._publish_script(
            keys=[self.key(update.spotify_id), self.seq_key(update.spotify_id)],
            args=[json.dumps(body, separators=(",", ":")), json.dumps(ts), ttl, SEQ_TTL_SECONDS],
        )
        return update.with_seq(int(seq))

    async def snapshot(self, spotify_id: str) -> ProgressUpdate | None:
        """The artist's latest update, or None (never published, cleared, or expired after the end)."""
        return _decode(await self._redis.get(self.key(spotify_id)))

    async def snapshots(self) -> dict[str, ProgressUpdate]:
        """Every artist's latest update under this prefix, by Spotify id."""
        keys = [key async for key in self._redis.scan_iter(match=self.pattern, count=_MGET_CHUNK)]
        found: dict[str, ProgressUpdate] = {}
        for start in range(0, len(keys), _MGET_CHUNK):
            for raw in await self._redis.mget(keys[start : start + _MGET_CHUNK]):
                update = _decode(raw)  # None too when the key expired between SCAN and MGET
                if update is not None:
                    found[update.spotify_id] = update
        return found

    def pause_key(self, service: str) -> str:
        """The key holding a service pause (``{ns}service-pause:spotify``), expiring when the pause ends."""
        return f"{self._prefix}service-pause:{service.lower()}"

    async def record_pause(self, pause: ServicePause) -> None:
        """Share a service pause with every process on this Redis (the database holds the durable copy)."""
        milliseconds = int((pause.resume_at - utcnow()).total_seconds() * 1000)
        if milliseconds <= 0:
            return
        body = {"service": pause.service, "resume_at": pause.resume_at.isoformat(), "reason": pause.reason}
        await self._redis.set(self.pause_key(pause.service), json.dumps(body), px=milliseconds)

    async def pause(self, service: str) -> ServicePause | None:
        """The pause of ``service`` recorded on Redis and still in force, or None."""
        raw = await self._redis.get(self.pause_key(service))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            pause = ServicePause(str(data["service"]), datetime.fromisoformat(data["resume_at"]), str(data["reason"]))
        except (ValueError, KeyError, TypeError):
            return None
        return pause if pause.is_active() else None

    async def clear(self, spotify_id: str) -> None:
        """Forget the artist's latest update (it left the queue); its seq counter keeps counting."""
        await self._redis.delete(self.key(spotify_id))

    async def ping(self) -> bool:
        """True when Redis answers; never raises (the status bar asks this)."""
        try:
            return bool(await cast("Awaitable[bool]", self._redis.ping()))
        except (RedisError, OSError):
            return False

    def subscribe(
        self,
        spotify_id: str | None = None,
        *,
        on_connection_change: Callable[[bool], None] | None = None,
    ) -> ProgressSubscription:
        """Updates of one artist, or of every artist: ``async with bus.subscribe() as sub: async for ...``."""
        return ProgressSubscription(self, spotify_id, on_connection_change=on_connection_change)


class DeferredPublisher:
    """Publishes updates on a bus; while Redis is away, keeps each artist's latest update and publishes it later.

    :meth:`publish` never raises a connection error: the update waits (a later one of the same artist replaces
    it) and a background task retries with backoff (``min_retry`` doubling to ``max_retry`` seconds) until
    Redis answers, then publishes what waits, so the bus's snapshots end equal to the last update of each
    artist. An artist's updates keep their order: while one of its updates waits, its newer ones wait too.
    The outage is logged once when it starts and once when it ends; then ``on_back`` (if given) runs, for the
    owner to re-derive what a restarted Redis lost (the runner publishes the ledger's state of those artists).
    """

    def __init__(
        self,
        bus: ProgressBus,
        *,
        min_retry: float = 0.5,
        max_retry: float = 5.0,
        on_back: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.bus = bus
        self._on_back = on_back
        self._min_retry = min_retry
        self._max_retry = max_retry
        self._pending: dict[str, ProgressUpdate] = {}
        self._task: asyncio.Task[None] | None = None
        self._away_since: float | None = None
        self._idle = asyncio.Event()  # set while no update waits
        self._idle.set()

    @property
    def waiting(self) -> int:
        """How many artists' updates wait for Redis."""
        return len(self._pending)

    @property
    def redis_away(self) -> bool:
        """True from a failed publish until a publish succeeds again."""
        return self._away_since is not None

    async def publish(self, update: ProgressUpdate) -> ProgressUpdate:
        """Publish now (the update with its seq), or keep it for later (returned as given, seq 0)."""
        if update.spotify_id in self._pending:
            self._pending[update.spotify_id] = update  # behind an older one that waits: keep the order
            return update
        try:
            published = await self.bus.publish(update)
        except _CONNECTION_ERRORS as exc:
            self._went_away(exc)
            self._pending.setdefault(update.spotify_id, update)
            self._idle.clear()
            self._start_retrying()
            return update
        return published

    def _went_away(self, exc: BaseException) -> None:
        if self._away_since is None:
            self._away_since = time.monotonic()
            log.warning("Redis is away (%s): progress updates wait and are published when it is back", exc)

    def _start_retrying(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._retry(), name="progress-retry")

    async def _retry(self) -> None:
        delay = self._min_retry
        while self._pending:
            await asyncio.sleep(delay)
            try:
                await self._publish_waiting()
            except _CONNECTION_ERRORS:
                delay = min(self._max_retry, delay * 2)
                continue
            if self._away_since is not None:
                log.warning("Redis is back after %.1f s: waiting progress updates published", self._since_away())
                self._away_since = None
                if self._on_back is not None:
                    await self._back()

    async def _back(self) -> None:
        """Redis answers again: the owner re-derives what a restarted (empty) Redis lost."""
        assert self._on_back is not None
        try:
            await self._on_back()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the next outage's end tries again; the view reconciles with the ledger anyway
            log.warning("re-publishing after Redis came back failed: %s", exc)

    def _since_away(self) -> float:
        return time.monotonic() - self._away_since if self._away_since is not None else 0.0

    async def _publish_waiting(self) -> None:
        while self._pending:
            spotify_id, update = next(iter(self._pending.items()))
            await self.bus.publish(update)  # the entry stays while it is published, so newer ones queue behind
            if self._pending.get(spotify_id) is update:
                del self._pending[spotify_id]
                if not self._pending:
                    self._idle.set()
            else:  # a newer update arrived meanwhile: it goes next, after the others
                self._pending[spotify_id] = self._pending.pop(spotify_id)

    async def drain(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for the waiting updates to be published; True when none wait."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), seconds)
        return not self._pending

    async def aclose(self) -> None:
        """Stop retrying (the updates still waiting are dropped: the ledger has the jobs' states)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _End:
    """Queue marker: the subscription was closed."""


_END: Final = _End()


class ProgressSubscription:
    """Current snapshots first, then live updates; reconnects by itself; never repeats or rewinds.

    Each artist's updates come in publish order, and an update whose seq is not above the last one
    yielded for that artist is dropped. After every (re)subscription the snapshots are re-read and
    the newer ones yielded, so a final state published while the link was down is not missed.
    ``connected`` (and ``on_connection_change``, called on each change and once for the first
    outcome) tells whether the subscription is live. Closing ends the iteration promptly.
    """

    def __init__(
        self,
        bus: ProgressBus,
        spotify_id: str | None = None,
        *,
        on_connection_change: Callable[[bool], None] | None = None,
        min_backoff: float = 0.05,
        max_backoff: float = 2.0,
        poll_interval: float = 1.0,
    ) -> None:
        self._bus = bus
        self._spotify_id = spotify_id
        self.on_connection_change = on_connection_change
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._poll_interval = poll_interval
        self._last_seq: dict[str, int] = {}
        self._queue: asyncio.Queue[ProgressUpdate | BaseException | _End] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._state: bool | None = None
        self._connected_event = asyncio.Event()
        self._closed = False

    @property
    def connected(self) -> bool:
        return bool(self._state)

    async def wait_connected(self) -> None:
        """Return once subscribed and the snapshots are queued (bound it with ``asyncio.timeout``)."""
        self._start()
        await self._connected_event.wait()

    # -- iteration ---------------------------------------------------------------------------------

    def _start(self) -> None:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run(), name=f"progress-subscription:{self._channel}")

    async def __aenter__(self) -> ProgressSubscription:
        self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> ProgressSubscription:
        self._start()
        return self

    async def __anext__(self) -> ProgressUpdate:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, _End):
            self._queue.put_nowait(item)  # later calls stop too
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item

    async def aclose(self) -> None:
        """Stop listening and release the connection; a pending ``async for`` ends."""
        if self._closed:
            return
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            # Cancel until it ends: on Python 3.11 asyncio.wait_for (redis-py's socket_timeout writes) drops a
            # cancellation that arrives as the write completes, and the reader would go on listening.
            deadline = asyncio.get_running_loop().time() + 2 * CLOSE_TIMEOUT
            done: set[asyncio.Task[None]] = set()
            while not done and asyncio.get_running_loop().time() < deadline:
                task.cancel()
                done, _ = await asyncio.wait({task}, timeout=0.05)
            if not done:
                log.warning("the progress subscription did not stop within %.0f s", 2 * CLOSE_TIMEOUT)
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise asyncio.CancelledError
        self._state = False
        self._connected_event.clear()
        self._queue.put_nowait(_END)

    # -- the reader task ---------------------------------------------------------------------------

    @property
    def _channel(self) -> str:
        return self._bus.pattern if self._spotify_id is None else self._bus.key(self._spotify_id)

    async def _run(self) -> None:
        failures = 0
        while True:
            pubsub = self._bus.redis.pubsub()
            try:
                await self._listen(pubsub)
            except _CONNECTION_ERRORS as exc:
                failures = 1 if self._state else failures + 1  # a live link that dropped starts over
                delay = min(self._max_backoff, self._min_backoff * 2 ** (failures - 1))
                delay *= random.uniform(0.8, 1.2)
                log.info("Progress subscription lost Redis (%s); retrying in %.2f s", exc, delay)
                self._set_state(False)
            except Exception as exc:  # not a connection problem: the reader must see it
                self._set_state(False)
                self._queue.put_nowait(exc)
                return
            finally:
                # Bounded: closing a connection stuck mid-read must not keep the app from shutting down.
                with contextlib.suppress(RedisError, OSError, TimeoutError):
                    await asyncio.wait_for(pubsub.aclose(), CLOSE_TIMEOUT)  # type: ignore[no-untyped-call]
            if self._closed:  # _listen returns once the subscription is closed
                return
            await asyncio.sleep(delay)

    async def _listen(self, pubsub: PubSub) -> None:
        if self._spotify_id is None:
            await pubsub.psubscribe(self._channel)
        else:
            await pubsub.subscribe(self._channel)
        handled = 0
        while not self._closed:  # also ends a reader whose cancellation was lost (see aclose)
            message = await pubsub.get_message(timeout=self._poll_interval)
            if message is None:
                continue
            handled += 1
            if handled % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a backlog is drained in slices, never in one long step
            kind = message["type"]
            if kind in ("subscribe", "psubscribe"):
                # Also seen when redis-py re-subscribed by itself after a brief drop.
                await self._resync()
                self._set_state(True)
            elif kind in ("message", "pmessage"):
                update = _decode(message["data"])
                if update is not None:
                    self._offer([update])

    async def _resync(self) -> None:
        if self._spotify_id is None:
            current = list((await self._bus.snapshots()).values())
        else:
            one = await self._bus.snapshot(self._spotify_id)
            current = [one] if one is not None else []
        self._offer(sorted(current, key=lambda update: (update.ts.timestamp(), update.spotify_id)))

    def _offer(self, updates: Iterable[ProgressUpdate]) -> None:
        for update in updates:
            if update.seq <= self._last_seq.get(update.spotify_id, 0):
                continue
            self._last_seq[update.spotify_id] = update.seq
            self._queue.put_nowait(update)

    def _set_state(self, connected: bool) -> None:
        if connected:
            self._connected_event.set()
        else:
            self._connected_event.clear()
        if self._state is connected:
            return
        self._state = connected
        if self.on_connection_change is not None:
            try:
                self.on_connection_change(connected)
            except Exception:  # a broken callback must not stop the stream
                log.exception("on_connection_change callback failed")
