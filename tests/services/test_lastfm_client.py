"""The Last.fm client against the API double: string numbers read, errors read from the body whatever the status."""

from __future__ import annotations

import time

import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop import __version__
from artist_desktop.devtools.api_double import LASTFM, ApiDouble, Fault
from artist_desktop.devtools.double_lastfm import lastfm_fault
from artist_desktop.services.errors import (
    AuthenticationError,
    MissingCredentialsError,
    NotFoundError,
    RateLimitedError,
    ServiceUnavailableError,
)
from artist_desktop.services.http import RateGate
from artist_desktop.services.lastfm import LastfmArtist, LastfmClient
from artist_desktop.services.quotas import LASTFM_QUOTA


def client_for(double: ApiDouble, *, key: str | None = None, gate: RateGate | None = None) -> LastfmClient:
    settings = double.urls.as_settings()
    return LastfmClient(
        settings["lastfm_api_url"],
        settings["lastfm_api_key"] if key is None else key,
        "analyst@example.org",
        gate=gate or fast_gate(LASTFM),
        retry=FAST_RETRY,
    )


def mbid_of(double: ApiDouble, name: str) -> str:
    section = artist_named(double, name).musicbrainz
    assert section is not None
    return str(section["mbid"])


async def test_artist_info_by_mbid_reads_the_string_numbers(double: ApiDouble) -> None:
    radiohead = artist_named(double, "Radiohead")
    listeners, playcount = double.lastfm.figures(radiohead)
    async with client_for(double) as client:
        found = await client.artist_info(mbid=mbid_of(double, "Radiohead"))
    assert found == LastfmArtist(
        name="Radiohead",
        mbid=mbid_of(double, "Radiohead"),
        url="https://www.last.fm/music/Radiohead",
        listeners=listeners,
        playcount=playcount,
    )
    assert 0 < found.listeners < found.playcount
    user_agent = double.last_user_agent(LASTFM)
    assert user_agent == f"ArtistDesktop/{__version__} ( analyst@example.org )"


async def test_by_name_autocorrect_fixes_case_and_spacing_and_an_empty_mbid_is_none(double: ApiDouble) -> None:
    async with client_for(double) as client:
        found = await client.artist_info(name="daft   PUNK")
        assert found.name == "Daft Punk"
        with pytest.raises(NotFoundError, match=r"Last\.fm has no artist named 'daft   PUNK'"):
            await client.artist_info(name="daft   PUNK", autocorrect=False)
        # an artist MusicBrainz does not know: Last.fm sends "mbid": ""
        unknown_to_mb = next(a for a in double.catalog.artists if not a.musicbrainz)
        assert (await client.artist_info(name=unknown_to_mb.name)).mbid is None


async def test_an_unknown_artist_is_not_found_from_an_http_200_body(double: ApiDouble) -> None:
    async with client_for(double) as client:
        with pytest.raises(NotFoundError, match="no artist with MBID 00000000-0000-0000-0000-000000000000") as caught:
            await client.artist_info(mbid="00000000-0000-0000-0000-000000000000")
    assert caught.value.status == 6
    assert double.request_count(LASTFM) == 1  # not retried


async def test_a_wrong_key_is_an_authentication_error_not_retried(double: ApiDouble) -> None:
    async with client_for(double, key="not-the-key") as client:
        with pytest.raises(AuthenticationError, match=r"Last\.fm rejects the API key") as caught:
            await client.artist_info(name="Radiohead")
    assert caught.value.status == 10
    assert double.request_count(LASTFM) == 1


async def test_a_suspended_key_is_an_authentication_error(double: ApiDouble) -> None:
    double.lastfm.suspend_key()
    async with client_for(double) as client:
        with pytest.raises(AuthenticationError, match="suspended") as caught:
            await client.artist_info(name="Radiohead")
        assert caught.value.status == 26
        double.lastfm.suspend_key(False)
        assert (await client.artist_info(name="Radiohead")).name == "Radiohead"


async def test_no_key_fails_before_any_request(double: ApiDouble) -> None:
    async with client_for(double, key="  ") as client:
        with pytest.raises(MissingCredentialsError, match=r"No Last\.fm API key"):
            await client.artist_info(name="Radiohead")
    assert double.request_count(LASTFM) == 0


async def test_a_rate_limit_is_waited_out_as_retry_after_says(double: ApiDouble) -> None:
    double.inject(LASTFM, "*", Fault.rate_limited(retry_after=1), times=1)
    async with client_for(double) as client:
        started = time.monotonic()
        found = await client.artist_info(name="Radiohead")
    assert found.name == "Radiohead"
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert double.request_count(LASTFM) == 2


async def test_error_29_in_an_http_200_body_is_a_rate_limit_too(double: ApiDouble) -> None:
    double.inject(LASTFM, "*", lastfm_fault(29), times=None)
    async with client_for(double) as client:
        with pytest.raises(RateLimitedError, match=r"Last\.fm rate limit reached, retried 3 times"):
            await client.artist_info(name="Radiohead")
    assert double.request_count(LASTFM) == 4


@pytest.mark.parametrize("code", [8, 11, 16])
async def test_transient_errors_are_retried(double: ApiDouble, code: int) -> None:
    double.inject(LASTFM, "Radiohead", lastfm_fault(code), times=2)
    async with client_for(double) as client:
        assert (await client.artist_info(name="Radiohead")).name == "Radiohead"
    assert double.request_count(LASTFM) == 3


async def test_a_transient_error_that_lasts_says_so_after_the_retries(double: ApiDouble) -> None:
    double.inject(LASTFM, "*", lastfm_fault(11), times=None)
    async with client_for(double) as client:
        with pytest.raises(ServiceUnavailableError, match=r"Service Offline.*code 11\), retried 3 times"):
            await client.artist_info(name="Radiohead")


async def test_the_default_gate_keeps_one_request_per_second(double: ApiDouble) -> None:
    settings = double.urls.as_settings()
    async with LastfmClient(settings["lastfm_api_url"], "k") as default:
        assert (default.gate.limit, default.gate.period) == (1, 1.0)
    gate = RateGate(LASTFM, *LASTFM_QUOTA)
    async with LastfmClient(settings["lastfm_api_url"], settings["lastfm_api_key"], gate=gate) as client:
        started = time.monotonic()
        for _ in range(3):
            await client.artist_info(name="Radiohead")
    assert time.monotonic() - started >= 2.0
    assert double.rejections(LASTFM) == 0


async def test_exactly_one_of_mbid_or_name_is_asked_for(double: ApiDouble) -> None:
    async with client_for(double) as client:
        for wrong in ({"mbid": "x", "name": "y"}, {}, {"name": " "}):
            with pytest.raises(ValueError):
                await client.artist_info(**wrong)  # type: ignore[arg-type]
    assert double.request_count(LASTFM) == 0
