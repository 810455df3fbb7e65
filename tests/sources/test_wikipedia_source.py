"""The Wikipedia source against the API double: MusicBrainz url-rels -> Wikidata (50 items a request) -> daily
pageviews; a first collection backfills 90 days, the next day adds one, a hand-set title needs no resolving;
not found (no Wikidata link, no English article, no pageviews), per-artist failures, a refused User-Agent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest

from artist_desktop.devtools._catalog import CatalogArtist, enwiki_title, wikidata_id
from artist_desktop.devtools.api_double import MUSICBRAINZ, WIKIDATA, WIKIMEDIA, ApiDouble, DoubleConfig, Fault
from artist_desktop.devtools.generated_catalog import generated_catalog
from artist_desktop.domain import MetricType, Platform
from artist_desktop.services import MusicBrainzClient, WikidataClient, WikimediaClient
from artist_desktop.services.http import RateGate, RetryPolicy
from artist_desktop.sources.base import ArtistFigures, FigureOutcome, MetricSource, SourceArtist, SourceFailed
from artist_desktop.sources.wikipedia import NO_ARTICLE, NO_CONTACT, NO_WIKIDATA, WikipediaSource

CONTACT = "analyst@example.org"
TODAY = date(2026, 12, 1)
RETRY = RetryPolicy(max_attempts=3, max_total=2.0, base_delay=0.01, max_delay=0.05)


def source(double: ApiDouble, contact: str = CONTACT) -> WikipediaSource:
    urls = double.urls
    return WikipediaSource(
        MusicBrainzClient(urls.musicbrainz_api_url, CONTACT, gate=RateGate(MUSICBRAINZ, 1000, 1.0), retry=RETRY),
        WikidataClient(urls.wikidata_api_url, contact, gate=RateGate(WIKIDATA, 1000, 1.0), retry=RETRY),
        WikimediaClient(urls.wikimedia_api_url, contact, gate=RateGate(WIKIMEDIA, 1000, 1.0), retry=RETRY),
        contact,
    )


def by_mbid(artist: CatalogArtist, artist_id: int, **known: object) -> SourceArtist:
    mbid = (artist.musicbrainz or {}).get("mbid")
    return SourceArtist(artist_id, artist.name, mbid, **known)  # type: ignore[arg-type]


async def collect(
    double: ApiDouble, artists: Sequence[SourceArtist], today: date = TODAY, contact: str = CONTACT
) -> dict[int, ArtistFigures]:
    reported: list[ArtistFigures] = []

    async def report(figures: ArtistFigures) -> None:
        reported.append(figures)

    await source(double, contact).collect(artists, today, report)
    outcomes = {figures.artist_id: figures for figures in reported}
    assert len(outcomes) == len(reported), "an artist was reported twice"
    return outcomes


def named(double: ApiDouble, name: str) -> CatalogArtist:
    return next(a for a in double.catalog.artists if a.name == name)


def test_it_is_a_metric_source_serving_artists_with_an_id(api_double: ApiDouble) -> None:
    wikipedia: MetricSource = source(api_double)
    assert (wikipedia.name, wikipedia.label, wikipedia.metrics, wikipedia.headline) == (
        Platform.WIKIPEDIA,
        "Wikipedia pageviews",
        (MetricType.PAGEVIEWS,),
        MetricType.PAGEVIEWS,
    )
    assert wikipedia.skip_reason() is None
    assert source(api_double, contact=" ").skip_reason() == NO_CONTACT == "no contact set (Settings: Contact)"
    assert not wikipedia.serves(SourceArtist(1, "Nadia Okafor"))
    assert wikipedia.serves(SourceArtist(1, "x", mbid="0bed844e-20ad-5e5e-ad74-f37c3bfa5860"))
    assert wikipedia.serves(SourceArtist(1, "x", wikidata_id="Q2831"))
    assert wikipedia.serves(SourceArtist(1, "x", platform_id="Michael Jackson"))


async def test_a_first_collection_backfills_90_days_and_resolves_the_ids(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    names = ["Radiohead", "Drake", "Björk", "Velvet Static", "The Lumen Tides"]
    artists = [by_mbid(named(api_double, name), n) for n, name in enumerate(names)]
    outcomes = await collect(api_double, artists)

    radiohead = outcomes[0]
    qid = wikidata_id(named(api_double, "Radiohead"))
    assert qid is not None
    assert radiohead.outcome is FigureOutcome.UPDATED
    assert radiohead.resolved_ids == {Platform.WIKIDATA: qid, Platform.WIKIPEDIA: "Radiohead"}
    days = [TODAY - timedelta(days=n) for n in range(90, 0, -1)]
    assert [figure.day for figure in radiohead.figures] == days
    assert {figure.metric for figure in radiohead.figures} == {MetricType.PAGEVIEWS}
    assert [f.value for f in radiohead.figures] == [api_double.wikimedia.views("Radiohead", day) for day in days]

    assert (outcomes[1].outcome, outcomes[1].reason) == (FigureOutcome.NOT_FOUND, NO_WIKIDATA)
    bjork = outcomes[2]
    assert (bjork.outcome, bjork.reason) == (FigureOutcome.NOT_FOUND, NO_ARTICLE)
    assert bjork.resolved_ids == {Platform.WIKIDATA: wikidata_id(named(api_double, "Björk"))}
    # An article nobody read in 90 days: a wrong title, more likely than an artist without a reader.
    assert outcomes[3].outcome is FigureOutcome.NOT_FOUND and "Velvet Static" in (outcomes[3].reason or "")
    # A small article's days without views are stored as zero views.
    small = outcomes[4]
    assert small.outcome is FigureOutcome.UPDATED
    assert 0 in [figure.value for figure in small.figures] and len(small.figures) >= 88

    assert api_double.request_count(MUSICBRAINZ) == 5
    assert api_double.request_count(WIKIDATA) == 1  # four items in one request
    assert api_double.request_count(WIKIMEDIA) == 3  # one request per article


async def test_the_next_day_adds_one_point_and_a_current_artist_costs_no_request(api_double: ApiDouble) -> None:
    tomorrow = TODAY + timedelta(days=1)
    api_double.wikimedia.set_today(tomorrow)
    daft = SourceArtist(1, "Daft Punk", platform_id="Daft Punk", last_day=TODAY - timedelta(days=1))
    current = SourceArtist(2, "Radiohead", platform_id="Radiohead", last_day=TODAY)
    outcomes = await collect(api_double, [daft, current], today=tomorrow)
    assert [(f.day, f.value) for f in outcomes[1].figures] == [(TODAY, api_double.wikimedia.views("Daft Punk", TODAY))]
    assert outcomes[1].resolved_ids == {}
    assert (outcomes[2].outcome, outcomes[2].figures) == (FigureOutcome.UPDATED, ())
    assert api_double.request_count(WIKIMEDIA) == 1


async def test_a_hand_set_title_is_used_without_resolving(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    nirvana = named(api_double, "Nirvana")
    artist = by_mbid(nirvana, 7, platform_id="Nirvana (band)", wikidata_id="Q1")
    outcomes = await collect(api_double, [artist])
    assert outcomes[7].outcome is FigureOutcome.UPDATED and len(outcomes[7].figures) == 90
    assert outcomes[7].resolved_ids == {}
    assert api_double.request_count(MUSICBRAINZ) == 0 and api_double.request_count(WIKIDATA) == 0


async def test_a_stored_wikidata_item_skips_musicbrainz(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    queen = named(api_double, "Queen")
    outcomes = await collect(api_double, [by_mbid(queen, 3, wikidata_id=wikidata_id(queen))])
    assert outcomes[3].resolved_ids == {Platform.WIKIPEDIA: enwiki_title(queen)}
    assert api_double.request_count(MUSICBRAINZ) == 0 and api_double.request_count(WIKIDATA) == 1


async def test_items_go_to_wikidata_50_a_request(tmp_path: Path) -> None:
    catalog = generated_catalog(120, tmp_path)
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=catalog) as double:
        double.wikimedia.set_today(TODAY)
        artists = [by_mbid(artist, n) for n, artist in enumerate(catalog.artists)]
        outcomes = await collect(double, artists)
        with_items = sum(1 for artist in catalog.artists if wikidata_id(artist))
        assert 100 < with_items <= 120
        assert len(outcomes) == 120
        assert double.request_count(WIKIDATA) == 3  # 50, 50 and the rest
        assert double.request_count(MUSICBRAINZ) == 120
        updated = [o for o in outcomes.values() if o.outcome is FigureOutcome.UPDATED]
        assert len(updated) == sum(1 for artist in catalog.artists if enwiki_title(artist) and artist.followers)
        assert double.request_count(WIKIMEDIA) == sum(1 for artist in catalog.artists if enwiki_title(artist))


async def test_a_day_not_yet_complete_is_left_for_the_next_run(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY - timedelta(days=1))  # Wikimedia has not finished yesterday yet
    artist = SourceArtist(1, "Radiohead", platform_id="Radiohead", last_day=TODAY - timedelta(days=4))
    outcomes = await collect(api_double, [artist])
    assert [figure.day for figure in outcomes[1].figures] == [TODAY - timedelta(days=n) for n in (3, 2)]


async def test_a_service_error_fails_that_artist_only(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    api_double.inject(WIKIMEDIA, "Queen", Fault.http(500), times=None)
    artists = [SourceArtist(1, "Queen", platform_id="Queen"), SourceArtist(2, "Air", platform_id="Air (band)")]
    outcomes = await collect(api_double, artists)
    assert outcomes[1].outcome is FigureOutcome.FAILED and "HTTP 500" in (outcomes[1].reason or "")
    assert outcomes[2].outcome is FigureOutcome.UPDATED and len(outcomes[2].figures) == 90


async def test_a_refused_user_agent_fails_the_source_in_words(api_double: ApiDouble) -> None:
    api_double.inject(WIKIMEDIA, "*", Fault.http(403), times=None)
    artists = [SourceArtist(n, f"A{n}", platform_id=f"A{n}") for n in range(5)]
    with pytest.raises(SourceFailed, match=r"refused the User-Agent .*Settings: Contact"):
        await collect(api_double, artists)
    with pytest.raises(SourceFailed, match="no contact set"):
        await collect(api_double, artists, contact="")
    api_double.clear_faults()
    api_double.inject(MUSICBRAINZ, "*", Fault.http(403), times=None)
    with pytest.raises(SourceFailed, match="MusicBrainz refused access"):
        await collect(api_double, [by_mbid(named(api_double, "Queen"), 1)])


async def test_an_error_of_the_report_callback_comes_out_as_itself(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)

    async def report(figures: ArtistFigures) -> None:
        raise RuntimeError("database is locked")

    artists = [SourceArtist(1, "Queen", platform_id="Queen"), by_mbid(named(api_double, "Drake"), 2)]
    with pytest.raises(RuntimeError, match="database is locked"):
        await source(api_double).collect(artists, TODAY, report)
