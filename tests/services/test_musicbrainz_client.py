"""MusicBrainzClient over real sockets against the API double: URL lookups one or 100 at a time, artist facts
one or 100 at a time (``arid:`` search), User-Agent, 503."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop import __version__
from artist_desktop.devtools.api_double import MUSICBRAINZ, ApiDouble, DoubleConfig, Fault
from artist_desktop.devtools.generated_catalog import generated_catalog
from artist_desktop.services import (
    MissingCredentialsError,
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


async def test_without_a_contact_nothing_is_sent_and_the_error_says_where_to_set_it(double: ApiDouble) -> None:
    """MetaBrainz blocks anonymous clients (api-facts.md): no request goes out until the operator says who they are."""
    async with MusicBrainzClient(double.urls.musicbrainz_api_url, "  ", gate=fast_gate("MusicBrainz")) as musicbrainz:
        with pytest.raises(MissingCredentialsError, match="Contact in Settings"):
            await musicbrainz.artist_for_spotify_url(artist_named(double, "Queen").spotify_url)
    assert double.request_count("musicbrainz") == 0


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


async def test_many_urls_in_one_request_each_mapped_back_to_its_url(double: ApiDouble) -> None:
    names = ("Radiohead", "David Bowie", "ABBA", "Queen", "Björk", "Nadia Okafor")  # not in URL order
    artists = [artist_named(double, name) for name in names]
    async with client(double) as musicbrainz:
        found = await musicbrainz.artists_for_spotify_urls([a.spotify_url for a in artists])
    assert list(found) == [a.spotify_url for a in artists]
    assert found[artists[-1].spotify_url] is None  # MusicBrainz has no entry for Nadia Okafor
    for artist in artists[:-1]:
        facts = found[artist.spotify_url]
        assert artist.musicbrainz is not None and facts is not None
        assert (facts.mbid, facts.name, facts.country) == (
            artist.musicbrainz["mbid"],
            artist.name,
            artist.musicbrainz["country"],
        )
        assert facts.partial and facts.life_span_begin is None  # a relation names no life-span
    assert double.request_count(MUSICBRAINZ) == double.request_count(MUSICBRAINZ, "/url") == 1


async def test_artists_by_mbid_gives_country_gender_area_and_life_span_in_one_search(double: ApiDouble) -> None:
    bowie, radiohead = artist_named(double, "David Bowie"), artist_named(double, "Radiohead")
    assert bowie.musicbrainz is not None and radiohead.musicbrainz is not None
    unknown = "00000000-0000-0000-0000-000000000000"
    async with client(double) as musicbrainz:
        found = await musicbrainz.artists_by_mbid([bowie.musicbrainz["mbid"], unknown, radiohead.musicbrainz["mbid"]])
        with pytest.raises(ValueError, match="not MusicBrainz ids: queen"):
            await musicbrainz.artists_by_mbid(["queen"])
    david, group = found[bowie.musicbrainz["mbid"]], found[radiohead.musicbrainz["mbid"]]
    assert found[unknown] is None
    assert david is not None and group is not None
    assert (david.name, david.type, david.gender, david.country, david.area) == (
        "David Bowie",
        "Person",
        "Male",
        "GB",
        "United Kingdom",
    )
    assert (david.life_span_begin, david.life_span_end, david.ended, david.partial) == (
        "1947-01-08",
        "2016-01-10",
        True,
        False,
    )
    assert (group.gender, group.life_span_begin, group.life_span_end, group.ended) == (None, "1985", None, False)
    assert double.request_count(MUSICBRAINZ) == double.request_count(MUSICBRAINZ, "/artist") == 1


async def test_150_artists_take_two_url_lookups_and_two_searches(tmp_path: Path) -> None:
    catalog = generated_catalog(150, tmp_path)
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=catalog) as double:
        async with client(double) as musicbrainz:
            linked = await musicbrainz.artists_for_spotify_urls(a.spotify_url for a in catalog.artists)
            details = await musicbrainz.artists_by_mbid(a.mbid for a in linked.values() if a is not None)
        assert (double.request_count(MUSICBRAINZ, "/url"), double.request_count(MUSICBRAINZ, "/artist")) == (2, 2)
    for artist in catalog.artists:
        assert artist.musicbrainz is not None
        found = linked[artist.spotify_url]
        assert found is not None and found.mbid == artist.musicbrainz["mbid"]
        facts = details[found.mbid]
        assert facts is not None
        span = artist.musicbrainz["life_span"]
        assert (facts.country, facts.gender, facts.life_span_begin, facts.life_span_end) == (
            artist.musicbrainz["country"],
            artist.musicbrainz["gender"],
            span["begin"],
            span["end"],
        )


async def test_at_the_real_pace_the_gate_spaces_batches_and_nothing_is_refused(tmp_path: Path) -> None:
    """MusicBrainz's 1 request/s (the double's default): 150 artists' facts in four requests, none refused."""
    catalog = generated_catalog(150, tmp_path)
    async with ApiDouble(DoubleConfig(), catalog=catalog) as double:
        started = time.monotonic()
        async with client(double, gate=RateGate("MusicBrainz", 1, 1.0)) as musicbrainz:
            linked = await musicbrainz.artists_for_spotify_urls(a.spotify_url for a in catalog.artists)
            details = await musicbrainz.artists_by_mbid(a.mbid for a in linked.values() if a is not None)
        assert double.request_count(MUSICBRAINZ) == 4
        assert double.rejections(MUSICBRAINZ) == 0
    assert time.monotonic() - started >= 3.0
    assert all(facts is not None for facts in details.values()) and len(details) == 150


async def test_null_entries_in_url_lists_and_search_results_are_skipped() -> None:
    """Pure unit case (MockTransport): the double never sends nulls in these lists."""
    queen, abba = "0383dadf-2a4e-4d10-a46a-e9e041da8eb3", "d87e52c5-bb8d-4da8-b941-9f4928627dc8"
    queen_url = "https://open.spotify.com/artist/1dfeR4HaWDbWqFHLkxsg1d"
    abba_url = "https://open.spotify.com/artist/0LcJLqbBmaGUft1e9Mm8HV"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/ws/2/url":
            assert request.url.params.get_list("resource") == [queen_url, abba_url]
            related = {"target-type": "artist", "artist": {"id": abba, "name": "ABBA", "country": "SE"}}
            urls = [None, {"id": "u", "resource": abba_url, "relations": [None, related]}]
            return httpx.Response(200, json={"url-count": 1, "url-offset": 0, "urls": urls})
        assert request.url.params["query"] == f"arid:({abba} OR {queen})"
        return httpx.Response(200, json={"count": 1, "offset": 0, "artists": [None, {"id": abba, "name": "ABBA"}]})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        musicbrainz = MusicBrainzClient("https://mb.test/ws/2", CONTACT, http=http, gate=fast_gate("MusicBrainz"))
        linked = await musicbrainz.artists_for_spotify_urls([queen_url, abba_url])
        details = await musicbrainz.artists_by_mbid([abba, queen])
    assert linked[queen_url] is None
    found = linked[abba_url]
    assert found is not None and (found.mbid, found.country, found.partial) == (abba, "SE", True)
    assert details[queen] is None
    facts = details[abba]
    assert facts is not None and facts.name == "ABBA"
