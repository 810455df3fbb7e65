"""The path every request takes through the double: injected faults, latency, counters."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from double_helpers import UA

from artist_desktop.devtools.api_double import DEEZER, IMAGES, MUSICBRAINZ, SPOTIFY, ApiDouble, DoubleConfig, Fault


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def test_injected_faults_run_out_after_the_asked_number(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    artist = next(a for a in api_double.catalog.artists if a.deezer)
    deezer_id = artist.deezer["id"] if artist.deezer else 0
    api_double.inject(DEEZER, deezer_id, Fault.http(500), times=1)
    api_double.inject(DEEZER, deezer_id, Fault.malformed(), times=1)
    url = f"{api_double.urls.deezer_api_url}/artist/{deezer_id}"
    assert (await http.get(url)).status_code == 500
    with pytest.raises(ValueError):
        (await http.get(url)).json()
    assert (await http.get(url)).json()["name"] == artist.name
    assert api_double.request_count(DEEZER, f"/artist/{deezer_id}") == 3


async def test_faults_take_each_services_error_shape(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    api_double.inject(SPOTIFY, "*", Fault.rate_limited(7))
    api_double.inject(MUSICBRAINZ, "*", Fault.rate_limited(3))
    api_double.inject(DEEZER, "*", Fault.rate_limited())
    spotify = await http.get(f"{api_double.urls.spotify_api_url}/search?q=a&type=artist")
    assert (spotify.status_code, spotify.headers["Retry-After"]) == (429, "7")
    assert spotify.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    musicbrainz = await http.get(f"{api_double.urls.musicbrainz_api_url}/url", headers=UA)
    assert (musicbrainz.status_code, musicbrainz.headers["Retry-After"]) == (503, "3")
    deezer = await http.get(f"{api_double.urls.deezer_api_url}/artist/1")
    assert (deezer.status_code, deezer.json()["error"]["code"]) == (200, 4)
    api_double.inject(SPOTIFY, "*", Fault.http(502), times=None)
    for _ in range(2):
        failing = await http.get(f"{api_double.urls.spotify_api_url}/search?q=a&type=artist")
        assert failing.json() == {"error": {"status": 502, "message": "Bad Gateway"}}
    api_double.clear_faults()
    assert (await http.get(f"{api_double.urls.spotify_api_url}/search?q=a&type=artist")).status_code == 401
    with pytest.raises(ValueError, match="unknown service"):
        api_double.inject("myspace", "*", Fault.http(500))


async def test_latency_slows_every_request(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig(latency=0.2)) as double:
        started = time.monotonic()
        await http.get(f"{double.urls.deezer_api_url}/artist/1")
        assert time.monotonic() - started >= 0.2
        double.set_latency(0.0)
        started = time.monotonic()
        await http.get(f"{double.urls.deezer_api_url}/artist/1")
        assert time.monotonic() - started < 0.2


async def test_counters_split_by_service_and_reset(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    await http.get(f"{api_double.urls.deezer_api_url}/artist/1")
    await http.get(f"{api_double.urls.images_url}/dz1-56.png", headers={"User-Agent": "Viewer/2"})
    assert api_double.request_count() == 2
    assert api_double.request_count(IMAGES) == api_double.request_count(DEEZER, prefix="/artist/") == 1
    assert api_double.last_user_agent(IMAGES) == "Viewer/2" and api_double.last_user_agent(SPOTIFY) is None
    api_double.reset_counters()
    assert api_double.request_count() == 0
