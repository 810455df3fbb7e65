"""The progress streams, as an SSE client sees them: order, resume, end, heartbeats, many clients."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from httpx_sse import ServerSentEvent, aconnect_sse

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import ProgressUpdate, Stage

from .conftest import ARTIST_A, ARTIST_B, ARTIST_C, StartSse, update, wait_for

CONTRACT_KEYS = {"spotify_id", "stage", "progress", "message", "details", "payload", "seq", "ts"}


async def collect(client: httpx.AsyncClient, url: str, **kwargs: Any) -> list[ServerSentEvent]:
    """Every event of a stream until the server ends it."""
    async with aconnect_sse(client, "GET", url, **kwargs) as source:
        source.response.raise_for_status()
        return [event async for event in source.aiter_sse()]


async def test_snapshot_first_then_live_updates_then_the_stream_ends(bus: ProgressBus, start_sse: StartSse) -> None:
    sse = await start_sse()
    first = await bus.publish(update(ARTIST_A, Stage.METADATA, 10, "Spotify artist"))
    events: list[ServerSentEvent] = []

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            aconnect_sse(client, "GET", f"{sse.url}/api/artists/progress/{ARTIST_A}") as source,
        ):
            assert source.response.headers["content-type"].startswith("text/event-stream")
            async for event in source.aiter_sse():
                events.append(event)

    reader = asyncio.create_task(read())
    await wait_for(lambda: len(events) == 1)
    later = [
        await bus.publish(update(ARTIST_A, Stage.ANALYTICS, 30)),
        await bus.publish(update(ARTIST_B, Stage.ANALYTICS, 30)),  # another artist: not in this stream
        await bus.publish(update(ARTIST_A, Stage.STORE, 80)),
        await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100, "Done")),
    ]
    async with asyncio.timeout(5):
        await reader  # ended by the server after COMPLETE

    expected = [first, later[0], later[2], later[3]]
    assert [e.event for e in events] == ["progress"] * 4
    assert [int(e.id) for e in events] == [u.seq for u in expected]
    assert [json.loads(e.data)["stage"] for e in events] == ["METADATA", "ANALYTICS", "STORE", "COMPLETE"]
    data = json.loads(events[0].data)
    assert set(data) == CONTRACT_KEYS
    assert data["message"] == "Spotify artist" and data["progress"] == 10


async def test_last_event_id_resumes_without_repeats(bus: ProgressBus, start_sse: StartSse) -> None:
    sse = await start_sse()
    await bus.publish(update(ARTIST_A, Stage.INIT, 2))
    seen = await bus.publish(update(ARTIST_A, Stage.METADATA, 20))
    events: list[ServerSentEvent] = []

    async def read() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            url = f"{sse.url}/api/artists/progress/{ARTIST_A}"
            headers = {"Last-Event-ID": str(seen.seq)}
            async with aconnect_sse(client, "GET", url, headers=headers) as source:
                async for event in source.aiter_sse():
                    events.append(event)

    reader = asyncio.create_task(read())
    await wait_for(lambda: sse.clients == 1)
    rest = [
        await bus.publish(update(ARTIST_A, Stage.MEDIA, 60)),
        await bus.publish(update(ARTIST_A, Stage.ERROR, 60, "Spotify is down")),
    ]
    async with asyncio.timeout(5):
        await reader
    assert [int(e.id) for e in events] == [u.seq for u in rest]

    # Reconnecting after the final update: 204, which tells an EventSource to stop reconnecting.
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(
            f"{sse.url}/api/artists/progress/{ARTIST_A}", headers={"Last-Event-ID": str(rest[-1].seq)}
        )
    assert response.status_code == 204


async def test_a_finished_artist_gets_its_final_state_and_the_stream_ends(
    bus: ProgressBus, start_sse: StartSse
) -> None:
    sse = await start_sse()
    done = await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100))
    async with httpx.AsyncClient(timeout=5) as client:
        events = await collect(client, f"{sse.url}/api/artists/progress/{ARTIST_A}")
    assert [(e.id, json.loads(e.data)["stage"]) for e in events] == [(str(done.seq), "COMPLETE")]


async def test_artist_without_progress_waits_with_heartbeats_then_receives(
    bus: ProgressBus, start_sse: StartSse
) -> None:
    sse = await start_sse(ping_interval=0.2)
    lines: list[str] = []

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("GET", f"{sse.url}/api/artists/progress/{ARTIST_C}") as response,
        ):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                lines.append(line)

    reader = asyncio.create_task(read())
    await wait_for(lambda: sum(line.startswith(":") for line in lines) >= 2, within=3)
    assert not any(line.startswith("data:") for line in lines)  # nothing made up while waiting
    done = await bus.publish(update(ARTIST_C, Stage.COMPLETE, 100))
    async with asyncio.timeout(5):
        await reader
    assert f"id: {done.seq}" in lines
    assert any(line.startswith("data:") and '"COMPLETE"' in line for line in lines)


async def test_invalid_artist_id_is_a_400_json_error(start_sse: StartSse) -> None:
    sse = await start_sse()
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{sse.url}/api/artists/progress/not-an-id")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_id"


async def test_all_artists_stream_sends_every_snapshot_then_every_update(bus: ProgressBus, start_sse: StartSse) -> None:
    sse = await start_sse()
    await bus.publish(update(ARTIST_A, Stage.METADATA, 10))
    await bus.publish(update(ARTIST_B, Stage.COMPLETE, 100))
    received: list[tuple[str, str]] = []

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            aconnect_sse(client, "GET", f"{sse.url}/api/artists/progress") as source,
        ):
            async for event in source.aiter_sse():
                data = json.loads(event.data)
                received.append((data["spotify_id"], data["stage"]))

    reader = asyncio.create_task(read())
    await wait_for(lambda: len(received) == 2)
    assert sorted(received) == sorted([(ARTIST_A, "METADATA"), (ARTIST_B, "COMPLETE")])
    await bus.publish(update(ARTIST_C, Stage.INIT, 1))
    await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100))
    await wait_for(lambda: len(received) == 4)
    assert received[2:] == [(ARTIST_C, "INIT"), (ARTIST_A, "COMPLETE")]
    await asyncio.sleep(0.2)
    assert not reader.done()  # a dashboard stream never ends on its own
    reader.cancel()


async def test_one_hundred_clients_each_receive_every_update(bus: ProgressBus, start_sse: StartSse) -> None:
    sse = await start_sse()
    limits = httpx.Limits(max_connections=120, max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=20, limits=limits) as client:
        readers = [
            asyncio.create_task(collect(client, f"{sse.url}/api/artists/progress/{ARTIST_A}")) for _ in range(100)
        ]
        await wait_for(lambda: sse.clients == 100, within=15)
        published = [await bus.publish(update(ARTIST_A, Stage.MEDIA, 50 + i)) for i in range(19)]
        published.append(await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100)))
        async with asyncio.timeout(20):
            results = await asyncio.gather(*readers)
    expected = [str(u.seq) for u in published]
    wrong = [[e.id for e in events] for events in results if [e.id for e in events] != expected]
    assert not wrong, (expected, wrong[:3])


@pytest.fixture
def slow() -> Iterator[socket.socket]:
    """A raw client socket with a tiny receive buffer (closed after the test)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        yield sock


async def test_a_slow_client_is_cut_off_and_never_delays_the_others(
    bus: ProgressBus, start_sse: StartSse, slow: socket.socket
) -> None:
    sse = await start_sse(client_queue_size=50, abort_grace=5.0)
    # A client that never reads, with a tiny receive buffer: its socket fills after a few updates.
    port = sse.server.port
    assert port is not None
    await asyncio.get_running_loop().sock_connect(slow, ("127.0.0.1", port))
    request = f"GET /api/artists/progress HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    await asyncio.get_running_loop().sock_sendall(slow, request.encode())

    fast_seqs: list[int] = []

    async def fast() -> None:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            aconnect_sse(client, "GET", f"{sse.url}/api/artists/progress/{ARTIST_A}") as source,
        ):
            async for event in source.aiter_sse():
                fast_seqs.append(int(event.id))

    reader = asyncio.create_task(fast())
    await wait_for(lambda: sse.clients == 2)
    padding = "x" * 16000
    published: list[ProgressUpdate] = []
    slowest_publish = 0.0
    # The kernel buffers a few MB for the slow socket; keep publishing until it is cut off.
    while sse.clients == 2 and len(published) < 2000:
        for _ in range(10):
            started = time.monotonic()
            published.append(await bus.publish(update(ARTIST_A, Stage.MEDIA, 60, padding)))
            slowest_publish = max(slowest_publish, time.monotonic() - started)
        await asyncio.sleep(0.01)  # paced like a real import, so the fast client keeps up
    assert sse.clients == 1, "the slow client was never cut off"
    published.append(await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100)))
    async with asyncio.timeout(5):
        await reader
    assert fast_seqs == [u.seq for u in published]
    assert slowest_publish < 0.5

    # Reading now (within the grace period) lets its blocked write finish: the last event says why.
    received = bytearray()
    async with asyncio.timeout(10):
        while chunk := await asyncio.get_running_loop().sock_recv(slow, 65536):
            received += chunk
            if b"fell_behind" in received:
                break
    assert b"event: error" in received
    assert b"fell_behind" in received
