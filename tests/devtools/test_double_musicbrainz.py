"""The double's MusicBrainz: User-Agent rule, URL lookups one or many at once, artist details, ``arid:``
search, and 503 past its real 1 request/s, which is the default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from double_helpers import UA

from artist_desktop.devtools.api_double import MUSICBRAINZ, ApiDouble, DoubleConfig
from artist_desktop.devtools.double_musicbrainz import arid_terms
from artist_desktop.devtools.generated_catalog import generated_catalog

UNKNOWN_URL = "https://open.spotify.com/artist/0000000000000000000000"


def test_the_real_pace_is_the_default() -> None:
    assert DoubleConfig().musicbrainz_rate == (1, 1.0)


async def test_musicbrainz_wants_a_user_agent_and_answers_503_past_its_rate() -> None:
    async with ApiDouble(DoubleConfig()) as double, httpx.AsyncClient() as http:
        artist = next(a for a in double.catalog.artists if a.musicbrainz)
        assert artist.musicbrainz is not None
        url = f"{double.urls.musicbrainz_api_url}/artist/{artist.musicbrainz['mbid']}"
        anonymous = await http.get(url, params={"fmt": "json"}, headers={"User-Agent": "python-httpx/0.27"})
        assert anonymous.status_code == 403
        body = await http.get(url, params={"fmt": "json"}, headers=UA)
        assert body.status_code == 503 and body.headers["Retry-After"] == "1"
        assert double.rejections(MUSICBRAINZ) == 1
        double.set_rate_limit(MUSICBRAINZ, None)
        facts = (await http.get(url, params={"fmt": "json"}, headers=UA)).json()
        assert facts["life-span"]["begin"] == artist.musicbrainz["life_span"]["begin"]
        assert facts["area"]["iso-3166-1-codes"] == [artist.musicbrainz["country"]]
        unknown = await http.get(
            f"{double.urls.musicbrainz_api_url}/url", params={"resource": UNKNOWN_URL, "fmt": "json"}, headers=UA
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
    body = answer.json()
    assert body["resource"] == artist.spotify_url
    relation = body["relations"][0]
    assert relation["target-type"] == "artist"
    assert relation["artist"] == {
        "id": artist.musicbrainz["mbid"],
        "name": "The Beatles",
        "sort-name": "Beatles, The",
        "type": artist.musicbrainz["type"],
        "country": "GB",
        "disambiguation": "",
    }
    assert "gender" not in relation["artist"] and "life-span" not in relation["artist"]


async def _lookup(double: ApiDouble, resources: list[str], inc: str | None = "artist-rels") -> httpx.Response:
    params: list[tuple[str, str]] = [("resource", r) for r in resources] + [("fmt", "json")]
    if inc is not None:
        params.append(("inc", inc))
    async with httpx.AsyncClient() as http:
        return await http.get(f"{double.urls.musicbrainz_api_url}/url", params=params, headers=UA)


async def test_many_urls_at_once_come_ordered_by_url_and_unknown_ones_are_left_out(api_double: ApiDouble) -> None:
    known = [a for a in api_double.catalog.artists if a.musicbrainz][:5]
    unknown = next(a for a in api_double.catalog.artists if not a.musicbrainz)
    asked = [known[3].spotify_url, UNKNOWN_URL, known[0].spotify_url, unknown.spotify_url]
    asked += [a.spotify_url for a in known[1:]]
    asked.append(known[2].spotify_url.replace("https://open.spotify.com", "HTTPS://Open.Spotify.com"))
    answer = await _lookup(api_double, asked)
    assert answer.status_code == 200
    body = answer.json()
    stored = sorted(a.spotify_url for a in known)
    assert (body["url-count"], body["url-offset"]) == (5, 0)
    assert [url["resource"] for url in body["urls"]] == stored  # by URL string, each once, canonical
    by_url = {a.spotify_url: a for a in known}
    for url in body["urls"]:
        mb = by_url[url["resource"]].musicbrainz
        assert mb is not None
        [relation] = url["relations"]
        assert (relation["artist"]["id"], relation["artist"]["country"]) == (mb["mbid"], mb["country"])
    assert api_double.request_count(MUSICBRAINZ, "/url") == 1


async def test_many_urls_none_known_is_an_empty_list_and_without_inc_there_are_no_relations(
    api_double: ApiDouble,
) -> None:
    nobody = await _lookup(api_double, [UNKNOWN_URL, UNKNOWN_URL.replace("0000", "1111")])
    assert (nobody.status_code, nobody.json()) == (200, {"url-count": 0, "url-offset": 0, "urls": []})
    known = [a.spotify_url for a in api_double.catalog.artists if a.musicbrainz][:2]
    bare = (await _lookup(api_double, known, inc=None)).json()
    assert all("relations" not in url for url in bare["urls"])


async def test_past_100_resources_the_extras_are_silently_dropped(tmp_path: Path) -> None:
    catalog = generated_catalog(101, tmp_path)
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=catalog) as double:
        urls = [a.spotify_url for a in catalog.artists]
        answer = await _lookup(double, urls)
    assert answer.status_code == 200
    found = {url["resource"] for url in answer.json()["urls"]}
    assert found == set(urls[:100])  # the 101st was asked for, and dropped


def test_arid_terms_reads_both_spellings() -> None:
    a, b, c = (
        "0bed844e-20ad-5e5e-ad74-f37c3bfa5860",
        "48e50972-10ce-51e6-abc0-63ae369c8149",
        "A" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12,
    )
    assert arid_terms(f"arid:{a} OR arid:{b}") == [a, b]
    assert arid_terms(f'arid:({b} OR {a} OR {b}) OR arid:"{c}"') == [b, a, c.lower()]
    assert arid_terms("artist:beatles") == []


async def _search(double: ApiDouble, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(f"{double.urls.musicbrainz_api_url}/artist", params={"fmt": "json", **params}, headers=UA)


async def test_an_arid_search_gives_every_artists_country_gender_and_life_span(api_double: ApiDouble) -> None:
    known = [a for a in api_double.catalog.artists if a.musicbrainz]
    bowie = next(a for a in known if a.name == "David Bowie")
    radiohead = next(a for a in known if a.name == "Radiohead")
    mbids = [a.musicbrainz["mbid"] for a in (bowie, radiohead) if a.musicbrainz]
    query = " OR ".join(f"arid:{mbid}" for mbid in [*mbids, "00000000-0000-0000-0000-000000000000"])
    answer = await _search(api_double, query=query, limit=100)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["count"], body["offset"]) == (2, 0)
    first, second = body["artists"]
    assert (first["id"], first["name"], first["type"], first["gender"], first["country"]) == (
        mbids[0],
        "David Bowie",
        "Person",
        "Male",
        "GB",
    )
    assert first["area"]["name"] == "United Kingdom" and first["score"] == 100
    assert first["life-span"] == {"begin": "1947-01-08", "end": "2016-01-10", "ended": True}
    assert (second["gender"], second["life-span"]) == (None, {"begin": "1985", "ended": None})  # still active
    assert "relations" not in first  # search ignores inc
    assert api_double.request_count(MUSICBRAINZ, "/artist") == 1


async def test_the_search_pages_at_25_by_default_and_at_most_100(tmp_path: Path) -> None:
    catalog = generated_catalog(120, tmp_path)
    mbids = [a.musicbrainz["mbid"] for a in catalog.artists if a.musicbrainz]
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=catalog) as double:
        query = "arid:(" + " OR ".join(mbids) + ")"
        default = (await _search(double, query=query)).json()
        largest = (await _search(double, query=query, limit=500)).json()
        rest = (await _search(double, query=query, limit=100, offset=100)).json()
        bad = await _search(double, query=query, limit="ten")
        other = await _search(double, query="artist:queen")
    assert (default["count"], len(default["artists"])) == (120, 25)
    assert [a["id"] for a in largest["artists"]] == mbids[:100]
    assert [a["id"] for a in rest["artists"]] == mbids[100:]
    assert bad.status_code == 400 and "limit" in bad.json()["error"]
    assert other.status_code == 400
