"""The ListenBrainz source against the double: figures, not found, malformed MBIDs, chunks, token, failures."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import date

import pytest

from artist_desktop.devtools.api_double import LISTENBRAINZ, ApiDouble, Fault
from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.http import RateGate, RetryPolicy
from artist_desktop.services.listenbrainz import ListenBrainzClient
from artist_desktop.sources.base import ArtistFigures, Figure, FigureOutcome, SourceArtist, SourceFailed
from artist_desktop.sources.listenbrainz import NO_LISTENS, ListenBrainzSource

TODAY = date(2026, 3, 14)
FAST_RETRY = RetryPolicy(max_attempts=2, max_total=2.0, base_delay=0.01, max_delay=0.05)


class Reports:
    """The report callback: every ArtistFigures by artist id (an artist reported twice fails the test)."""

    def __init__(self) -> None:
        self.by_artist: dict[int, ArtistFigures] = {}

    async def __call__(self, figures: ArtistFigures) -> None:
        assert figures.artist_id not in self.by_artist, f"artist {figures.artist_id} reported twice"
        self.by_artist[figures.artist_id] = figures


@pytest.fixture
async def make_source(api_double: ApiDouble) -> AsyncIterator[Callable[..., ListenBrainzSource]]:
    clients: list[ListenBrainzClient] = []

    def make(token: str = "") -> ListenBrainzSource:
        client = ListenBrainzClient(
            api_double.urls.listenbrainz_api_url,
            token,
            "tests@example.org",
            gate=RateGate("ListenBrainz"),
            retry=FAST_RETRY,
        )
        clients.append(client)
        return ListenBrainzSource(client)

    yield make
    for client in clients:
        await client.aclose()


def catalog_artists(double: ApiDouble) -> list[SourceArtist]:
    """Every catalog artist with an MBID, as the refresh hands them over (ids from 1)."""
    return [
        SourceArtist(artist_id=i, name=artist.name, mbid=mbid)
        for i, (mbid, artist) in enumerate(sorted(double.catalog.by_mbid.items()), start=1)
    ]


def test_describes_itself_and_serves_artists_with_an_mbid(make_source: Callable[..., ListenBrainzSource]) -> None:
    source = make_source()
    assert (source.name, source.label, source.headline) == (
        Platform.LISTENBRAINZ,
        "ListenBrainz listeners",
        MetricType.LISTENERS,
    )
    assert source.metrics == (MetricType.LISTENERS, MetricType.LISTENS)
    assert source.skip_reason() is None  # keyless: never skipped
    assert source.serves(SourceArtist(1, "A", mbid=str(uuid.uuid4())))
    assert not source.serves(SourceArtist(2, "B"))
    assert not source.serves(SourceArtist(3, "C", mbid=""))


async def test_figures_not_found_and_malformed_mbids_in_one_request(
    api_double: ApiDouble, make_source: Callable[..., ListenBrainzSource]
) -> None:
    artists = catalog_artists(api_double)
    unknown = SourceArtist(100, "Nobody", mbid=str(uuid.uuid4()))
    malformed = SourceArtist(101, "Typo", mbid="1234-not-a-uuid")
    reports = Reports()
    await make_source().collect([*artists, unknown, malformed], TODAY, reports)

    assert set(reports.by_artist) == {a.artist_id for a in [*artists, unknown, malformed]}
    assert api_double.request_count(LISTENBRAINZ) == 1  # the malformed MBID was left out, not sent
    updated = 0
    for artist in artists:
        report = reports.by_artist[artist.artist_id]
        figures = api_double.listenbrainz.figures(artist.mbid or "")
        if figures is None:
            assert (report.outcome, report.reason) == (FigureOutcome.NOT_FOUND, NO_LISTENS)
        else:
            updated += 1
            assert report.outcome is FigureOutcome.UPDATED and report.reason is None
            assert report.figures == (
                Figure(MetricType.LISTENERS, TODAY, figures[0]),
                Figure(MetricType.LISTENS, TODAY, figures[1]),
            )
    assert 0 < updated < len(artists)  # the catalog has both kinds
    assert reports.by_artist[100].outcome is FigureOutcome.NOT_FOUND
    assert reports.by_artist[100].reason == "ListenBrainz has no listens for this artist"
    assert (reports.by_artist[101].outcome, reports.by_artist[101].reason) == (
        FigureOutcome.FAILED,
        "Not a MusicBrainz id: 1234-not-a-uuid",
    )


async def test_2500_artists_take_three_requests(
    api_double: ApiDouble, make_source: Callable[..., ListenBrainzSource]
) -> None:
    artists = [SourceArtist(i, f"Artist {i}", mbid=str(uuid.uuid4())) for i in range(2500)]
    reports = Reports()
    await make_source().collect(artists, TODAY, reports)
    assert len(reports.by_artist) == 2500
    assert api_double.request_count(LISTENBRAINZ) == 3


async def test_a_required_token_fails_the_source_with_words_for_a_person(
    api_double: ApiDouble, make_source: Callable[..., ListenBrainzSource]
) -> None:
    api_double.listenbrainz.require_token("s3cret")
    reports = Reports()
    with pytest.raises(SourceFailed) as failed:
        await make_source().collect(catalog_artists(api_double), TODAY, reports)
    assert str(failed.value) == "ListenBrainz now asks for a token: add one in Settings"
    assert reports.by_artist == {}
    # With the token set in Settings, the same run succeeds.
    await make_source("s3cret").collect(catalog_artists(api_double)[:3], TODAY, reports)
    assert len(reports.by_artist) == 3


async def test_a_failed_request_fails_its_chunk_only(
    api_double: ApiDouble, make_source: Callable[..., ListenBrainzSource]
) -> None:
    first = [SourceArtist(i, f"Artist {i}", mbid=str(uuid.uuid4())) for i in range(1000)]
    second = catalog_artists(api_double)
    second = [SourceArtist(5000 + a.artist_id, a.name, mbid=a.mbid) for a in second]
    # Every request carrying the first chunk's first MBID fails (and its retry too).
    api_double.inject(LISTENBRAINZ, first[0].mbid or "", Fault.http(500), times=None)
    reports = Reports()
    await make_source().collect([*first, *second], TODAY, reports)
    assert len(reports.by_artist) == 1000 + len(second)
    for artist in first:
        report = reports.by_artist[artist.artist_id]
        assert report.outcome is FigureOutcome.FAILED
        assert report.reason is not None and report.reason.startswith("ListenBrainz is unavailable (HTTP 500")
    assert all(reports.by_artist[a.artist_id].outcome is not FigureOutcome.FAILED for a in second)
