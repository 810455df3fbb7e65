"""The double's ListenBrainz: popularity in request order, nulls, 400s, token mode and X-RateLimit-* headers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from artist_desktop.devtools.api_double import LISTENBRAINZ, ApiDouble, Fault

FIELDS = {"artist_mbid", "total_listen_count", "total_user_count"}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def popularity_url(double: ApiDouble) -> str:
    return f"{double.urls.listenbrainz_api_url}/1/popularity/artist"


def known_and_null(double: ApiDouble) -> tuple[list[str], list[str]]:
    """Catalog MBIDs with figures, and those ListenBrainz answers null counts for."""
    mbids = sorted(double.catalog.by_mbid)
    known = [m for m in mbids if double.listenbrainz.figures(m) is not None]
    nulls = [m for m in mbids if double.listenbrainz.figures(m) is None]
    assert len(known) >= 3 and nulls
    return known, nulls


async def test_counts_come_in_request_order_with_nulls_for_unknown_artists(
    api_double: ApiDouble, http: httpx.AsyncClient
) -> None:
    known, nulls = known_and_null(api_double)
    unknown = str(uuid.uuid4())
    asked = [known[2], unknown, known[0], nulls[0], known[1].upper()]
    answer = await http.post(popularity_url(api_double), json={"artist_mbids": asked})
    assert answer.status_code == 200
    body = answer.json()
    assert [entry["artist_mbid"] for entry in body] == asked
    assert all(set(entry) == FIELDS for entry in body)
    for entry in body:
        figures = api_double.listenbrainz.figures(entry["artist_mbid"])
        if figures is None:
            assert entry["total_user_count"] is None and entry["total_listen_count"] is None
        else:
            assert (entry["total_user_count"], entry["total_listen_count"]) == figures
            assert 0 < entry["total_user_count"] < entry["total_listen_count"]
    assert body[1]["total_user_count"] is None and body[3]["total_listen_count"] is None
    # The figures are the same on every answer (they derive from the catalog).
    again = await http.post(popularity_url(api_double), json={"artist_mbids": asked})
    assert again.json() == body


async def test_set_null_turns_an_artist_off_and_on(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    known, _ = known_and_null(api_double)
    api_double.listenbrainz.set_null(known[0])
    body = (await http.post(popularity_url(api_double), json={"artist_mbids": [known[0]]})).json()
    assert body == [{"artist_mbid": known[0], "total_listen_count": None, "total_user_count": None}]
    api_double.listenbrainz.set_null(known[0], False)
    body = (await http.post(popularity_url(api_double), json={"artist_mbids": [known[0]]})).json()
    assert body[0]["total_user_count"] is not None


async def test_one_malformed_mbid_spoils_the_whole_request(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    known, _ = known_and_null(api_double)
    answer = await http.post(popularity_url(api_double), json={"artist_mbids": [known[0], "not-an-mbid"]})
    assert answer.status_code == 400
    assert answer.json() == {"code": 400, "error": "Invalid artist_mbid: not-an-mbid"}


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"artist_mbids": [str(uuid.uuid4()) for _ in range(1001)]}, "max is 1000"),
        ({"artists": []}, "must be a list"),
        ([1, 2], "must be a list"),
    ],
)
async def test_a_bad_request_is_refused_with_400(
    api_double: ApiDouble, http: httpx.AsyncClient, payload: object, words: str
) -> None:
    answer = await http.post(popularity_url(api_double), json=payload)
    assert answer.status_code == 400
    assert answer.json()["code"] == 400 and words in answer.json()["error"]
    assert answer.headers["X-RateLimit-Limit"] == "30"  # error answers carry the rate headers too


async def test_exactly_1000_mbids_are_answered(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    asked = [str(uuid.uuid4()) for _ in range(1000)]
    answer = await http.post(popularity_url(api_double), json={"artist_mbids": asked})
    assert answer.status_code == 200 and len(answer.json()) == 1000


async def test_token_mode_answers_401_without_the_right_token(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    known, _ = known_and_null(api_double)
    body = {"artist_mbids": known[:1]}
    api_double.listenbrainz.require_token("s3cret")
    missing = await http.post(popularity_url(api_double), json=body)
    wrong = await http.post(popularity_url(api_double), json=body, headers={"Authorization": "Token nope"})
    right = await http.post(popularity_url(api_double), json=body, headers={"Authorization": "Token s3cret"})
    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert missing.json()["code"] == 401 and missing.json()["error"]
    assert api_double.listenbrainz.last_authorization() == "Token s3cret"
    api_double.listenbrainz.require_token(None)
    assert (await http.post(popularity_url(api_double), json=body)).status_code == 200


async def test_rate_headers_count_down_then_429(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    api_double.set_rate_limit(LISTENBRAINZ, (3, 10.0))
    body = {"artist_mbids": [str(uuid.uuid4())]}
    seen = []
    for _ in range(4):
        answer = await http.post(popularity_url(api_double), json=body)
        seen.append((answer.status_code, answer.headers["X-RateLimit-Remaining"]))
        assert answer.headers["X-RateLimit-Limit"] == "3"
        assert 0 < int(answer.headers["X-RateLimit-Reset-In"]) <= 10
    assert seen == [(200, "2"), (200, "1"), (200, "0"), (429, "0")]
    assert answer.json()["code"] == 429 and int(answer.headers["Retry-After"]) >= 1
    assert api_double.rejections(LISTENBRAINZ) == 1


async def test_an_injected_fault_gets_the_rate_headers(api_double: ApiDouble, http: httpx.AsyncClient) -> None:
    api_double.inject(LISTENBRAINZ, "*", Fault.http(503))
    answer = await http.post(popularity_url(api_double), json={"artist_mbids": []})
    assert answer.status_code == 503 and answer.headers["X-RateLimit-Remaining"] == "29"
