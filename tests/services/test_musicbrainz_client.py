"""MusicBrainzClient over real sockets against the API double: URL lookup, artist facts, User-Agent, 503."""

from __future__ import annotations

import time

import httpx
import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop import __version__
from artist_desktop.devtools.api_double import MUSICBRAINZ, ApiDouble, Fault
from artist_desktop.services import (
    MusicBrainzClient,
    NotFoundError,
    QuotaExceededError,
    RateGate,
    RateLimitedError,
    RetryPolicy,
)

CONTACT = "analyst@example.org"


def client(double: ApiDouble, **kwargs: object) -> MusicBrainzClient:
    options: dict[str, object] = {"gate": fast_gate("MusicBrainz"), "retry": FAST_RETRY, **kwargs}
    return MusicBrainzClient(double.urls.musicbrainz_api_url, CONTACT, **options)  # type: ignore[arg-type]


async def test_artist_for_a_spotify_url_has_country_gender_type_area_and_life_span(double: ApiDouble) -> None:
    bowie = artist_named(double, "David Bowie")
    async with client(double) as musicbrainz:
        artist = await musicbrainz.artist_for_spotify_url(bowie.spotify_url)
    assert artist is not None
    assert bowie.musicbrainz is not None
    assert artist.mbid == bowie.musicbrainz["mbid"]
    assert (artist.name, artist.type, artist.gender, artist.country, artist.area) == (
        "David Bowie",
        "Person",
        "Male",
        "GB",
        "United Kingdom",
    )
    assert (artist.life_span_begin, artist.life_span_end, artist.ended) == ("1947-01-08", "2016-01-10", True)
    assert double.request_count(MUSICBRAINZ) == 2


async def test_a_group_has_no_gender_and_a_running_life_span(double: ApiDouble) -> None:
    async with client(double) as musicbrainz:
        artist = await musicbrainz.artist_for_spotify_url(artist_named(double, "Radiohead").spotify_url)
    assert artist is not None
    assert (artist.type, artist.gender, artist.life_span_end, artist.ended) == ("Group", None, None, False)


async def test_an_unknown_url_is_none_after_one_request(double: ApiDouble) -> None:
    unknown = artist_named(double, "Nadia Okafor")  # MusicBrainz has no entry for her
    async with client(double) as musicbrainz:
        assert await musicbrainz.artist_for_spotify_url(unknown.spotify_url) is None
    assert double.request_count(MUSICBRAINZ) == 1


async def test_an_unknown_mbid_is_not_found(double: ApiDouble) -> None:
    async with client(double) as musicbrainz:
        with pytest.raises(NotFoundError, match="MusicBrainz has no artist with id"):
            await musicbrainz.get_artist("00000000-0000-0000-0000-000000000000")


async def test_the_user_agent_names_the_app_version_and_contact(double: ApiDouble) -> None:
    async with client(double) as musicbrainz:
        await musicbrainz.artist_for_spotify_url(artist_named(double, "Queen").spotify_url)
    assert double.last_user_agent(MUSICBRAINZ) == f"ArtistDesktop/{__version__} ( {CONTACT} )"


async def test_503_is_retried(double: ApiDouble) -> None:
    queen = artist_named(double, "Queen")
    double.inject(MUSICBRAINZ, "/url", Fault.http(503), times=2)
    async with client(double) as musicbrainz:
        artist = await musicbrainz.artist_for_spotify_url(queen.spotify_url)
    assert artist is not None and artist.name == "Queen"
    assert double.request_count(MUSICBRAINZ, "/url") == 3


async def test_persistent_503_is_a_rate_limit_error_naming_musicbrainz(double: ApiDouble) -> None:
    double.inject(MUSICBRAINZ, "*", Fault.http(503), times=None)
    async with client(double) as musicbrainz:
        with pytest.raises(RateLimitedError, match=r"^MusicBrainz is refusing requests .* retried 3 times"):
            await musicbrainz.artist_for_spotify_url(artist_named(double, "Queen").spotify_url)


async def test_the_gate_keeps_lookups_under_the_enforced_rate(double: ApiDouble) -> None:
    double.set_rate_limit(MUSICBRAINZ, (1, 0.2))  # MusicBrainz's 1/s, shrunk five times
    urls = [artist_named(double, name).spotify_url for name in ("Queen", "ABBA", "Björk")]
    started = time.monotonic()
    async with client(double, gate=RateGate("MusicBrainz", 1, 0.2)) as musicbrainz:
        found = [await musicbrainz.artist_for_spotify_url(url) for url in urls]
    assert [a.name if a else None for a in found] == ["Queen", "ABBA", "Björk"]
    assert double.rejections(MUSICBRAINZ) == 0
    assert time.monotonic() - started >= 5 * 0.2


async def test_without_the_gate_the_enforced_rate_answers_503_and_retries_recover(double: ApiDouble) -> None:
    double.set_rate_limit(MUSICBRAINZ, (1, 0.2))
    async with client(double) as musicbrainz:
        artist = await musicbrainz.artist_for_spotify_url(artist_named(double, "Queen").spotify_url)
    assert artist is not None
    assert double.rejections(MUSICBRAINZ) >= 1


async def test_a_503_asking_for_a_long_pause_is_a_quota_error_at_once(double: ApiDouble) -> None:
    """A temporary block (Retry-After of an hour) is not slept through or retried: it is shown to people."""
    double.inject(MUSICBRAINZ, "*", Fault.rate_limited(retry_after=3600), times=None)
    queen = artist_named(double, "Queen")
    async with client(double, retry=RetryPolicy(max_attempts=5, max_total=7200)) as musicbrainz:
        started = time.monotonic()
        with pytest.raises(QuotaExceededError, match=r"^MusicBrainz is refusing requests .*: available again at "):
            await musicbrainz.artist_for_spotify_url(queen.spotify_url)
        with pytest.raises(QuotaExceededError):  # the gate is shut for every caller until then
            await musicbrainz.get_artist("00000000-0000-0000-0000-000000000000")
    assert time.monotonic() - started < 1.0
    assert double.request_count(MUSICBRAINZ) == 1


async def test_null_relations_are_skipped() -> None:
    """Pure unit case (MockTransport): the double never sends nulls in relations."""
    mbid = "0383dadf-2a4e-4d10-a46a-e9e041da8eb3"
    answers = {
        "/ws/2/url": {
            "id": "u",
            "resource": "x",
            "relations": [None, {"target-type": "artist", "artist": {"id": mbid}}],
        },
        f"/ws/2/artist/{mbid}": {"id": mbid, "name": "Queen", "type": "Group"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        musicbrainz = MusicBrainzClient("https://mb.test/ws/2", CONTACT, http=http, gate=fast_gate("MusicBrainz"))
        artist = await musicbrainz.artist_for_spotify_url("https://open.spotify.com/artist/1dfeR4HaWDbWqFHLkxsg1d")
    assert artist is not None and artist.name == "Queen"
