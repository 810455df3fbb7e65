"""The double's Spotify: tokens, Development Mode by default, Extended Quota Mode, Premium and the quota."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from double_helpers import bearer

from artist_desktop.devtools.api_double import SPOTIFY, ApiDouble, DoubleConfig
from artist_desktop.devtools.double_spotify import PREMIUM_REQUIRED

FORBIDDEN = {"error": {"status": 403, "message": "Forbidden"}}
INVALID_LIMIT = {"error": {"status": 400, "message": "Invalid limit"}}
QUOTA_EXCEEDED = {"error": {"status": 429, "message": "Too many requests", "reason": "QUOTA_EXCEEDED"}}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def extended() -> AsyncIterator[ApiDouble]:
    async with ApiDouble(DoubleConfig(spotify_profile="extended")) as double:
        yield double


async def search(http: httpx.AsyncClient, double: ApiDouble, query: str, **params: Any) -> httpx.Response:
    return await http.get(
        f"{double.urls.spotify_api_url}/search",
        params={"q": query, "type": "artist", **params},
        headers=await bearer(http, double),
    )


async def all_results(http: httpx.AsyncClient, double: ApiDouble, query: str, limit: int) -> list[Any]:
    """Every entry of every page, following ``next`` as a client does."""
    headers = await bearer(http, double)
    url: str | None = f"{double.urls.spotify_api_url}/search?q={query}&type=artist&limit={limit}"
    entries: list[Any] = []
    while url is not None:
        page = (await http.get(url, headers=headers)).json()["artists"]
        assert len(page["items"]) <= limit
        entries.extend(page["items"])
        url = page["next"]
    assert len(entries) == page["total"]
    return entries


# -- tokens and errors (every profile) ---------------------------------------------------------------


async def test_token_endpoint_speaks_the_documented_shapes(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig(spotify_credentials=("id", "secret"))) as double:
        url = f"{double.urls.spotify_accounts_url}/api/token"
        wrong = await http.post(url, data={"grant_type": "client_credentials"}, auth=("id", "nope"))
        assert (wrong.status_code, wrong.json()) == (
            400,
            {"error": "invalid_client", "error_description": "Invalid client"},
        )
        no_grant = await http.post(url, auth=("id", "secret"))
        assert no_grant.json()["error"] == "unsupported_grant_type"
        right = await http.post(url, data={"grant_type": "client_credentials"}, auth=("id", "secret"))
        assert right.json()["token_type"] == "Bearer" and right.json()["expires_in"] == 3600
        missing = await http.get(f"{double.urls.spotify_api_url}/search", params={"q": "x", "type": "artist"})
        assert missing.status_code == 401
        assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}
        double.expire_spotify_tokens()
        expired = await http.get(
            f"{double.urls.spotify_api_url}/search",
            params={"q": "x", "type": "artist"},
            headers={"Authorization": f"Bearer {right.json()['access_token']}"},
        )
        assert expired.json() == {"error": {"status": 401, "message": "The access token expired"}}


async def test_answers_errors_and_the_rate_window(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig(spotify_rate=(2, 30.0))) as double:
        page = (await search(http, double, "daft", limit=1)).json()["artists"]
        assert page["total"] == 2 and page["next"] is not None and page["previous"] is None
        daft = page["items"][0]
        assert daft["uri"] == f"spotify:artist:{daft['id']}" and daft["type"] == "artist"
        assert [i["width"] for i in daft["images"]] == [640, 320, 160]  # largest first
        headers = await bearer(http, double)
        bad = await http.get(f"{double.urls.spotify_api_url}/artists/xyz", headers=headers)
        assert (bad.status_code, bad.json()["error"]["message"]) == (400, "Invalid base62 id")
        over = await http.get(f"{double.urls.spotify_api_url}/artists/{daft['id']}", headers=headers)
        assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
        assert over.json()["error"]["message"] == "API rate limit exceeded"
    assert double.rejections(SPOTIFY) == 1


# -- Development Mode, the default ------------------------------------------------------------------


async def test_development_mode_is_the_default(api_double: ApiDouble) -> None:
    assert DoubleConfig().spotify_profile == "development"
    assert api_double.spotify_profile == "development"


async def test_development_search_limit_is_1_to_10_default_5(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    plain = (await search(http, api_double, "a")).json()["artists"]
    assert plain["limit"] == 5 and len(plain["items"]) == 5
    assert plain["next"] is not None and "limit=5" in plain["next"]
    assert len((await search(http, api_double, "a", limit=10)).json()["artists"]["items"]) == 10
    for limit in (11, 50, 0):
        too_big = await search(http, api_double, "a", limit=limit)
        assert (too_big.status_code, too_big.json()) == (400, INVALID_LIMIT)


async def test_development_artists_have_no_followers_or_popularity(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    daft = next(a for a in api_double.catalog.artists if a.name == "Daft Punk")
    assert daft.followers and daft.popularity and daft.genres  # the catalog has them: the profile hides them
    api_double.override_spotify_artist(daft.spotify_id, followers={"href": None, "total": 5})
    found = (await search(http, api_double, "daft punk")).json()["artists"]["items"][0]
    single = (
        await http.get(
            f"{api_double.urls.spotify_api_url}/artists/{daft.spotify_id}", headers=await bearer(http, api_double)
        )
    ).json()
    for artist in (found, single):
        assert artist["id"] == daft.spotify_id
        assert "followers" not in artist and "popularity" not in artist
        assert artist["genres"] == list(daft.genres)


async def test_development_removed_endpoints_answer_403_forbidden(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    headers = await bearer(http, api_double)
    some = api_double.catalog.artists[0].spotify_id
    api = api_double.urls.spotify_api_url
    for url in (f"{api}/artists/{some}/top-tracks", f"{api}/artists?ids={some}", f"{api}/artists/nonsense/top-tracks"):
        answer = await http.get(url, headers=headers)
        assert (answer.status_code, answer.json()) == (403, FORBIDDEN), url
    assert (await http.get(f"{api}/artists/{some}", headers=headers)).status_code == 200  # still there


async def test_development_search_puts_a_null_fourth_and_hides_no_artist(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    matches = [a.spotify_id for a in api_double.catalog.search_spotify("an")]
    assert len(matches) == 4
    page = (await search(http, api_double, "an")).json()["artists"]
    assert page["total"] == 5
    assert [a and a["id"] for a in page["items"]] == [*matches[:3], None, matches[3]]
    for limit in (1, 2, 3, 4):  # paging over the null keeps every artist, in order
        entries = await all_results(http, api_double, "an", limit)
        assert [e["id"] for e in entries if e is not None] == matches
        assert entries[3] is None
    three = (await search(http, api_double, "the")).json()["artists"]  # 3 matches: nothing to put a null before
    assert None not in three["items"] and three["total"] == 3


async def test_the_null_knob_moves_nulls_or_nulls_items(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    matches = [a.spotify_id for a in api_double.catalog.search_spotify("daft")]
    api_double.set_spotify_search_nulls((0, 2))
    page = (await search(http, api_double, "daft")).json()["artists"]
    assert [a and a["id"] for a in page["items"]] == [None, matches[0], None, matches[1]]
    assert page["total"] == 4
    api_double.set_spotify_search_nulls(())
    assert None not in (await search(http, api_double, "an")).json()["artists"]["items"]
    api_double.set_spotify_search_nulls(items_null=True)
    nulled = (await search(http, api_double, "daft")).json()["artists"]
    assert nulled["items"] is None and nulled["total"] == 2
    api_double.set_spotify_search_nulls()
    assert (await search(http, api_double, "an")).json()["artists"]["items"][3] is None


# -- Extended Quota Mode -----------------------------------------------------------------------------


async def test_extended_mode_speaks_the_2024_api(extended: ApiDouble, http: httpx.AsyncClient) -> None:
    plain = (await search(http, extended, "a")).json()["artists"]
    assert plain["limit"] == 20 and len(plain["items"]) == 20 and None not in plain["items"]
    big = (await search(http, extended, "a", limit=50)).json()["artists"]
    assert len(big["items"]) == big["total"] == len(extended.catalog.search_spotify("a"))
    assert (await search(http, extended, "a", limit=51)).json() == INVALID_LIMIT
    daft = next(a for a in extended.catalog.artists if a.name == "Daft Punk")
    found = (await search(http, extended, "daft punk")).json()["artists"]["items"][0]
    assert found["followers"] == {"href": None, "total": daft.followers}
    assert found["popularity"] == daft.popularity
    headers = await bearer(http, extended)
    api = extended.urls.spotify_api_url
    top = await http.get(f"{api}/artists/{daft.spotify_id}/top-tracks", headers=headers)
    assert top.status_code == 200
    assert [t["name"] for t in top.json()["tracks"]] == [t.name for t in daft.top_tracks]
    assert all("popularity" in t for t in top.json()["tracks"])
    several = await http.get(f"{api}/artists", params={"ids": f"{daft.spotify_id},{'0' * 22}"}, headers=headers)
    assert [a and a["followers"]["total"] for a in several.json()["artists"]] == [daft.followers, None]


async def test_the_profile_switches_at_run_time(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    daft = api_double.catalog.artists[0]
    url = f"{api_double.urls.spotify_api_url}/artists/{daft.spotify_id}/top-tracks"
    headers = await bearer(http, api_double)
    assert (await http.get(url, headers=headers)).status_code == 403
    api_double.set_spotify_profile("extended")
    assert (await http.get(url, headers=headers)).status_code == 200
    api_double.set_spotify_profile("development")
    assert (await http.get(url, headers=headers)).status_code == 403
    with pytest.raises(ValueError, match="unknown Spotify profile"):
        api_double.set_spotify_profile("grandfathered")  # type: ignore[arg-type]


# -- Premium and the quota ---------------------------------------------------------------------------


async def test_without_premium_every_call_answers_403_but_tokens_still_come(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    api_double.set_spotify_premium(False)
    headers = await bearer(http, api_double)  # the token endpoint still works
    api = api_double.urls.spotify_api_url
    some = api_double.catalog.artists[0].spotify_id
    for url in (f"{api}/search?q=daft&type=artist", f"{api}/artists/{some}", f"{api}/artists/{some}/top-tracks"):
        answer = await http.get(url, headers=headers)
        assert answer.status_code == 403, url
        assert answer.json() == {"error": {"status": 403, "message": PREMIUM_REQUIRED}}
        assert answer.json()["error"]["message"].startswith("Active premium subscription required for the owner")
    api_double.set_spotify_premium(True)
    assert (await http.get(f"{api}/artists/{some}", headers=headers)).status_code == 200


async def test_the_quota_trips_after_n_calls_and_a_fresh_allowance_follows_retry_after(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    api_double.set_spotify_quota(3, 2.0)
    headers = await bearer(http, api_double)
    await bearer(http, api_double)  # token requests do not use the quota
    url = f"{api_double.urls.spotify_api_url}/artists/{api_double.catalog.artists[0].spotify_id}"
    assert [(await http.get(url, headers=headers)).status_code for _ in range(3)] == [200, 200, 200]
    tripped = await http.get(url, headers=headers)
    assert (tripped.status_code, tripped.json(), tripped.headers["Retry-After"]) == (429, QUOTA_EXCEEDED, "2")
    search_too = await http.get(f"{api_double.urls.spotify_api_url}/search?q=a&type=artist", headers=headers)
    assert search_too.status_code == 429  # every Web API call, not only the one that tripped it
    await asyncio.sleep(1.1)
    later = await http.get(url, headers=headers)
    assert (later.status_code, later.headers["Retry-After"]) == (429, "1")  # the seconds left, rounded up
    assert api_double.rejections(SPOTIFY) == 3
    await asyncio.sleep(1.0)
    assert [(await http.get(url, headers=headers)).status_code for _ in range(4)] == [200, 200, 200, 429]
    api_double.set_spotify_quota(None, 0)
    assert (await http.get(url, headers=headers)).status_code == 200


async def test_the_quota_from_the_config_counts_only_calls_it_admits(http: httpx.AsyncClient) -> None:
    async with ApiDouble(DoubleConfig(spotify_quota=(1, 60.0))) as double:
        api = double.urls.spotify_api_url
        no_token = await http.get(f"{api}/search?q=a&type=artist")
        assert no_token.status_code == 401  # not admitted: leaves the allowance alone
        headers = await bearer(http, double)
        assert (await http.get(f"{api}/search?q=a&type=artist", headers=headers)).status_code == 200
        refused = await http.get(f"{api}/search?q=a&type=artist", headers=headers)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert refused.json()["error"]["reason"] == "QUOTA_EXCEEDED"


# -- counting calls per endpoint ---------------------------------------------------------------------


async def test_calls_count_per_endpoint_and_per_prefix(extended: ApiDouble, http: httpx.AsyncClient) -> None:
    headers = await bearer(http, extended)
    api = extended.urls.spotify_api_url
    first, second = (a.spotify_id for a in extended.catalog.artists[:2])
    for url in (f"{api}/artists/{first}", f"{api}/artists/{first}", f"{api}/artists/{second}/top-tracks"):
        await http.get(url, headers=headers)
    await http.get(f"{api}/artists", params={"ids": first}, headers=headers)
    await search(http, extended, "daft")
    assert extended.request_count(SPOTIFY, f"/artists/{first}") == 2
    assert extended.request_count(SPOTIFY, prefix="/artists/") == 3
    assert extended.request_count(SPOTIFY, prefix="/artists") == 4
    assert extended.request_count(SPOTIFY) == 5
