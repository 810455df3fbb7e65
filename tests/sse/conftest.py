"""Fixtures for the SSE tests: a server factory (Redis and the bus come from tests/conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import ProgressUpdate, Stage
from artist_desktop.sse import SseServer, create_app

ARTIST_A = "4Z8W4fKeB5YxbusRsdQVPb"
ARTIST_B = "0OdUWJ0sBjDrqHygGUXeCF"
ARTIST_C = "3WrFJ7ztbogyGnTHbHJFl2"


@dataclass
class Running:
    """A started SSE server and what the test needs to talk to it."""

    server: SseServer
    app: Starlette
    stop_event: asyncio.Event

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def clients(self) -> int:
        count: int = self.app.state.hub.client_count
        return count


StartSse = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_sse(bus: ProgressBus) -> AsyncIterator[StartSse]:
    """Start the SSE server on a free loopback port of the test's loop; stopped after the test."""
    started: list[Running] = []

    async def start(*, port: int = 0, host: str = "127.0.0.1", **options: Any) -> Running:
        stop_event = asyncio.Event()
        options.setdefault("ping_interval", 15.0)
        app = create_app(bus, stop_event=stop_event, **options)
        server = SseServer(app, stop_event)
        await server.start(host, port)
        running = Running(server, app, stop_event)
        started.append(running)
        return running

    yield start
    for running in started:
        await running.server.stop()


def update(spotify_id: str, stage: Stage, progress: int, message: str = "") -> ProgressUpdate:
    return ProgressUpdate(spotify_id=spotify_id, stage=stage, progress=progress, message=message)


async def wait_for(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll until ``condition()`` holds (raises TimeoutError after ``within`` seconds)."""
    async with asyncio.timeout(within):
        while True:
            if condition():
                return
            await asyncio.sleep(0.01)
