"""The Last.fm source against the API double: MBID first, name with an MBID check, a rejected key stops the run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date

import pytest

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import LASTFM, ApiDouble, Fault
from artist_desktop.devtools.double_lastfm import lastfm_fault
from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.http import RateGate, RetryPolicy
from artist_desktop.services.lastfm import LastfmClient
from artist_desktop.services.quotas import LASTFM_QUOTA
from artist_desktop.sources.base import ArtistFigures, Figure, FigureOutcome, SourceArtist, SourceFailed
from artist_desktop.sources.lastfm import KEY_REJECTED, LastfmSource

TODAY = date(2026, 12, 7)
QUICK = RetryPolicy(max_attempts=3, max_total=3.0, base_delay=0.01, max_delay=0.05)


@pytest.fixture
def double(api_double: ApiDouble) -> ApiDouble:
    api_double.set_rate_limit(LASTFM, None)  # the client's quota has its own test below
    return api_double


@pytest.fixture
async def client(double: ApiDouble) -> AsyncIterator[LastfmClient]:
    settings = double.urls.as_settings()
    async with LastfmClient(
        settings["lastfm_api_url"], settings["lastfm_api_key"], gate=RateGate(LASTFM, 1000, 1.0), retry=QUICK
    ) as made:
        yield made


def named(double: ApiDouble, name: str) -> CatalogArtist:
    return next(a for a in double.catalog.artists if a.name == name)


def row(artist: CatalogArtist, artist_id: int, *, platform_id: str | None = None, mbid: bool = True) -> SourceArtist:
    found = artist.musicbrainz["mbid"] if artist.musicbrainz and mbid else None
    return SourceArtist(artist_id, artist.name, mbid=found, platform_id=platform_id)


async def collect(source: LastfmSource, artists: list[SourceArtist]) -> dict[int, ArtistFigures]:
    reported: list[ArtistFigures] = []

    async def report(figures: ArtistFigures) -> None:
        reported.append(figures)

    await source.collect(artists, TODAY, report)
    assert len(reported) == len({r.artist_id for r in reported})  # each artist once
    return {r.artist_id: r for r in reported}


def test_the_source_describes_itself(client: LastfmClient) -> None:
    source = LastfmSource(client)
    assert (source.name, source.label, source.headline) == (
        Platform.LASTFM,
        "Last.fm listeners",
        MetricType.LISTENERS,
    )
    assert source.metrics == (MetricType.LISTENERS, MetricType.PLAYCOUNT)
    assert source.skip_reason() is None
    assert LastfmSource(LastfmClient(api_key="")).skip_reason() == "no API key"
    assert source.serves(SourceArtist(1, "X", mbid="0bed844e-20ad-5e5e-ad74-f37c3bfa5860"))
    assert source.serves(SourceArtist(1, "X", platform_id="X"))
    assert not source.serves(SourceArtist(1, "X"))


async def test_figures_by_mbid_with_the_name_last_fm_spells(double: ApiDouble, client: LastfmClient) -> None:
    radiohead = named(double, "Radiohead")
    listeners, playcount = double.lastfm.figures(radiohead)
    result = (await collect(LastfmSource(client), [row(radiohead, 7)]))[7]
    assert result == ArtistFigures.updated(
        7,
        [Figure(MetricType.LISTENERS, TODAY, listeners), Figure(MetricType.PLAYCOUNT, TODAY, playcount)],
        {Platform.LASTFM: "Radiohead"},
    )


async def test_an_mbid_last_fm_does_not_know_falls_back_to_the_name(double: ApiDouble, client: LastfmClient) -> None:
    artist = named(double, "Kraftwerk")
    assert artist.musicbrainz and artist.musicbrainz["mbid"] in double.lastfm.mbid_unknown
    result = (await collect(LastfmSource(client), [row(artist, 1)]))[1]
    assert result.outcome is FigureOutcome.UPDATED
    assert result.figures[0].value == double.lastfm.figures(artist)[0]
    assert double.request_count(LASTFM) == 2  # the MBID, then the name


async def test_a_name_matched_artist_whose_mbid_differs_is_rejected(double: ApiDouble, client: LastfmClient) -> None:
    air = named(double, "Air")
    assert "Air" in double.lastfm.namesakes
    result = (await collect(LastfmSource(client), [row(air, 3)]))[3]
    assert result.outcome is FigureOutcome.NOT_FOUND and not result.figures
    assert result.reason is not None
    assert "another artist of that name" in result.reason and "Set Last.fm name" in result.reason
    assert result.resolved_ids == {}  # the namesake's name is not stored as Air's


async def test_a_stored_or_hand_set_name_is_looked_up_as_it_is_and_trusted(
    double: ApiDouble, client: LastfmClient
) -> None:
    bjork = named(double, "Björk")
    source = LastfmSource(client)
    results = await collect(
        source,
        [
            row(bjork, 1, platform_id="Björk"),
            row(named(double, "Air"), 2, platform_id="Air"),  # the analyst says this page is theirs: trusted
            row(named(double, "Stromae"), 3, platform_id="Stromae", mbid=False),  # no MBID to check
        ],
    )
    assert results[1].outcome is FigureOutcome.UPDATED
    assert results[1].figures[0].value == double.lastfm.figures(bjork)[0]
    # A stored name was accepted once or set by hand: no MBID check overrules the analyst (the namesake's page).
    assert results[2].outcome is FigureOutcome.UPDATED
    assert results[3].outcome is FigureOutcome.UPDATED
    assert double.request_count(LASTFM) == 3  # a stored name: one request, never the MBID
    # no autocorrect on a stored name: Last.fm's spelling is what was stored
    misspelt = (await collect(source, [row(bjork, 4, platform_id="Bjork")]))[4]
    assert misspelt.outcome is FigureOutcome.NOT_FOUND and "'Bjork'" in (misspelt.reason or "")


async def test_not_found_and_failed_artists_are_reported_and_the_rest_collected(
    double: ApiDouble, client: LastfmClient
) -> None:
    double.inject(LASTFM, "Daft Punk", lastfm_fault(8), times=None)
    daft_punk = named(double, "Daft Punk")  # unknown by MBID: its name lookup keeps failing
    artists = [
        SourceArtist(1, "Nobody", mbid="00000000-0000-0000-0000-000000000000"),
        row(daft_punk, 2),
        *(row(a, 10 + i) for i, a in enumerate(double.catalog.artists[2:8]) if a.musicbrainz),
    ]
    results = await collect(LastfmSource(client), artists)
    assert results[1].outcome is FigureOutcome.NOT_FOUND
    assert results[1].reason == "Last.fm knows neither this MBID nor the name 'Nobody'"
    assert results[2].outcome is FigureOutcome.FAILED and "Operation failed" in (results[2].reason or "")
    others = [results[a.artist_id] for a in artists[2:]]
    assert len(others) >= 5 and all(r.outcome is not FigureOutcome.FAILED for r in others)


async def test_a_rate_limit_is_waited_out(double: ApiDouble, client: LastfmClient) -> None:
    double.inject(LASTFM, "*", Fault.rate_limited(retry_after=1), times=1)
    result = (await collect(LastfmSource(client), [row(named(double, "Radiohead"), 1)]))[1]
    assert result.outcome is FigureOutcome.UPDATED
    assert double.request_count(LASTFM) == 2


@pytest.mark.parametrize("suspended", [False, True])
async def test_a_rejected_key_fails_the_source_in_words_for_a_person(double: ApiDouble, suspended: bool) -> None:
    settings = double.urls.as_settings()
    key = settings["lastfm_api_key"] if suspended else "wrong-key"
    if suspended:
        double.lastfm.suspend_key()
    client = LastfmClient(settings["lastfm_api_url"], key, gate=RateGate(LASTFM, 1000, 1.0), retry=QUICK)
    artists = [row(a, i) for i, a in enumerate(double.catalog.artists) if a.musicbrainz]
    reported: list[ArtistFigures] = []

    async def report(figures: ArtistFigures) -> None:
        reported.append(figures)

    async with client:
        with pytest.raises(SourceFailed) as caught:
            await LastfmSource(client).collect(artists, TODAY, report)
    assert str(caught.value) == KEY_REJECTED == "Last.fm rejects the API key: check it in Settings"
    assert reported == []
    assert double.request_count(LASTFM) <= 4  # the run stops: no request per remaining artist


async def test_a_report_that_fails_stops_the_run_with_its_own_error(double: ApiDouble, client: LastfmClient) -> None:
    async def report(figures: ArtistFigures) -> None:
        raise OSError("disk full")

    artists = [row(a, i) for i, a in enumerate(double.catalog.artists[:6]) if a.musicbrainz]
    with pytest.raises(OSError, match="disk full"):
        await LastfmSource(client).collect(artists, TODAY, report)


async def test_many_artists_go_at_the_client_s_pace_and_are_reported_as_they_come(double: ApiDouble) -> None:
    double.set_rate_limit(LASTFM, (5, 1.0))  # Last.fm's old 5/s: the 1/s gate never meets it
    double.set_latency(0.05)
    settings = double.urls.as_settings()
    gate = RateGate(LASTFM, *LASTFM_QUOTA)
    artists = [row(a, i) for i, a in enumerate(double.catalog.artists[2:5]) if a.musicbrainz]
    times: list[float] = []

    async def report(figures: ArtistFigures) -> None:
        times.append(time.monotonic())

    async with LastfmClient(settings["lastfm_api_url"], settings["lastfm_api_key"], gate=gate, retry=QUICK) as client:
        started = time.monotonic()
        await LastfmSource(client).collect(artists, TODAY, report)
    requests = double.request_count(LASTFM)
    assert len(times) == len(artists) and double.rejections(LASTFM) == 0
    assert time.monotonic() - started >= requests - 1  # one request a second
    assert times[0] - started < 1.5  # the first is reported long before the last


async def test_cancelling_the_collection_stops_it(double: ApiDouble, client: LastfmClient) -> None:
    double.set_latency(0.5)
    artists = [row(a, i) for i, a in enumerate(double.catalog.artists) if a.musicbrainz]

    async def report(figures: ArtistFigures) -> None:
        return None

    task = asyncio.ensure_future(LastfmSource(client).collect(artists, TODAY, report))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
