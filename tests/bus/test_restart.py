"""A subscription outlives a Redis restart and still ends up with every artist's final state."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from artist_desktop.bus import EmbeddedRedis, ProgressBus, ProgressSubscription, connect_redis
from artist_desktop.domain import ProgressUpdate, Stage

pytestmark = pytest.mark.filterwarnings("error::ResourceWarning")

PREFIX = "restart-test:"
IDS = [f"restart{n:015d}" for n in range(5)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def first_server(tmp_path: Path) -> AsyncIterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "first", port=free_port())
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def publish_all(url: str, stage: Stage, progress: int) -> list[ProgressUpdate]:
    """Publish through a client of its own, as a pipeline worker started after the restart would."""
    client = connect_redis(url)
    try:
        bus = ProgressBus(client, PREFIX)
        return [await bus.publish(ProgressUpdate(sid, stage, progress)) for sid in IDS]
    finally:
        await client.aclose()


async def read(subscription: ProgressSubscription, count: int) -> list[ProgressUpdate]:
    async with asyncio.timeout(10):
        return [await anext(subscription) for _ in range(count)]


@pytest.mark.parametrize("final_arrives", ["live", "via-snapshot"])
async def test_subscriber_reconnects_and_sees_every_final_state(
    first_server: EmbeddedRedis, tmp_path: Path, final_arrives: str
) -> None:
    url = first_server.url
    client = connect_redis(url)
    changes: list[bool] = []
    went_down, came_back = asyncio.Event(), asyncio.Event()

    def on_connection_change(connected: bool) -> None:
        changes.append(connected)
        if not connected:
            went_down.set()
        elif went_down.is_set():
            came_back.set()

    # A slow first retry makes "the final state was published while the subscriber was away" certain.
    subscription = ProgressSubscription(
        ProgressBus(client, PREFIX),
        on_connection_change=on_connection_change,
        min_backoff=0.05 if final_arrives == "live" else 1.0,
    )
    second = EmbeddedRedis(tmp_path / "second", port=int(url.rsplit(":", 1)[1]))
    try:
        async with subscription:
            async with asyncio.timeout(5):
                await subscription.wait_connected()
            before = await publish_all(url, Stage.INIT, 0) + await publish_all(url, Stage.METADATA, 10)
            seen = await read(subscription, len(before))

            await first_server.stop()
            async with asyncio.timeout(5):
                await went_down.wait()
            assert await second.start() == url  # same port, empty (no persistence)

            if final_arrives == "live":
                async with asyncio.timeout(5):
                    await came_back.wait()
            finals = await publish_all(url, Stage.COMPLETE, 100)
            if final_arrives == "via-snapshot":
                assert not subscription.connected
            seen += await read(subscription, len(finals))
    finally:
        await client.aclose()
        await second.stop()

    assert changes == [True, False, True]
    for sid, final in zip(IDS, finals, strict=True):
        mine = [update for update in seen if update.spotify_id == sid]
        assert [update.stage for update in mine] == [Stage.INIT, Stage.METADATA, Stage.COMPLETE]
        assert mine[-1] == final
        assert mine[-1].seq > mine[-2].seq  # seq still increases after the restart


async def test_subscriber_whose_connection_is_killed_still_gets_the_final_state(redis_url: str) -> None:
    name = f"kill-me-{uuid.uuid4().hex[:8]}"
    client = connect_redis(redis_url, client_name=name)
    bus = ProgressBus(client, f"{name}:")
    try:
        async with bus.subscribe() as subscription:
            async with asyncio.timeout(5):
                await subscription.wait_connected()
            started = [await bus.publish(ProgressUpdate(sid, Stage.INIT, 0)) for sid in IDS]
            assert await read(subscription, len(IDS)) == started
            for entry in await client.client_list(_type="pubsub"):
                if entry["name"] == name:
                    await client.client_kill_filter(_id=entry["id"])
            finals = [await bus.publish(ProgressUpdate(sid, Stage.COMPLETE, 100)) for sid in IDS]
            assert await read(subscription, len(IDS)) == finals
    finally:
        await client.aclose()
