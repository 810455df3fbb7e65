"""The progress bus: atomic publish with seq, snapshots, expiry of final states, ordered subscriptions."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json

import pytest

from artist_desktop.bus import (
    FINAL_TTL_SECONDS,
    SEQ_TTL_SECONDS,
    ProgressBus,
    ProgressSubscription,
    connect_redis,
)
from artist_desktop.domain import STAGE_RANGES, ProgressUpdate, Stage

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")


def artist_id(n: int) -> str:
    return f"artist{n:016d}"  # 22 characters of base 62, like a Spotify id


def stage_for(progress: int) -> Stage:
    """The stage a pipeline is in at this progress (DESIGN.md, "Stages, concretely")."""
    if progress == 100:
        return Stage.COMPLETE
    for stage, (low, high) in STAGE_RANGES.items():
        if low <= progress < high:
            return stage
    return Stage.STORE


async def collect(subscription: ProgressSubscription, count: int, seconds: float = 10.0) -> list[ProgressUpdate]:
    got: list[ProgressUpdate] = []
    async with asyncio.timeout(seconds):
        async for update in subscription:
            got.append(update)
            if len(got) == count:
                break
    return got


async def test_publish_assigns_increasing_seq_and_snapshot_is_the_latest(bus: ProgressBus) -> None:
    sid = artist_id(1)
    assert await bus.snapshot(sid) is None
    published = [
        await bus.publish(ProgressUpdate(sid, Stage.INIT, 0, "Adding Artist")),
        await bus.publish(ProgressUpdate(sid, Stage.METADATA, 10, "Spotify artist")),
        await bus.publish(
            ProgressUpdate(
                sid,
                Stage.ANALYTICS,
                30,
                "Deezer fans",
                details="MusicBrainz: 503, skipped",
                payload={"warnings": [], "fans": 12_345_678_901_234_567, "ratio": 0.1},
            )
        ),
    ]
    seqs = [update.seq for update in published]
    assert seqs == sorted(set(seqs)) and seqs[0] > 0
    latest = await bus.snapshot(sid)
    assert latest == published[-1]
    # Stored byte for byte as the contract's JSON, payload untouched (empty list, big integer).
    raw = await bus.redis.get(bus.key(sid))
    assert raw is not None and json.loads(raw) == published[-1].to_dict()
    assert json.loads(raw)["payload"] == {"warnings": [], "fans": 12_345_678_901_234_567, "ratio": 0.1}


async def test_published_json_reaches_subscribers_of_the_channel(bus: ProgressBus) -> None:
    sid = artist_id(2)
    pubsub = bus.redis.pubsub()
    try:
        await pubsub.subscribe(bus.channel(sid))
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        sent = await bus.publish(ProgressUpdate(sid, Stage.MEDIA, 60, "Images"))
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=2)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    assert message is not None and message["channel"] == bus.key(sid).encode()
    assert ProgressUpdate.from_json(message["data"]) == sent


async def test_final_states_expire_and_a_retry_makes_the_state_permanent_again(bus: ProgressBus) -> None:
    sid = artist_id(3)
    first = await bus.publish(ProgressUpdate(sid, Stage.STORE, 80))
    assert await bus.redis.ttl(bus.key(sid)) == -1  # running: never expires
    assert 0 < await bus.redis.ttl(bus.seq_key(sid)) <= SEQ_TTL_SECONDS
    failed = await bus.publish(ProgressUpdate(sid, Stage.ERROR, 80, payload={"stage": "STORE"}))
    assert 1 <= await bus.redis.ttl(bus.key(sid)) <= FINAL_TTL_SECONDS
    retried = await bus.publish(ProgressUpdate(sid, Stage.INIT, 0))
    assert await bus.redis.ttl(bus.key(sid)) == -1
    done = await bus.publish(ProgressUpdate(sid, Stage.COMPLETE, 100))
    assert 1 <= await bus.redis.ttl(bus.key(sid)) <= FINAL_TTL_SECONDS
    assert first.seq < failed.seq < retried.seq < done.seq  # seq keeps increasing across retries


async def test_snapshots_list_this_prefix_only_and_clear_forgets_one(bus: ProgressBus, redis_url: str) -> None:
    ids = [artist_id(n) for n in range(10, 13)]
    for n, sid in enumerate(ids):
        await bus.publish(ProgressUpdate(sid, Stage.METADATA, 10 + n))
    other = ProgressBus(bus.redis, prefix=bus.prefix + "other[1]:")
    await other.publish(ProgressUpdate(artist_id(99), Stage.INIT, 0))
    snapshots = await bus.snapshots()
    assert {sid: update.progress for sid, update in snapshots.items()} == dict(zip(ids, [10, 11, 12], strict=True))
    assert list(await other.snapshots()) == [artist_id(99)]
    await bus.clear(ids[0])
    assert await bus.snapshot(ids[0]) is None
    assert set(await bus.snapshots()) == set(ids[1:])
    # The counter survives clear: a later run of the same artist continues its seq.
    again = await bus.publish(ProgressUpdate(ids[0], Stage.INIT, 0))
    assert again.seq > snapshots[ids[0]].seq


async def test_snapshots_read_many_keys_in_chunks(bus: ProgressBus) -> None:
    await asyncio.gather(*(bus.publish(ProgressUpdate(artist_id(n), Stage.INIT, 1)) for n in range(600)))
    snapshots = await bus.snapshots()
    assert len(snapshots) == 600 and all(update.progress == 1 for update in snapshots.values())


async def test_subscriber_sees_every_update_of_fifty_artists_in_order(bus: ProgressBus) -> None:
    ids = [artist_id(n) for n in range(50)]
    steps = [5 * i + 5 for i in range(20)]  # 5, 10, ... 100 (COMPLETE)
    async with bus.subscribe() as subscription:
        async with asyncio.timeout(5):
            await subscription.wait_connected()
        assert subscription.connected

        async def run_artist(sid: str) -> list[ProgressUpdate]:
            return [await bus.publish(ProgressUpdate(sid, stage_for(p), p)) for p in steps]

        receiving = asyncio.create_task(collect(subscription, 1000))
        sent = await asyncio.gather(*(run_artist(sid) for sid in ids))
        received = await receiving

    by_artist: dict[str, list[ProgressUpdate]] = {sid: [] for sid in ids}
    for update in received:
        by_artist[update.spotify_id].append(update)
    for sid, mine in zip(ids, sent, strict=True):
        assert by_artist[sid] == mine  # every update, in publish order
        seqs = [update.seq for update in by_artist[sid]]
        assert all(a < b for a, b in itertools.pairwise(seqs))
        assert by_artist[sid][-1].stage is Stage.COMPLETE
        assert await bus.snapshot(sid) == mine[-1]


async def test_late_subscriber_first_gets_the_current_state(bus: ProgressBus) -> None:
    ids = [artist_id(n) for n in range(20, 23)]
    for sid in ids:
        for progress in (0, 10, 30):
            await bus.publish(ProgressUpdate(sid, stage_for(progress), progress))
    latest = await bus.snapshots()
    async with bus.subscribe() as subscription:
        first = await collect(subscription, 3)
        assert {update.spotify_id: update for update in first} == latest
        live = await bus.publish(ProgressUpdate(ids[1], Stage.MEDIA, 55))
        assert await collect(subscription, 1) == [live]


async def test_one_artist_subscription_gets_only_that_artist(bus: ProgressBus) -> None:
    mine, other = artist_id(30), artist_id(31)
    before = await bus.publish(ProgressUpdate(mine, Stage.INIT, 0))
    async with bus.subscribe(mine) as subscription:
        assert await collect(subscription, 1) == [before]
        await bus.publish(ProgressUpdate(other, Stage.INIT, 0))
        after = await bus.publish(ProgressUpdate(mine, Stage.COMPLETE, 100))
        assert await collect(subscription, 1) == [after]


async def test_closing_ends_a_waiting_reader_promptly_and_leaves_nothing_behind(redis_url: str) -> None:
    client = connect_redis(redis_url)
    changes: list[bool] = []
    try:
        bus = ProgressBus(client, prefix="close-test:")
        subscription = bus.subscribe(on_connection_change=changes.append)
        received: list[ProgressUpdate] = []

        async def read() -> None:
            async for update in subscription:
                received.append(update)

        reader = asyncio.create_task(read())
        async with asyncio.timeout(5):
            await subscription.wait_connected()
        async with asyncio.timeout(1):
            await subscription.aclose()
            await reader  # the pending `async for` ended by itself
        assert received == [] and changes == [True]
        assert not subscription.connected
        assert [update async for update in subscription] == []  # a closed subscription stays ended
        assert asyncio.all_tasks() == {asyncio.current_task()}
    finally:
        await client.aclose()
    gc.collect()  # an unclosed socket would raise ResourceWarning here (an error in this module)


async def test_ping_reports_reachability_without_raising(bus: ProgressBus) -> None:
    assert await bus.ping()
    dead = connect_redis("redis://127.0.0.1:1")
    try:
        assert await ProgressBus(dead).ping() is False
    finally:
        await dead.aclose()


async def test_a_subscription_closed_right_after_opening_stops_at_once(bus: ProgressBus) -> None:
    """Closing the window just after it opened must not wait on (or leak) the Redis reader."""
    loop = asyncio.get_running_loop()
    for _ in range(20):
        subscription = bus.subscribe()
        async with subscription:
            await asyncio.sleep(0)  # the reader is subscribing or re-reading snapshots
            started = loop.time()
        assert loop.time() - started < 0.5
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
