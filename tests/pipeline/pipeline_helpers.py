"""Helpers the pipeline tests share (imported as ``pipeline_helpers``: tests/pipeline is on sys.path)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import ImportRequest, JobStatus, ProgressUpdate
from artist_desktop.runtime import Runtime


async def import_and_follow(
    app: Runtime, requests: Sequence[ImportRequest], within: float = 60
) -> dict[str, list[ProgressUpdate]]:
    """Queue ``requests``, run the queue until idle while following the bus, and require every artist to
    complete; returns every progress update each artist published, in order."""
    seen: dict[str, list[ProgressUpdate]] = defaultdict(list)
    subscribed = asyncio.Event()

    async def follow() -> None:
        async with app.bus.subscribe() as subscription:
            subscribed.set()
            async for update in subscription:
                seen[update.spotify_id].append(update)

    follower = asyncio.create_task(follow())
    try:
        await subscribed.wait()
        await app.application.enqueue(requests)
        await asyncio.wait_for(app.runner.run_until_idle(), within)
        await asyncio.sleep(0.2)  # the last updates reach the subscriber
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    ids = [request.spotify_id for request in requests]
    outcomes = await app.runner.outcomes(ids)
    assert [o.status for o in outcomes] == [JobStatus.COMPLETE] * len(ids), [o.error for o in outcomes]
    return seen


class Recorder:
    """Subscribes like the window does and keeps every update per artist."""

    def __init__(self, bus: ProgressBus) -> None:
        self.bus = bus
        self.seen: dict[str, list[ProgressUpdate]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Recorder:
        started = asyncio.Event()

        async def follow() -> None:
            async with self.bus.subscribe() as subscription:
                started.set()
                async for update in subscription:
                    self.seen[update.spotify_id].append(update)

        self._task = asyncio.create_task(follow())
        await started.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.2)
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
