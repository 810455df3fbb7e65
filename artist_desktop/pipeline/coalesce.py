"""Many artists in flight, few requests: lookups that many artists need from one service go out together.

Artists in flight are cheap coroutines; what costs is requests (and the quota each one spends).

- :class:`Batcher`: one lookup (a key -> value) that many artists need from the same service. The first
  artist opens a batch; others join it while the service's gate is closed; the batch goes out as one request
  when it holds ``max_batch`` keys, or once the gate would admit the next request and no artist joined for
  ``quiet`` seconds (or ``max_window`` seconds after it opened). A closed gate is the reason to wait: if the
  service asked for a pause longer than its client would wait (``RetryPolicy.max_total``), the batch goes at
  once and its artists get the service's error as the client raises it. Every waiting artist hears the
  batch's size when it joins and again when the batch goes ("Waiting for MusicBrainz (batch of 37)").

:class:`MusicBrainzLookups` is the pair of batchers the import uses: Spotify URL -> artist (``/url``, 100
``resource`` per request), then MBID -> details (``arid:`` search, 100 per request), sharing one pace.

Why not ``aiodataloader`` (maintained, typed): it batches what one event-loop tick gathered, with no window
tied to a rate gate and no view of a batch's size for the progress message; the window here is the point.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from artist_desktop.services.http import RateGate
from artist_desktop.services.musicbrainz import MAX_BATCH, MusicBrainzArtist, MusicBrainzClient

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Told the batch's size when an artist joins and again when the batch goes out.
WaitCallback = Callable[[int], Awaitable[None]]
#: Loads one batch of keys: the value per key, keys it could not find left out (or None).
Loader = Callable[[list[K]], Awaitable[Mapping[K, V | None]]]

#: Seconds without a new artist joining after which a batch whose gate is open goes out.
QUIET = 0.25
#: Seconds after a batch went out before its waiting artists hear its final size: their progress updates (a
#: burst of 100) must not hold up the request itself, which a busy loop can otherwise send late enough for
#: the service to count it inside the window of the next one.
ANNOUNCE_AFTER = 0.1
#: Seconds after a batch opened after which it goes out as soon as the gate admits it, joiners or not
#: (while artists keep joining, every request a batch saves is a second of MusicBrainz's quota saved).
MAX_WINDOW = 5.0


class Pace:
    """When the service's gate admits this process's next request, as far as a batcher needs to know.

    The gate stays the authority (it is shared by every caller, and waits itself); this only times a batch
    so that it closes when the gate is about to let it through: the gate's spacing (``1 / rate``) after the
    last batch sent, and the pause a Retry-After put on the gate.
    """

    def __init__(self, gate: RateGate, max_wait: float) -> None:
        self.gate = gate
        #: Seconds between two admissions at the gate's pace (its quota with its safety margin).
        self.interval = 0.0 if math.isinf(gate.rate) else 1 / gate.rate
        #: A pause longer than this is not waited for: the client would refuse at once anyway.
        self.max_wait = max_wait
        self._last_sent = -float("inf")

    def ready_in(self) -> float:
        """Seconds until the gate would admit the next batch (0: now). A pause the client would not wait
        through counts as 0: the batch goes, and its artists get the service's answer at once."""
        closed = self.gate.closed_for
        if closed > self.max_wait:
            return 0.0
        spacing = self._last_sent + self.interval - time.monotonic()
        return max(0.0, spacing, closed)

    def sent(self) -> None:
        """A batch goes out now; it takes the gate's next place (now, or its turn after the last one)."""
        self._last_sent = max(time.monotonic(), self._last_sent + self.interval)


@dataclass(eq=False)
class _Batch(Generic[K, V]):
    """The keys that will go out in one request, each with the futures of the callers waiting for it."""

    opened_at: float
    last_join: float
    waiters: dict[K, list[asyncio.Future[V | None]]] = field(default_factory=dict)
    full: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set when the batch is sealed (sent, or dropped with nobody left waiting).
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    #: Set :data:`ANNOUNCE_AFTER` seconds after the batch went out: its waiters hear its final size.
    announced: asyncio.Event = field(default_factory=asyncio.Event)
    #: The number of keys the batch went out with (None until then).
    sent_size: int | None = None
    task: asyncio.Task[None] | None = None

    @property
    def size(self) -> int:
        return len(self.waiters)

    def live(self) -> bool:
        return any(not future.done() for futures in self.waiters.values() for future in futures)


class Batcher(Generic[K, V]):
    """Collects the keys many artists need from one service and loads them together (see the module)."""

    def __init__(
        self,
        what: str,
        load: Loader[K, V],
        pace: Pace,
        *,
        max_batch: int = MAX_BATCH,
        quiet: float = QUIET,
        max_window: float = MAX_WINDOW,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"a batch holds at least one key (got {max_batch})")
        self.what = what
        self._load = load
        self.pace = pace
        self.max_batch = max_batch
        self.quiet = quiet
        self.max_window = max_window
        self._open: _Batch[K, V] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: The sizes of the last 100 batches sent, oldest first (for logs and tests).
        self.sent_sizes: deque[int] = deque(maxlen=100)

    async def get(self, key: K, on_wait: WaitCallback | None = None) -> V | None:
        """The value for ``key`` (None: the service has none), loaded with the other keys of its batch.

        ``on_wait(size)`` hears the batch's size when this key joins and, if it grew, when the batch goes
        out. The load's error (a :class:`~artist_desktop.services.ServiceError`) is raised to every key's
        caller. A caller cancelled (or whose ``on_wait`` raised) takes its key out of a batch not yet sent.
        """
        batch = self._open
        if batch is None:
            now = time.monotonic()
            batch = self._open = _Batch(opened_at=now, last_join=now)
            batch.task = asyncio.get_running_loop().create_task(self._flush(batch), name=f"batch-{self.what}")
            self._tasks.add(batch.task)
            batch.task.add_done_callback(self._tasks.discard)
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        batch.waiters.setdefault(key, []).append(future)
        batch.last_join = time.monotonic()
        joined_size = batch.size
        if joined_size >= self.max_batch:
            self._open = None  # full: the next key opens another batch
            batch.full.set()
        try:
            if on_wait is not None:
                await on_wait(joined_size)
                await self._until_sent(batch, future)
                if not future.done() and batch.sent_size not in (None, joined_size):
                    await on_wait(batch.sent_size)  # still waiting: the batch's final size
            return await future
        except BaseException:  # cancelled, or on_wait failed: this caller no longer waits for its key
            self._leave(batch, key, future)
            raise

    @staticmethod
    async def _until_sent(batch: _Batch[K, V], future: asyncio.Future[V | None]) -> None:
        """Wait until the batch has gone out (and :data:`ANNOUNCE_AFTER` passed) or ``future`` has its value."""
        if future.done() or batch.announced.is_set():
            return
        announced = asyncio.ensure_future(batch.announced.wait())
        either: set[asyncio.Future[Any]] = {announced, future}
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        finally:
            announced.cancel()

    def _leave(self, batch: _Batch[K, V], key: K, future: asyncio.Future[V | None]) -> None:
        future.cancel()
        if not batch.gone.is_set():  # not sent yet: the key leaves the batch
            futures = batch.waiters.get(key, [])
            if future in futures:
                futures.remove(future)
            if not futures:
                batch.waiters.pop(key, None)
        if not batch.live() and batch.task is not None:
            batch.task.cancel()  # nobody waits for this batch any more
            if self._open is batch:
                self._open = None

    async def _flush(self, batch: _Batch[K, V]) -> None:
        """Hold the batch until it is full, or the gate is about to admit it and the joining has stopped."""
        try:
            while not batch.full.is_set():
                now = time.monotonic()
                settling = min(batch.last_join + self.quiet, batch.opened_at + self.max_window) - now
                wait = max(self.pace.ready_in(), settling)
                if wait <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(batch.full.wait(), wait)
            if self._open is batch:
                self._open = None
            keys = list(batch.waiters)
            batch.sent_size = len(keys)
            batch.gone.set()
            if not keys:
                return
            self.pace.sent()
            self.sent_sizes.append(len(keys))
            asyncio.get_running_loop().call_later(ANNOUNCE_AFTER, batch.announced.set)
            log.debug("%s: %d keys in one request", self.what, len(keys))
            try:
                found = await self._load(keys)
            except Exception as exc:
                for futures in batch.waiters.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                return
            for key, futures in batch.waiters.items():
                for future in futures:
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            batch.gone.set()
            batch.announced.set()
            for futures in batch.waiters.values():
                for future in futures:
                    future.cancel()  # only those still pending: the batch was cancelled

    async def aclose(self) -> None:
        """Cancel batches still waiting or in flight (their callers see CancelledError)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._open = None


class MusicBrainzLookups:
    """The artist behind a Spotify URL, and an artist's details by MBID, each batched with the other artists'.

    Both batchers share one :class:`Pace`: MusicBrainz has one gate, and one request a second for both.
    """

    service = "MusicBrainz"

    def __init__(
        self,
        client: MusicBrainzClient,
        *,
        quiet: float = QUIET,
        max_window: float = MAX_WINDOW,
    ) -> None:
        self.client = client
        pace = Pace(client.gate, client.retry.max_total)
        self.by_url: Batcher[str, MusicBrainzArtist] = Batcher(
            "MusicBrainz URL lookups", client.artists_for_spotify_urls, pace, quiet=quiet, max_window=max_window
        )
        self.by_mbid: Batcher[str, MusicBrainzArtist] = Batcher(
            "MusicBrainz artist details", client.artists_by_mbid, pace, quiet=quiet, max_window=max_window
        )

    @property
    def sent_sizes(self) -> list[int]:
        """The sizes of the batches sent lately, URL lookups then details."""
        return [*self.by_url.sent_sizes, *self.by_mbid.sent_sizes]

    async def aclose(self) -> None:
        for batcher in (self.by_url, self.by_mbid):
            await batcher.aclose()


def waiting_message(service: str, size: int) -> str:
    """ "Waiting for MusicBrainz (batch of 37)"."""
    return f"Waiting for {service} (batch of {size})"


__all__ = [
    "ANNOUNCE_AFTER",
    "MAX_WINDOW",
    "QUIET",
    "Batcher",
    "MusicBrainzLookups",
    "Pace",
    "WaitCallback",
    "waiting_message",
]
