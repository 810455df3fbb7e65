"""The identity catalog (issue 16): the bundled one plus namesakes and names of symbols only, served as Deezer and
Spotify would answer them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from artist_desktop.devtools._catalog import load_catalog
from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
from artist_desktop.devtools.generated_catalog import identity_catalog
from artist_desktop.domain import is_spotify_id


@pytest.fixture
async def double() -> AsyncIterator[ApiDouble]:
    async with ApiDouble(
        DoubleConfig(musicbrainz_rate=None, spotify_profile="extended"), catalog=identity_catalog()
    ) as d:
        yield d


def test_it_adds_to_the_bundled_catalog_and_keeps_ids_unique() -> None:
    bundled, identity = load_catalog(), identity_catalog()
    added = identity.artists[len(bundled.artists) :]
    assert [a.name for a in added] == ["Nirvana", "!!!", "+/-", "🍓", "†††"]
    assert [a.spotify_id for a in identity.artists[: len(bundled.artists)]] == [a.spotify_id for a in bundled.artists]
    assert len({a.spotify_id for a in identity.artists}) == len(identity.artists)
    assert all(is_spotify_id(a.spotify_id) for a in added) and all(3 <= len(a.top_tracks) <= 10 for a in added)
    deezer_ids = [a.deezer["id"] for a in identity.artists if a.deezer] + [d["id"] for d in identity.deezer_only]
    assert len(deezer_ids) == len(set(deezer_ids))
    assert [(a.followers, a.deezer) for a in identity.artists if a.name == "Nirvana"] == [
        (11_204_871, {"id": 415, "nb_fan": 9_812_377, "nb_album": 27}),
        (9_140, {"id": 1_447_311, "nb_fan": 2_140, "nb_album": 9}),
    ]


async def test_deezer_and_spotify_find_namesakes_and_names_of_symbols(double: ApiDouble) -> None:
    async with httpx.AsyncClient() as http:

        async def deezer(query: str, **params: int) -> dict[str, Any]:
            answer = await http.get(f"{double.urls.deezer_api_url}/search/artist", params={"q": query, **params})
            body: dict[str, Any] = answer.json()
            return body

        nirvanas = await deezer("Nirvana")
        assert [(a["id"], a["name"], a["nb_fan"]) for a in nirvanas["data"]] == [
            (415, "Nirvana", 9_812_377),
            (1_447_311, "Nirvana", 2_140),
        ]
        for name, deezer_id in (("!!!", 5_330), ("+/-", 219_404), ("🍓", 158_801_447)):
            found = await deezer(name)
            assert [(a["id"], a["name"]) for a in found["data"]] == [(deezer_id, name)]
        assert (await deezer("†††"))["data"] == []
        assert (await deezer("Nirvana", limit=1))["next"].endswith("/search/artist?q=Nirvana&index=1&limit=1")
        assert (await deezer("+"))["total"] == 1  # "+/-" (the client sends "+" as %2B)

        token = (
            await http.post(
                f"{double.urls.spotify_accounts_url}/api/token",
                data={"grant_type": "client_credentials"},
                auth=double.urls.demo_credentials,
            )
        ).json()["access_token"]
        spotify = await http.get(
            f"{double.urls.spotify_api_url}/search",
            params={"q": "nirvana", "type": "artist"},
            headers={"Authorization": f"Bearer {token}"},
        )
        followers = [a["followers"]["total"] for a in spotify.json()["artists"]["items"]]
        assert sorted(followers) == [9_140, 11_204_871]
