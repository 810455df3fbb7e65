"""The double's Last.fm: artist.getInfo with string numbers, errors in HTTP 200, unreliable MBIDs, namesakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import DEMO_LASTFM_API_KEY, LASTFM, ApiDouble, DoubleConfig
from artist_desktop.devtools.double_lastfm import LASTFM_DEMO_KEY, lastfm_fault, lastfm_figures


@pytest.fixture
def double(api_double: ApiDouble) -> ApiDouble:
    """The shared double without Last.fm's 5/s window (one test below checks the window on its own double)."""
    api_double.set_rate_limit(LASTFM, None)
    return api_double


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


async def getinfo(http: httpx.AsyncClient, double: ApiDouble, **params: str) -> httpx.Response:
    query = {"method": "artist.getinfo", "api_key": double.lastfm.api_key, "format": "json", **params}
    return await http.get(f"{double.urls.lastfm_api_url}/2.0/", params=query)


def named(double: ApiDouble, name: str) -> CatalogArtist:
    return next(a for a in double.catalog.artists if a.name == name)


def mbid(artist: CatalogArtist) -> str:
    assert artist.musicbrainz is not None
    return str(artist.musicbrainz["mbid"])


def test_the_accepted_key_is_the_demo_key() -> None:
    assert LASTFM_DEMO_KEY == DEMO_LASTFM_API_KEY


async def test_artist_info_has_the_documented_shape_with_string_numbers(
    http: httpx.AsyncClient, double: ApiDouble
) -> None:
    radiohead = named(double, "Radiohead")
    assert radiohead.followers
    answer = await getinfo(http, double, mbid=mbid(radiohead), autocorrect="1")
    assert answer.status_code == 200
    artist = answer.json()["artist"]
    assert {"name", "mbid", "url", "image", "stats", "tags", "bio"} <= artist.keys()
    assert (artist["name"], artist["mbid"]) == ("Radiohead", mbid(radiohead))
    assert artist["url"] == "https://www.last.fm/music/Radiohead"
    stats = artist["stats"]
    assert isinstance(stats["listeners"], str) and isinstance(stats["playcount"], str)
    listeners, playcount = int(stats["listeners"]), int(stats["playcount"])
    assert (listeners, playcount) == double.lastfm.figures(radiohead)
    assert 0.2 * radiohead.followers < listeners < radiohead.followers < playcount
    assert all("2a96cbd8b46e442fc41c2b86b821562f" in image["#text"] for image in artist["image"])  # placeholders
    # the same by name; the same again on the same day
    again = await getinfo(http, double, artist="Radiohead")
    assert again.json()["artist"]["stats"] == stats


def test_figures_are_stable_within_a_day_and_move_between_days() -> None:
    day = date(2026, 12, 7)
    assert lastfm_figures("abc", 1_000_000, day) == lastfm_figures("abc", 1_000_000, day)
    assert lastfm_figures("abc", 1_000_000, day) != lastfm_figures("abc", 1_000_000, date(2026, 12, 8))
    listeners, plays = lastfm_figures("no-followers", None, day)
    assert 0 < listeners <= plays


async def test_errors_come_in_the_body(http: httpx.AsyncClient, double: ApiDouble) -> None:
    unknown = await getinfo(http, double, artist="Nobody At All")
    assert (unknown.status_code, unknown.json()["error"]) == (200, 6)
    assert unknown.json()["message"] == "The artist you supplied could not be found"
    missing = await getinfo(http, double)
    assert (missing.status_code, missing.json()["error"]) == (200, 6)
    bad_key = await getinfo(http, double, artist="Radiohead", api_key="wrong")
    assert (bad_key.status_code, bad_key.json()["error"]) == (403, 10)
    double.lastfm.suspend_key()
    suspended = await getinfo(http, double, artist="Radiohead")
    assert (suspended.status_code, suspended.json()["error"]) == (200, 26)
    double.lastfm.suspend_key(False)
    assert "artist" in (await getinfo(http, double, artist="Radiohead")).json()
    wrong_method = await getinfo(http, double, method="artist.search", artist="Radiohead")
    assert wrong_method.json()["error"] == 3


async def test_injected_transient_codes_and_the_5_per_second_window(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig()) as double:
        double.inject(LASTFM, "Radiohead", lastfm_fault(16))
        failed = await getinfo(http, double, artist="Radiohead")
        assert (failed.status_code, failed.json()["error"]) == (200, 16)
        await asyncio.sleep(1.0)
        answers = await asyncio.gather(*(getinfo(http, double, artist="Radiohead") for _ in range(7)))
        refused = [a for a in answers if a.status_code == 429]
        assert len(refused) == 2 and double.rejections(LASTFM) == 2
        assert refused[0].json()["error"] == 29 and int(refused[0].headers["Retry-After"]) >= 1


async def test_a_fifth_of_the_catalog_is_unknown_by_mbid_but_found_by_name(
    http: httpx.AsyncClient, double: ApiDouble
) -> None:
    unknown = double.lastfm.mbid_unknown
    by_mbid = {mbid(a): a for a in double.catalog.artists if a.musicbrainz}
    plain = sorted(m for m in unknown if by_mbid[m].name not in double.lastfm.namesakes)
    assert 3 <= len(plain) <= 0.35 * len(by_mbid)
    artist = by_mbid[plain[0]]
    assert (await getinfo(http, double, mbid=plain[0])).json()["error"] == 6
    found: dict[str, Any] = (await getinfo(http, double, artist=artist.name, autocorrect="1")).json()["artist"]
    assert (found["name"], found["mbid"]) == (artist.name, plain[0])
    # a knob makes any artist unknown by MBID, and known again
    radiohead = mbid(named(double, "Radiohead"))
    double.lastfm.set_mbid_unknown(radiohead)
    assert (await getinfo(http, double, mbid=radiohead)).json()["error"] == 6
    double.lastfm.set_mbid_unknown(radiohead, False)
    assert (await getinfo(http, double, mbid=radiohead)).json()["artist"]["name"] == "Radiohead"


async def test_a_namesake_answers_the_name_with_another_artist(http: httpx.AsyncClient, double: ApiDouble) -> None:
    assert "Air" in double.lastfm.namesakes
    air = named(double, "Air")
    assert (await getinfo(http, double, mbid=mbid(air))).json()["error"] == 6
    other = (await getinfo(http, double, artist="air", autocorrect="1")).json()["artist"]
    assert other["name"] == "Air" and other["mbid"] not in ("", mbid(air))
    assert other["mbid"] == double.lastfm.namesake_mbid("Air")
    assert int(other["stats"]["listeners"]) != double.lastfm.figures(air)[0]
    # the namesake is known by its own MBID
    assert (await getinfo(http, double, mbid=other["mbid"])).json()["artist"]["name"] == "Air"
    # set by hand on another artist, and taken back
    double.lastfm.set_namesake("Radiohead")
    assert (await getinfo(http, double, artist="Radiohead")).json()["artist"]["mbid"] != mbid(
        named(double, "Radiohead")
    )
    double.lastfm.set_namesake("Radiohead", False)
    assert (await getinfo(http, double, mbid=mbid(named(double, "Radiohead")))).status_code == 200


async def test_autocorrect_fixes_case_spacing_and_accents(http: httpx.AsyncClient, double: ApiDouble) -> None:
    for typed in ("daft  punk", "bjork", "BJÖRK"):
        answer = (await getinfo(http, double, artist=typed, autocorrect="1")).json()
        assert answer["artist"]["name"] in ("Daft Punk", "Björk"), typed
    # without autocorrect only the case is forgiven
    assert (await getinfo(http, double, artist="daft  punk")).json()["error"] == 6
    assert (await getinfo(http, double, artist="DAFT PUNK")).json()["artist"]["name"] == "Daft Punk"
