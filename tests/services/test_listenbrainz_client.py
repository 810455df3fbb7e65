"""ListenBrainz client against the double: shapes, nulls, 1,000 per request, token, rate headers, 429."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from svc_helpers import FAST_RETRY

from artist_desktop.devtools.api_double import LISTENBRAINZ, ApiDouble, Fault
from artist_desktop.services.errors import AuthenticationError, RequestError, ServiceUnavailableError
from artist_desktop.services.http import RateGate
from artist_desktop.services.listenbrainz import (
    TOKEN_REFUSED,
    TOKEN_REQUIRED,
    ListenBrainzClient,
    ListenBrainzPopularity,
)

MakeClient = Callable[..., ListenBrainzClient]


@pytest.fixture
async def make_client(double: ApiDouble) -> AsyncIterator[MakeClient]:
    """``make_client(token="")``: a client of the double whose gate has no quota of its own, so only the
    answers' X-RateLimit-* headers keep it within the double's window."""
    clients: list[ListenBrainzClient] = []

    def make(token: str = "") -> ListenBrainzClient:
        client = ListenBrainzClient(
            double.urls.listenbrainz_api_url,
            token,
            "tests@example.org",
            gate=RateGate("ListenBrainz"),
            retry=FAST_RETRY,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


def catalog_mbids(double: ApiDouble) -> tuple[list[str], list[str]]:
    """Catalog MBIDs the double has figures for, and those it answers null counts for."""
    mbids = sorted(double.catalog.by_mbid)
    known = [m for m in mbids if double.listenbrainz.figures(m) is not None]
    nulls = [m for m in mbids if double.listenbrainz.figures(m) is None]
    return known, nulls


def expected(double: ApiDouble, mbid: str) -> ListenBrainzPopularity | None:
    figures = double.listenbrainz.figures(mbid)
    return ListenBrainzPopularity(*figures) if figures is not None else None


async def test_listeners_and_listens_per_artist_with_none_for_null_counts(
    double: ApiDouble, make_client: MakeClient
) -> None:
    known, nulls = catalog_mbids(double)
    unknown = str(uuid.uuid4())
    asked = [known[1], unknown, known[0].upper(), nulls[0]]
    found = await make_client().artist_popularity(asked)
    assert list(found) == asked  # keyed by the MBIDs as given
    assert found[known[1]] == expected(double, known[1])
    assert found[known[0].upper()] == expected(double, known[0])
    assert found[unknown] is None and found[nulls[0]] is None
    assert found[known[1]] is not None and found[known[1]].listens > found[known[1]].listeners > 0
    assert double.request_count(LISTENBRAINZ) == 1
    assert double.listenbrainz.last_authorization() is None  # no token set: no Authorization header


async def test_entries_are_matched_by_artist_mbid_not_position(double: ApiDouble, make_client: MakeClient) -> None:
    known, nulls = catalog_mbids(double)
    asked = [known[0], nulls[0], known[1], known[2]]
    double.listenbrainz.reverse_answers()
    found = await make_client().artist_popularity(asked)
    assert found == {mbid: expected(double, mbid) for mbid in asked}
    assert found[known[0]] != found[known[2]]


async def test_2500_mbids_take_three_requests(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    asked = [*known, *(str(uuid.uuid4()) for _ in range(2500 - len(known)))]
    found = await make_client().artist_popularity(asked)
    assert len(found) == 2500
    assert double.request_count(LISTENBRAINZ) == 3
    assert sum(value is not None for value in found.values()) == len(known)


async def test_a_malformed_mbid_is_never_sent(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    with pytest.raises(ValueError, match="not-an-mbid"):
        await make_client().artist_popularity([known[0], "not-an-mbid"])
    assert double.request_count(LISTENBRAINZ) == 0


async def test_the_token_is_sent_when_set(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    double.listenbrainz.require_token("s3cret")
    found = await make_client("s3cret").artist_popularity(known[:1])
    assert found[known[0]] == expected(double, known[0])
    assert double.listenbrainz.last_authorization() == "Token s3cret"


async def test_a_required_token_says_to_add_one_in_settings(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    double.listenbrainz.require_token("s3cret")
    with pytest.raises(AuthenticationError) as missing:
        await make_client().artist_popularity(known[:1])
    assert str(missing.value) == TOKEN_REQUIRED == "ListenBrainz now asks for a token: add one in Settings"
    with pytest.raises(AuthenticationError) as wrong:
        await make_client("old-token").artist_popularity(known[:1])
    assert str(wrong.value) == TOKEN_REFUSED
    assert double.request_count(LISTENBRAINZ) == 2  # an authentication error is not retried


async def test_the_rate_headers_keep_a_long_run_within_the_window(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    double.set_rate_limit(LISTENBRAINZ, (4, 1.0))
    client = make_client()
    started = time.monotonic()
    for _ in range(10):
        found = await client.artist_popularity(known[:2])
        assert found[known[0]] == expected(double, known[0])
    assert double.rejections(LISTENBRAINZ) == 0
    assert double.request_count(LISTENBRAINZ) == 10
    assert time.monotonic() - started >= 2.0  # 10 requests at 4 per second: waited twice at the closed gate


async def test_a_429_is_retried_after_the_wait_it_names(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    double.inject(LISTENBRAINZ, "*", Fault.rate_limited(1))
    started = time.monotonic()
    found = await make_client().artist_popularity(known[:1])
    assert found[known[0]] == expected(double, known[0])
    assert double.request_count(LISTENBRAINZ) == 2
    assert time.monotonic() - started >= 1.0


async def test_a_400_is_a_request_error_and_a_503_is_retried(double: ApiDouble, make_client: MakeClient) -> None:
    known, _ = catalog_mbids(double)
    client = make_client()
    double.inject(LISTENBRAINZ, known[0], Fault.http(503), times=None)
    with pytest.raises(ServiceUnavailableError, match="ListenBrainz is unavailable"):
        await client.artist_popularity(known[:1])
    assert double.request_count(LISTENBRAINZ) == FAST_RETRY.max_attempts
    double.clear_faults()
    double.inject(LISTENBRAINZ, "*", Fault(status=400, body='{"code": 400, "error": "Invalid artist_mbid"}'))
    with pytest.raises(RequestError, match="Invalid artist_mbid"):
        await client.artist_popularity(known[:1])
