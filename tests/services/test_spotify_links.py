"""Short links: ``spotify.link/<code>`` and ``open.spotify.com/s/<code>`` resolved by reading one redirect,
served here by a tiny redirect server on loopback standing in for Spotify's link hosts."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from artist_desktop.services import NotFoundError, RequestError, ServiceUnavailableError
from artist_desktop.services.spotify_links import resolve_short_link

QUEEN = "1dfeR4HaWDbWqFHLkxsg1d"


class RedirectServer:
    """Answers ``path -> (status, Location)`` over real HTTP/1.1 and records each request line."""

    def __init__(self, routes: dict[str, tuple[int, str | None]]) -> None:
        self.routes = routes
        self.requests: list[str] = []
        self.base_url = ""
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode().strip()
        while (await reader.readline()).strip():
            pass  # headers
        method, target, _ = request_line.split(" ", 2)
        self.requests.append(f"{method} {target}")
        status, location = self.routes.get(target.split("?", 1)[0], (404, None))
        head = f"HTTP/1.1 {status} Whatever\r\nContent-Length: 0\r\nConnection: close\r\n"
        if location:
            head += f"Location: {location}\r\n"
        writer.write((head + "\r\n").encode())
        await writer.drain()
        writer.close()


@pytest.fixture
async def links() -> AsyncIterator[RedirectServer]:
    server = RedirectServer(
        {
            "/queen": (307, f"https://open.spotify.com/artist/{QUEEN}?si=3b5cf1f0a4d04c1f"),
            "/s/queenDE": (302, f"https://open.spotify.com/intl-de/artist/{QUEEN}"),
            "/asong": (307, "https://open.spotify.com/track/4u7EnebtmKWzUH433cf5Qv?si=x"),
            "/home": (200, None),
        }
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def hosts(server: RedirectServer) -> dict[str, str]:
    return {"spotify.link": server.base_url, "open.spotify.com": server.base_url}


async def test_a_spotify_link_resolves_to_the_artist_id_with_one_request(links: RedirectServer) -> None:
    assert await resolve_short_link("https://spotify.link/queen", base_urls=hosts(links)) == QUEEN
    assert links.requests == ["GET /queen"]  # the redirect was read, not followed


async def test_an_open_spotify_s_link_with_spaces_around_it_resolves_too(links: RedirectServer) -> None:
    assert await resolve_short_link("  https://open.spotify.com/s/queenDE \n", base_urls=hosts(links)) == QUEEN


async def test_a_link_to_a_song_says_it_does_not_lead_to_an_artist(links: RedirectServer) -> None:
    with pytest.raises(NotFoundError, match=r"does not lead to a Spotify artist \(it leads to a track\)"):
        await resolve_short_link("https://spotify.link/asong", base_urls=hosts(links))


@pytest.mark.parametrize("code", ["home", "gone"])
async def test_a_link_without_a_redirect_does_not_lead_to_an_artist(links: RedirectServer, code: str) -> None:
    with pytest.raises(NotFoundError, match="does not lead to a Spotify artist"):
        await resolve_short_link(f"https://spotify.link/{code}", base_urls=hosts(links))


async def test_a_link_host_that_cannot_be_reached_says_so() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceUnavailableError, match=r"The Spotify link https://spotify.link/queen cannot be reached"):
        await resolve_short_link("https://spotify.link/queen", base_urls={"spotify.link": f"http://127.0.0.1:{port}"})


async def test_a_full_artist_link_needs_no_request_and_other_text_is_refused(links: RedirectServer) -> None:
    assert await resolve_short_link(f"https://open.spotify.com/artist/{QUEEN}?si=1", base_urls=hosts(links)) == QUEEN
    assert await resolve_short_link(f"spotify:artist:{QUEEN}", base_urls=hosts(links)) == QUEEN
    with pytest.raises(RequestError, match="is not a Spotify artist link"):
        await resolve_short_link("https://example.org/queen", base_urls=hosts(links))
    assert links.requests == []
