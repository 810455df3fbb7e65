"""The batcher on its own (a recording loader, a real in-process rate gate): who shares a request, when it
goes, what the waiting callers hear, and how errors and cancellation reach them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import pytest

from artist_desktop.pipeline.coalesce import Batcher, Pace, waiting_message
from artist_desktop.services.errors import ServiceUnavailableError
from artist_desktop.services.http import RateGate


class Loader:
    """Answers ``key * 10`` (odd keys unknown), remembering each batch and when it came."""

    def __init__(self, fail: Exception | None = None, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.times: list[float] = []
        self.fail = fail
        self.delay = delay

    async def __call__(self, keys: list[int]) -> Mapping[int, int | None]:
        self.batches.append(list(keys))
        self.times.append(time.monotonic())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        return {key: key * 10 for key in keys if key % 2 == 0}


def batcher(load: Loader, gate: RateGate | None = None, **options: float) -> Batcher[int, int]:
    pace = Pace(gate if gate is not None else RateGate("Test"), max_wait=30.0)
    return Batcher("test lookups", load, pace, quiet=options.get("quiet", 0.05), max_window=options.get("window", 2.0))


async def test_callers_that_arrive_together_share_one_load_and_each_gets_its_value() -> None:
    load = Loader()
    lookups = batcher(load)
    results = await asyncio.gather(*(lookups.get(key) for key in (4, 1, 2, 4)))
    assert results == [40, None, 20, 40]
    assert load.batches == [[4, 1, 2]]  # each key once
    assert list(lookups.sent_sizes) == [3]


async def test_a_full_batch_goes_at_once_and_the_next_key_opens_another() -> None:
    load = Loader()
    lookups = Batcher("test", load, Pace(RateGate("Test"), 30.0), max_batch=3, quiet=5.0, max_window=1.0)
    started = time.monotonic()
    results = await asyncio.gather(*(lookups.get(key) for key in range(0, 14, 2)))
    assert results == [key * 10 for key in range(0, 14, 2)]
    assert load.batches == [[0, 2, 4], [6, 8, 10], [12]]
    assert load.times[1] - started < 0.5  # full batches go at once
    assert load.times[2] - started >= 1.0  # the last one waited out its window (quiet is 5 s)


async def test_while_the_gate_is_not_ready_callers_keep_joining_the_next_batch() -> None:
    """The gate admits one request per 0.4 s: the first batch goes at once, everyone arriving in the next
    0.4 s shares the second, and the second goes when the gate would let it through, not earlier."""
    load = Loader()
    lookups = batcher(load, RateGate("Test", 1, 0.4))

    async def arrive(key: int, after: float) -> int | None:
        await asyncio.sleep(after)
        return await lookups.get(key)

    first = asyncio.ensure_future(arrive(0, 0))
    await asyncio.sleep(0.1)  # the first batch (quiet 0.05 s) has gone
    later = [arrive(key, 0.03 * n) for n, key in enumerate(range(2, 20, 2))]
    results = await asyncio.gather(first, *later)
    assert results == [key * 10 for key in range(0, 20, 2)]
    assert load.batches == [[0], list(range(2, 20, 2))]
    assert load.times[1] - load.times[0] >= 0.4


async def test_a_closed_gate_holds_the_batch_and_a_pause_longer_than_the_client_waits_does_not() -> None:
    gate = RateGate("Test")
    gate.close_for(0.5)
    load = Loader()
    lookups = batcher(load, gate)
    started = time.monotonic()
    assert await asyncio.gather(lookups.get(2), lookups.get(4)) == [20, 40]
    assert load.times[0] - started >= 0.45

    gate.close_for(3600)  # a block: the client would refuse at once, so the batch goes and hears it
    started = time.monotonic()
    await lookups.get(6)
    assert load.times[1] - started < 0.5


async def test_every_caller_hears_the_batch_size_when_it_joins_and_when_the_batch_goes() -> None:
    load = Loader(delay=0.2)
    lookups = batcher(load)
    heard: dict[int, list[int]] = {0: [], 2: [], 4: []}

    async def ask(key: int) -> int | None:
        async def on_wait(size: int) -> None:
            heard[key].append(size)

        return await lookups.get(key, on_wait)

    await asyncio.gather(ask(0), ask(2), ask(4))
    assert heard == {0: [1, 3], 2: [2, 3], 4: [3]}
    assert waiting_message("MusicBrainz", 3) == "Waiting for MusicBrainz (batch of 3)"


async def test_the_loads_error_reaches_every_caller_of_the_batch() -> None:
    load = Loader(fail=ServiceUnavailableError("Test", "Test is down"))
    lookups = batcher(load)
    results = await asyncio.gather(lookups.get(2), lookups.get(4), return_exceptions=True)
    assert [str(result) for result in results] == ["Test is down", "Test is down"]
    assert len(load.batches) == 1


async def test_a_cancelled_caller_leaves_the_batch_and_a_batch_nobody_waits_for_is_not_sent() -> None:
    load = Loader()
    lookups = batcher(load, quiet=0.2)
    leaving = asyncio.ensure_future(lookups.get(2))
    staying = asyncio.ensure_future(lookups.get(4))
    await asyncio.sleep(0.05)
    leaving.cancel()
    assert await staying == 40
    assert load.batches == [[4]]

    alone = asyncio.ensure_future(lookups.get(6))
    await asyncio.sleep(0.05)
    alone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await alone
    await asyncio.sleep(0.3)
    assert load.batches == [[4]]  # nobody was left to wait for 6


async def test_a_caller_whose_progress_callback_fails_leaves_and_the_others_get_their_values() -> None:
    load = Loader()
    lookups = batcher(load)

    async def broken(size: int) -> None:
        raise RuntimeError("the progress bus is gone")

    results = await asyncio.gather(lookups.get(2, broken), lookups.get(4), return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] == 40
    assert load.batches == [[4]]
