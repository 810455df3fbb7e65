"""The SSE server on the window's qasync loop: it starts, streams to a client and stops cleanly."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest
from httpx_sse import aconnect_sse

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.domain import Stage
from artist_desktop.sse import SseServer, create_app

from .conftest import ARTIST_A, update, wait_for


@pytest.mark.gui
def test_server_runs_on_the_qasync_loop(redis_url: str, run_async: object) -> None:
    async def scenario() -> tuple[list[str], int]:
        redis = connect_redis(redis_url)
        bus = ProgressBus(redis, prefix="test-qasync:")
        stop_event = asyncio.Event()
        app = create_app(bus, stop_event=stop_event)
        server = SseServer(app, stop_event)
        port = await server.start("127.0.0.1", 0)
        stages: list[str] = []

        async def read() -> None:
            async with (
                httpx.AsyncClient(timeout=10) as client,
                aconnect_sse(client, "GET", f"{server.url}/api/artists/progress/{ARTIST_A}") as source,
            ):
                async for event in source.aiter_sse():
                    stages.append(json.loads(event.data)["stage"])

        try:
            reader = asyncio.create_task(read())
            await wait_for(lambda: app.state.hub.client_count == 1)
            await bus.publish(update(ARTIST_A, Stage.MEDIA, 60))
            await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100))
            async with asyncio.timeout(5):
                await reader
        finally:
            await server.stop()
            await redis.aclose()
        return stages, port

    stages, port = run_async(scenario())  # type: ignore[operator]
    assert stages == ["MEDIA", "COMPLETE"]
    with socket.create_server(("127.0.0.1", port)):  # freed by stop()
        pass
