"""The double's MusicBrainz: User-Agent rule, URL lookups, artist details, 503 past its rate."""

from __future__ import annotations

import httpx
from double_helpers import UA

from artist_desktop.devtools.api_double import MUSICBRAINZ, ApiDouble, DoubleConfig


async def test_musicbrainz_wants_a_user_agent_and_answers_503_past_its_rate() -> None:
    async with ApiDouble(DoubleConfig(musicbrainz_rate=(1, 1.0))) as double, httpx.AsyncClient() as http:
        artist = next(a for a in double.catalog.artists if a.musicbrainz)
        assert artist.musicbrainz is not None
        url = f"{double.urls.musicbrainz_api_url}/artist/{artist.musicbrainz['mbid']}"
        anonymous = await http.get(url, params={"fmt": "json"}, headers={"User-Agent": "python-httpx/0.27"})
        assert anonymous.status_code == 403
        body = await http.get(url, params={"fmt": "json"}, headers=UA)
        assert body.status_code == 503 and body.headers["Retry-After"] == "1"
        double.set_rate_limit(MUSICBRAINZ, None)
        facts = (await http.get(url, params={"fmt": "json"}, headers=UA)).json()
        assert facts["life-span"]["begin"] == artist.musicbrainz["life_span"]["begin"]
        assert facts["area"]["iso-3166-1-codes"] == [artist.musicbrainz["country"]]
        unknown = await http.get(
            f"{double.urls.musicbrainz_api_url}/url",
            params={"resource": "https://open.spotify.com/artist/0000000000000000000000", "fmt": "json"},
            headers=UA,
        )
        assert (unknown.status_code, unknown.json()) == (404, {"error": "Not Found"})


async def test_a_spotify_url_leads_to_its_artist(api_double: ApiDouble) -> None:
    artist = next(a for a in api_double.catalog.artists if a.musicbrainz and a.name == "The Beatles")
    assert artist.musicbrainz is not None
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{api_double.urls.musicbrainz_api_url}/url",
            params={"resource": artist.spotify_url, "inc": "artist-rels", "fmt": "json"},
            headers=UA,
        )
    relation = answer.json()["relations"][0]
    assert relation["target-type"] == "artist"
    assert relation["artist"] == {
        "id": artist.musicbrainz["mbid"],
        "name": "The Beatles",
        "sort-name": "Beatles, The",
        "type": artist.musicbrainz["type"],
        "disambiguation": "",
    }
