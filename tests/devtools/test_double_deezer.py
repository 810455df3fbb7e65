"""The double's Deezer: artist top tracks in the documented shape, HTTP-200 errors, the shared 50-per-5-s quota."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools._png import png_size
from artist_desktop.devtools.api_double import DEEZER, ApiDouble, DoubleConfig, Fault

TRACK_FIELDS = {
    "id",
    "readable",
    "title",
    "title_short",
    "link",
    "duration",
    "rank",
    "explicit_lyrics",
    "preview",
    "artist",
    "album",
    "type",
}
COVERS = {"cover": 250, "cover_small": 56, "cover_medium": 250, "cover_big": 500, "cover_xl": 1000}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def daft_punk(double: ApiDouble) -> tuple[int, CatalogArtist]:
    artist = next(a for a in double.catalog.artists if a.name == "Daft Punk")
    assert artist.deezer is not None and len(artist.top_tracks) > 5
    return int(artist.deezer["id"]), artist


async def test_top_tracks_answer_the_documented_shape(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    deezer_id, artist = daft_punk(api_double)
    answer = await http.get(f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"data", "total", "next"}
    assert body["total"] == len(artist.top_tracks) and len(body["data"]) == 5  # Deezer's default page
    assert body["next"] == f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top?index=5&limit=5"
    by_title = {t.name: t for t in artist.top_tracks}
    for track in body["data"]:
        assert set(track) == TRACK_FIELDS and track["type"] == "track"
        source = by_title[track["title"]]
        assert isinstance(track["id"], int) and track["link"] == f"https://www.deezer.com/track/{track['id']}"
        assert track["duration"] == round(source.duration_ms / 1000)  # seconds, not ms
        assert isinstance(track["rank"], int) and 1 <= track["rank"] <= 1_000_000
        assert track["artist"]["id"] == deezer_id and track["artist"]["name"] == "Daft Punk"
        assert track["album"]["title"] == source.album and isinstance(track["album"]["id"], int)
        assert track["preview"].endswith(".mp3")
    ranks = [t["rank"] for t in body["data"]]
    assert ranks == sorted(ranks, reverse=True)  # most popular first
    popularity = [by_title[t["title"]].popularity for t in body["data"]]
    assert popularity == sorted(popularity, reverse=True)  # rank follows Spotify's popularity


async def test_top_tracks_are_stable_and_one_album_keeps_one_id(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    deezer_id, artist = daft_punk(api_double)
    url = f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top?limit=10"
    first, second = (await http.get(url)).json(), (await http.get(url)).json()
    assert first == second
    async with ApiDouble() as other:  # ids are derived from the catalog, not from the run
        again = (await http.get(f"{other.urls.deezer_api_url}/artist/{deezer_id}/top?limit=10")).json()
    assert [(t["id"], t["rank"], t["album"]["id"]) for t in again["data"]] == [
        (t["id"], t["rank"], t["album"]["id"]) for t in first["data"]
    ]
    albums: dict[str, set[int]] = {}
    for track in first["data"]:
        albums.setdefault(track["album"]["title"], set()).add(track["album"]["id"])
    assert all(len(ids) == 1 for ids in albums.values())
    assert len({t["id"] for t in first["data"]}) == len(artist.top_tracks)


async def test_top_track_covers_download_from_the_double(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    deezer_id, _ = daft_punk(api_double)
    track = (await http.get(f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top?limit=1")).json()["data"][0]
    for field, size in COVERS.items():
        url = track["album"][field]
        assert url.startswith(api_double.urls.images_url)
        image = await http.get(url)
        assert image.headers["content-type"] == "image/png" and png_size(image.content) == (size, size), field


async def test_top_tracks_page_with_index_and_limit(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    deezer_id, artist = daft_punk(api_double)
    url = f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top"
    everything = (await http.get(url, params={"limit": 50})).json()
    assert "next" not in everything and len(everything["data"]) == len(artist.top_tracks)
    rest = (await http.get(url, params={"limit": 5, "index": 5})).json()
    assert rest["data"] == everything["data"][5:10]
    assert ("next" in rest) == (len(artist.top_tracks) > 10)


async def test_unknown_artists_and_artists_without_tracks_answer_800(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    tribute = api_double.catalog.deezer_only[0]["id"]  # Deezer knows it, but has no top tracks for it here
    for deezer_id in ("1", "nonsense", str(tribute)):
        answer = await http.get(f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top")
        assert answer.status_code == 200
        assert answer.json() == {"error": {"type": "DataException", "message": "no data", "code": 800}}


async def test_the_string_knob_gives_ids_and_ranks_as_strings(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    deezer_id, _ = daft_punk(api_double)
    url = f"{api_double.urls.deezer_api_url}/artist/{deezer_id}/top"
    numbers = (await http.get(url)).json()["data"]
    api_double.set_deezer_top_strings(deezer_id)
    strings = (await http.get(url)).json()["data"]
    for number, string in zip(numbers, strings, strict=True):
        assert string["rank"] == str(number["rank"]) and string["id"] == str(number["id"])
        assert string["album"]["id"] == str(number["album"]["id"])
        assert string["artist"]["id"] == str(deezer_id)
    api_double.set_deezer_top_strings(deezer_id, False)
    assert (await http.get(url)).json()["data"] == numbers


async def test_top_tracks_share_the_quota_counters_and_faults(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig(deezer_quota=(3, 5.0))) as double:
        deezer_id, _ = daft_punk(double)
        top = f"{double.urls.deezer_api_url}/artist/{deezer_id}/top"
        double.inject(DEEZER, deezer_id, Fault.deezer(700))
        busy = (await http.get(top)).json()
        assert busy["error"] == {"type": "Exception", "message": "Service busy", "code": 700}
        assert "data" in (await http.get(top)).json()
        assert "id" in (await http.get(f"{double.urls.deezer_api_url}/artist/{deezer_id}")).json()
        over = (await http.get(top)).json()  # the 4th Deezer request in 5 s, whatever the route
        assert over["error"] == {"type": "Exception", "message": "Quota limit exceeded", "code": 4}
        assert double.request_count(DEEZER, f"/artist/{deezer_id}/top") == 3
        assert double.rejections(DEEZER) == 1


async def test_the_quota_is_a_sliding_window(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig(deezer_quota=(3, 0.5))) as double:
        url = f"{double.urls.deezer_api_url}/artist/1"
        answers = [(await http.get(url)).json() for _ in range(4)]
        assert [a.get("error", {}).get("code") for a in answers] == [800, 800, 800, 4]
        assert answers[3]["error"] == {"type": "Exception", "message": "Quota limit exceeded", "code": 4}
        await asyncio.sleep(0.55)
        assert (await http.get(url)).json()["error"]["code"] == 800  # the window has moved on
        assert double.rejections(DEEZER) == 1


async def test_search_finds_artists_with_fans_and_pages(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    url = f"{api_double.urls.deezer_api_url}/search/artist"
    page = (await http.get(url, params={"q": "daft", "limit": 2})).json()
    assert page["data"][0]["name"] == "Daft Punk" and len(page["data"]) == 2
    assert all("nb_fan" in a and "nb_album" in a for a in page["data"])
    assert page["total"] == 4 and page["next"].endswith("/deezer/search/artist?q=daft&index=2&limit=2")
    assert (await http.get(url, params={"q": " "})).json()["error"]["code"] == 501
