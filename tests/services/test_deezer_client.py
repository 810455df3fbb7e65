"""DeezerClient over real sockets against the API double: answers, HTTP-200 errors, retries, quota."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx
import pytest
from svc_helpers import FAST_RETRY, artist_named, deezer_id, fast_gate, wait_until

from artist_desktop.devtools._png import png_size
from artist_desktop.devtools.api_double import DEEZER, REMOVE, ApiDouble, Fault
from artist_desktop.services import (
    BadResponseError,
    DeezerArtist,
    DeezerClient,
    DeezerTrack,
    NotFoundError,
    RateLimitedError,
    RequestError,
    RetryPolicy,
    ServiceUnavailableError,
)


def client(double: ApiDouble, **kwargs: object) -> DeezerClient:
    options: dict[str, object] = {"gate": fast_gate("Deezer"), "retry": FAST_RETRY, **kwargs}
    return DeezerClient(double.urls.deezer_api_url, **options)  # type: ignore[arg-type]


async def test_get_artist_returns_fans_albums_and_pictures_served_by_the_double(double: ApiDouble) -> None:
    daft = artist_named(double, "Daft Punk")
    assert daft.deezer is not None
    async with client(double) as deezer:
        artist = await deezer.get_artist(daft.deezer["id"])
    assert artist.name == "Daft Punk"
    assert artist.fans == daft.deezer["nb_fan"] > 0
    assert artist.nb_album == daft.deezer["nb_album"]
    assert artist.picture_xl is not None and artist.picture_xl.startswith(double.urls.images_url)
    async with httpx.AsyncClient() as http:
        picture = await http.get(artist.picture_xl)
    assert picture.headers["content-type"] == "image/png"
    assert png_size(picture.content) == (1000, 1000)


async def test_search_finds_the_artist_and_the_tribute_bands(double: ApiDouble) -> None:
    async with client(double) as deezer:
        found = await deezer.search_artists("Daft Punk")
    names = [a.name for a in found]
    assert "Daft Punk" in names
    assert any("Tribute" in name for name in names)
    assert all(a.fans is not None for a in found)


@pytest.mark.parametrize("raw", [REMOVE, "12", -5, "lots"])
async def test_odd_fan_counts_are_kept_raw_and_never_crash(double: ApiDouble, raw: object) -> None:
    artist_id = deezer_id(double, "Queen")
    double.override_deezer_artist(artist_id, nb_fan=raw)
    async with client(double) as deezer:
        artist = await deezer.get_artist(artist_id)
    assert artist.nb_fan == (None if raw is REMOVE else raw)
    assert artist.fans is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(0, 0), (12, 12), (None, None), ("12", None), (" 7 ", None), (-5, None), (True, None), (12.0, None), ([], None)],
)
def test_fans_is_a_json_integer_of_zero_or_more_as_deezer_documents(raw: object, expected: int | None) -> None:
    assert DeezerArtist(id=1, name="Anyone", nb_fan=raw).fans == expected


async def test_quota_code_4_is_retried_then_succeeds(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "ABBA")
    double.inject(DEEZER, artist_id, Fault.deezer(4), times=2)
    async with client(double) as deezer:
        artist = await deezer.get_artist(artist_id)
    assert artist.name == "ABBA"
    assert double.request_count(DEEZER, f"/artist/{artist_id}") == 3


async def test_busy_code_700_is_retried(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "ABBA")
    double.inject(DEEZER, artist_id, Fault.deezer(700), times=1)
    async with client(double) as deezer:
        assert (await deezer.get_artist(artist_id)).name == "ABBA"
    assert double.request_count(DEEZER) == 2


async def test_code_800_is_not_found_and_not_retried(double: ApiDouble) -> None:
    async with client(double) as deezer:
        with pytest.raises(NotFoundError, match="Deezer has no artist with id 999999999"):
            await deezer.get_artist(999999999)
    assert double.request_count(DEEZER) == 1


async def test_other_error_codes_are_a_clear_request_error_without_retry(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "ABBA")
    double.inject(DEEZER, artist_id, Fault.deezer(600))
    async with client(double) as deezer:
        with pytest.raises(RequestError, match=r"Deezer refused the request: Invalid query \(code 600\)"):
            await deezer.get_artist(artist_id)
    assert double.request_count(DEEZER) == 1


async def test_http_500_then_success(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "Queen")
    double.inject(DEEZER, artist_id, Fault.http(500), times=2)
    async with client(double) as deezer:
        assert (await deezer.get_artist(artist_id)).name == "Queen"
    assert double.request_count(DEEZER) == 3


async def test_persistent_quota_errors_end_with_a_message_saying_how_long_it_tried(double: ApiDouble) -> None:
    double.inject(DEEZER, "*", Fault.deezer(4), times=None)
    async with client(double) as deezer:
        with pytest.raises(RateLimitedError) as caught:
            await deezer.get_artist(deezer_id(double, "Queen"))
    assert str(caught.value).startswith("Deezer quota exceeded, retried 3 times over ")
    assert caught.value.service == "Deezer"
    assert double.request_count(DEEZER) == FAST_RETRY.max_attempts


async def test_malformed_json_is_a_clear_bad_response_without_retry(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "Queen")
    double.inject(DEEZER, artist_id, Fault.malformed())
    async with client(double) as deezer:
        with pytest.raises(BadResponseError, match="Deezer sent an answer that is not JSON"):
            await deezer.get_artist(artist_id)
    assert double.request_count(DEEZER) == 1


async def test_missing_required_fields_are_a_bad_response(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "Queen")
    double.override_deezer_artist(artist_id, name=REMOVE)
    async with client(double) as deezer:
        with pytest.raises(BadResponseError, match=r"Deezer sent an artist in an unexpected shape \(name"):
            await deezer.get_artist(artist_id)


async def test_connection_refused_is_service_unavailable_with_a_clear_message() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    deezer = DeezerClient(f"http://127.0.0.1:{port}", gate=fast_gate("Deezer"), retry=FAST_RETRY)
    async with deezer:
        with pytest.raises(ServiceUnavailableError) as caught:
            await deezer.get_artist(27)
    message = str(caught.value)
    assert message.startswith(f"Cannot reach Deezer at 127.0.0.1:{port}")
    assert "retried 3 times" in message


async def test_timeout_is_service_unavailable_after_retries(double: ApiDouble) -> None:
    double.inject(DEEZER, "*", Fault.slow(0.6), times=None)
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)
    async with client(double, timeout=0.2, retry=retry) as deezer:
        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError, match=r"Deezer did not answer within 0.2 s, retried once"):
            await deezer.get_artist(27)
    assert time.monotonic() - started < 1.0
    assert double.request_count(DEEZER) == 2


async def test_cancel_during_a_backoff_wait_ends_the_call_at_once(double: ApiDouble) -> None:
    double.inject(DEEZER, "*", Fault.http(503), times=None)
    patient = RetryPolicy(max_attempts=5, max_total=120, base_delay=10, max_delay=30)
    async with client(double, retry=patient) as deezer:
        task = asyncio.create_task(deezer.get_artist(27))
        await wait_until(lambda: double.request_count(DEEZER) == 1)
        await asyncio.sleep(0.05)  # now sleeping ~10 s before the second attempt
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - cancelled_at < 0.1
    assert double.request_count(DEEZER) == 1


async def test_a_stricter_quota_than_the_gate_knows_is_absorbed_by_retries(double: ApiDouble) -> None:
    """Another process may share the IP's quota: code 4 answers are retried until they pass."""
    double.set_rate_limit(DEEZER, (6, 0.5))
    retry = RetryPolicy(max_attempts=10, max_total=20, base_delay=0.1, max_delay=0.5)
    ids = [deezer_id(double, a.name) for a in double.catalog.artists if a.deezer][:15]
    async with client(double, retry=retry) as deezer:
        artists = await asyncio.gather(*(deezer.get_artist(i) for i in ids))
    assert [a.id for a in artists] == ids
    assert double.rejections(DEEZER) > 0


@pytest.mark.serial  # measures the pace against the real quota: run alone
async def test_120_concurrent_requests_at_the_documented_quota_surface_no_quota_error(
    threaded_double: ApiDouble,
) -> None:
    """The default shared gate keeps 120 requests (three windows) under Deezer's 50 per 5 s (the double enforces
    it). The double runs on its own thread, as a server does: on the client's loop, the 120 waiting coroutines
    would delay the double's own clock of arrivals, not the requests."""
    double = threaded_double
    assert double.config.deezer_quota == (50, 5.0)
    ids = [int(a.deezer["id"]) for a in double.catalog.artists if a.deezer]
    wanted = [ids[i % len(ids)] for i in range(120)]
    started = time.monotonic()
    async with DeezerClient(double.urls.deezer_api_url) as deezer:  # the default gate and retry policy
        results = await asyncio.gather(*(deezer.get_artist(i) for i in wanted), return_exceptions=True)
    elapsed = time.monotonic() - started
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert double.request_count(DEEZER) == 120
    assert double.rejections(DEEZER) == 0
    assert elapsed >= 10.0  # two windows' worth past the first cannot go faster than 50 per 5 s


# -- top tracks (GET /artist/{id}/top) -------------------------------------------------------------


async def test_top_tracks_come_most_popular_first_with_the_largest_cover(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    artist_id = deezer_id(double, "Queen")
    async with client(double) as deezer:
        tracks = await deezer.get_top_tracks(artist_id, limit=5)
    assert 1 <= len(tracks) <= 5
    assert all(isinstance(t, DeezerTrack) for t in tracks)
    ranks = [t.rank or 0 for t in tracks]
    assert all(1 <= r <= 1_000_000 for r in ranks)
    assert ranks == sorted(ranks, reverse=True)
    by_name = {t.name: t for t in queen.top_tracks}
    first = tracks[0]
    assert first.title in by_name
    assert first.album_title == by_name[first.title].album
    assert first.duration_s == round(by_name[first.title].duration_ms / 1000) > 0
    assert first.album_cover_url is not None and first.album_cover_url.endswith("-1000.png")  # cover_xl
    assert first.link == f"https://www.deezer.com/track/{first.id}"
    assert first.preview is not None and first.preview.endswith(".mp3")
    assert double.request_count(DEEZER, f"/artist/{artist_id}/top") == 1


async def test_top_tracks_accept_ids_and_ranks_sent_as_strings(double: ApiDouble) -> None:
    artist_id = deezer_id(double, "Queen")
    async with client(double) as deezer:
        as_numbers = await deezer.get_top_tracks(artist_id)
        double.set_deezer_top_strings(artist_id)
        as_strings = await deezer.get_top_tracks(str(artist_id))
    assert as_strings == as_numbers
    assert all(isinstance(t.id, int) and isinstance(t.rank, int) for t in as_strings)


async def test_top_tracks_of_an_unknown_artist_are_an_empty_list(double: ApiDouble) -> None:
    """Deezer answers code 800 "no data" for an unknown id and for an artist without tracks alike."""
    async with client(double) as deezer:
        assert await deezer.get_top_tracks(999999999) == []
    assert double.request_count(DEEZER) == 1  # not retried


async def test_top_tracks_limit_is_checked_before_any_request(double: ApiDouble) -> None:
    async with client(double) as deezer:
        with pytest.raises(ValueError, match="limit must be 1-100"):
            await deezer.get_top_tracks(27, limit=0)
    assert double.request_count() == 0


async def test_null_entries_in_deezer_lists_are_skipped() -> None:
    """Pure unit case (MockTransport): the double never sends nulls in Deezer lists."""
    track = {"id": "3135556", "title": "Harder, Better", "rank": "700000", "duration": "224", "album": {"title": "D"}}
    answers = {
        "/search/artist": {"data": [None, {"id": 27, "name": "Daft Punk", "nb_fan": 10}, None], "total": 3},
        "/artist/27/top": {"data": [None, track], "total": 2},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        deezer = DeezerClient("https://api.deezer.test", http=http, gate=fast_gate("Deezer"), retry=FAST_RETRY)
        found = await deezer.search_artists("daft")
        tracks = await deezer.get_top_tracks(27)
    assert [a.name for a in found] == ["Daft Punk"]
    assert tracks == [DeezerTrack(3135556, "Harder, Better", 700000, 224, "D", None, None, None)]
