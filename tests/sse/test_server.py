"""The server around the streams: security, health, the port, a clean stop, the dashboard page."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from artist_desktop.bus import ProgressBus
from artist_desktop.config import load_settings
from artist_desktop.domain import Stage
from artist_desktop.runtime import Runtime, StartupError
from artist_desktop.sse import is_loopback_host
from artist_desktop.sse.server import DEFAULT_SSE_PORT, SseServerError, check_exposure

from .conftest import ARTIST_A, StartSse, update, wait_for


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("localhost:8765", True),
        ("127.0.0.1:8765", True),
        ("127.1.2.3", True),
        ("[::1]:8765", True),
        ("evil.example", False),
        ("evil.example:8765", False),
        ("127.0.0.1.evil.example", False),
        ("192.168.1.20:8765", False),
        ("", False),
        ("localhost", True),
        ("[::1]", True),
        ("localhost:evil", False),
        ("evil.localhost", False),
        ("evil.localhost:8765", False),
        ("127.0.0.1.evil.com", False),
        ("localhost:", False),
        ("localhost:8765:1", False),
        ("[::1]evil", False),
        ("[::1]:evil", False),
        ("localhost:123456", False),
    ],
)
def test_only_loopback_host_names_are_accepted(host: str, allowed: bool) -> None:
    assert is_loopback_host(host) is allowed


@pytest.mark.parametrize("host", ["localhost:evil", "evil.localhost", "127.0.0.1.evil.com", "stats.team.internal:x"])
async def test_forged_loopback_host_headers_are_refused(start_sse: StartSse, host: str) -> None:
    sse = await start_sse(allowed_hosts=["stats.team.internal"])
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{sse.url}/api/health", headers={"Host": host})
    assert response.status_code == 421


@pytest.mark.parametrize("host", ["localhost", f"localhost:{DEFAULT_SSE_PORT}", "127.0.0.1:8765", "[::1]:8765"])
async def test_loopback_host_headers_are_accepted(start_sse: StartSse, host: str) -> None:
    sse = await start_sse()
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{sse.url}/api/health", headers={"Host": host})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("host", "token", "refused"),
    [
        ("0.0.0.0", "", True),
        ("::", "", True),
        ("", "", True),
        ("192.168.1.20", "", True),
        ("stats.team.internal", "", True),
        ("0.0.0.0", "s3cret-token", False),
        ("127.0.0.1", "", False),
        ("localhost", "", False),
        ("::1", "", False),
    ],
)
def test_other_machines_are_only_served_with_a_token(host: str, token: str, refused: bool) -> None:
    if refused:
        with pytest.raises(SseServerError, match=r"^The progress stream would be open to other machines .* SSE_TOKEN"):
            check_exposure(host, token)
    else:
        check_exposure(host, token)


async def test_the_runtime_refuses_to_serve_the_network_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIST_DESKTOP_SSE_HOST", "0.0.0.0")
    runtime = Runtime(load_settings(), with_sse=True)
    with pytest.raises(StartupError, match=r"SSE_HOST=0\.0\.0\.0 without an access token: set SSE_TOKEN too"):
        await runtime.start()
    assert runtime.sse is None
    assert runtime._embedded is None or not runtime._embedded.running


async def test_a_foreign_host_header_is_refused(start_sse: StartSse) -> None:
    sse = await start_sse()
    async with httpx.AsyncClient(timeout=5) as client:
        evil = await client.get(f"{sse.url}/api/health", headers={"Host": "evil.example"})
        local = await client.get(f"{sse.url}/api/health", headers={"Host": "localhost"})
    assert evil.status_code == 421
    assert local.status_code == 200


async def test_a_host_named_in_allowed_hosts_is_accepted(start_sse: StartSse) -> None:
    sse = await start_sse(allowed_hosts=["stats.team.internal"])
    async with httpx.AsyncClient(timeout=5) as client:
        named = await client.get(f"{sse.url}/api/health", headers={"Host": "stats.team.internal:8765"})
        evil = await client.get(f"{sse.url}/api/health", headers={"Host": "evil.example"})
    assert (named.status_code, evil.status_code) == (200, 421)


async def test_the_token_is_required_when_set(start_sse: StartSse) -> None:
    sse = await start_sse(token="s3cret-token")
    url = f"{sse.url}/api/health"
    async with httpx.AsyncClient(timeout=5) as client:
        missing = await client.get(url)
        wrong = await client.get(url, headers={"Authorization": "Bearer nope"})
        wrong_query = await client.get(url, params={"token": "nope"})
        header = await client.get(url, headers={"Authorization": "Bearer s3cret-token"})
        query = await client.get(url, params={"token": "s3cret-token"})
        page = await client.get(f"{sse.url}/", params={"token": "s3cret-token"})
    assert [missing.status_code, wrong.status_code, wrong_query.status_code] == [401, 401, 401]
    assert missing.headers["www-authenticate"] == "Bearer"
    assert [header.status_code, query.status_code, page.status_code] == [200, 200, 200]


async def test_a_stream_with_the_token_in_the_query_works(bus: ProgressBus, start_sse: StartSse) -> None:
    sse = await start_sse(token="s3cret-token")
    await bus.publish(update(ARTIST_A, Stage.COMPLETE, 100))
    async with (
        httpx.AsyncClient(timeout=5) as client,
        aconnect_sse(
            client, "GET", f"{sse.url}/api/artists/progress/{ARTIST_A}", params={"token": "s3cret-token"}
        ) as source,
    ):
        stages = [json.loads(event.data)["stage"] async for event in source.aiter_sse()]
    assert stages == ["COMPLETE"]


async def test_cors_only_for_configured_origins(start_sse: StartSse) -> None:
    sse = await start_sse(cors_origins=["http://localhost:3000"])
    async with httpx.AsyncClient(timeout=5) as client:
        allowed = await client.get(f"{sse.url}/api/health", headers={"Origin": "http://localhost:3000"})
        other = await client.get(f"{sse.url}/api/health", headers={"Origin": "http://localhost:4000"})
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "access-control-allow-origin" not in other.headers


async def test_health_reports_redis_and_database(start_sse: StartSse) -> None:
    async def healthy() -> dict[str, Any]:
        return {"database": True}

    async def broken() -> dict[str, Any]:
        raise OSError("database is locked")

    ok = await start_sse(health=healthy)
    degraded = await start_sse(health=broken)
    async with httpx.AsyncClient(timeout=5) as client:
        good = await client.get(f"{ok.url}/api/health")
        bad = await client.get(f"{degraded.url}/api/health")
    assert good.status_code == 200
    assert good.json() | {"clients": 0} == {"status": "ok", "redis": True, "database": True, "clients": 0}
    assert bad.status_code == 503
    assert bad.json()["status"] == "degraded"
    assert bad.json()["database"] is False
    assert bad.json()["redis"] is True


async def test_a_taken_port_is_replaced_by_a_free_one(start_sse: StartSse) -> None:
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        taken = squatter.getsockname()[1]
        sse = await start_sse(port=taken)
        assert sse.server.port_was_taken
        assert sse.server.port != taken
        assert sse.url == f"http://127.0.0.1:{sse.server.port}"
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(f"{sse.url}/api/health")
        assert response.status_code == 200
    free = await start_sse(port=0)
    assert not free.server.port_was_taken


async def test_stop_ends_open_streams_cleanly_and_frees_the_port(start_sse: StartSse) -> None:
    sse = await start_sse()
    port = sse.server.port
    assert port is not None
    ended_cleanly = asyncio.Event()

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=10) as client,
            aconnect_sse(client, "GET", f"{sse.url}/api/artists/progress/{ARTIST_A}") as source,
        ):
            async for _ in source.aiter_sse():
                pass
        ended_cleanly.set()  # no RemoteProtocolError: the stream ended on a message boundary

    readers = [asyncio.create_task(read()) for _ in range(3)]
    await wait_for(lambda: sse.clients == 3)
    started = time.monotonic()
    await sse.server.stop()
    async with asyncio.timeout(2):
        await asyncio.gather(*readers)
    assert ended_cleanly.is_set()
    # The app can listen on the port again (SO_REUSEADDR, as uvicorn and every server binds: a plain
    # bind may still meet TIME_WAIT entries of connections the server closed).
    with socket.create_server(("127.0.0.1", port)):
        pass
    assert time.monotonic() - started < 2
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(timeout=2) as client:
            await client.get(f"http://127.0.0.1:{port}/api/health")


async def test_the_dashboard_page_is_served(start_sse: StartSse) -> None:
    sse = await start_sse()
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{sse.url}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "new EventSource(" in response.text


async def test_stage_labels_and_names_for_the_dashboard(bus: ProgressBus, start_sse: StartSse) -> None:
    async def names(spotify_ids: list[str]) -> dict[str, str]:
        return {spotify_id: "Daft Punk" for spotify_id in spotify_ids}

    sse = await start_sse(names=names)
    async with httpx.AsyncClient(base_url=sse.url) as client:
        stages = (await client.get("/api/stages")).json()
        assert stages["INIT"] == "Adding Artist" and stages["STORE"] == "Saving Data"
        found = await client.get("/api/artists/names", params={"ids": f"{ARTIST_A},not-an-id"})
        assert found.json() == {ARTIST_A: "Daft Punk"}
        too_many = await client.get("/api/artists/names", params={"ids": ",".join([ARTIST_A] * 201)})
        assert too_many.status_code == 400
