"""WikidataClient and WikimediaClient over real sockets against the API double (and MusicBrainzClient's url-rels
that lead to them): titles 50 items a request, daily pageviews with every day present, 404 without data, the
User-Agent rules (empty contact refused, 403 in words), and 429's Retry-After honoured."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from svc_helpers import FAST_RETRY, artist_named, fast_gate

from artist_desktop import __version__
from artist_desktop.devtools._catalog import daily_pageviews, enwiki_title, wikidata_id
from artist_desktop.devtools.api_double import MUSICBRAINZ, WIKIDATA, WIKIMEDIA, ApiDouble, DoubleConfig, Fault
from artist_desktop.devtools.generated_catalog import generated_catalog, identity_catalog
from artist_desktop.services import (
    AuthenticationError,
    MissingCredentialsError,
    MusicBrainzClient,
    NotFoundError,
    WikidataClient,
    WikimediaClient,
)

CONTACT = "analyst@example.org"
TODAY = date(2026, 12, 1)
YESTERDAY = TODAY - timedelta(days=1)


def wikidata(double: ApiDouble, contact: str = CONTACT) -> WikidataClient:
    return WikidataClient(double.urls.wikidata_api_url, contact, gate=fast_gate(WIKIDATA), retry=FAST_RETRY)


def wikimedia(double: ApiDouble, contact: str = CONTACT) -> WikimediaClient:
    return WikimediaClient(double.urls.wikimedia_api_url, contact, gate=fast_gate(WIKIMEDIA), retry=FAST_RETRY)


async def test_titles_of_items_with_and_without_an_english_article(double: ApiDouble) -> None:
    radiohead, bjork, nirvana = (artist_named(double, n) for n in ("Radiohead", "Björk", "Nirvana"))
    ids = [wikidata_id(a) for a in (radiohead, bjork, nirvana)]
    assert all(ids)
    async with wikidata(double) as client:
        titles = await client.enwiki_titles([*(i.lower() for i in ids if i), "Q1"])
    assert titles == {ids[0]: "Radiohead", ids[1]: None, ids[2]: "Nirvana (band)", "Q1": None}
    assert double.request_count(WIKIDATA) == 1
    assert double.last_user_agent(WIKIDATA) == f"ArtistDesktop/{__version__} ( {CONTACT} )"


async def test_titles_come_50_items_a_request(tmp_path: Path) -> None:
    catalog = generated_catalog(130, tmp_path)
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=catalog) as double, wikidata(double) as client:
        items = {qid: enwiki_title(a) for a in catalog.artists if (qid := wikidata_id(a)) is not None}
        assert 100 < len(items) <= 130
        titles = await client.enwiki_titles(items)
        assert titles == items
        assert double.request_count(WIKIDATA) == 3  # 50 + 50 + the rest; never toomanyvalues


async def test_an_id_that_is_no_item_is_refused_before_any_request(double: ApiDouble) -> None:
    async with wikidata(double) as client:
        with pytest.raises(ValueError, match="P31"):
            await client.enwiki_titles(["Q1", "P31"])
        assert await client.enwiki_titles([]) == {}
    assert double.request_count(WIKIDATA) == 0


async def test_daily_pageviews_have_every_day_with_the_zero_days_filled(double: ApiDouble) -> None:
    double.wikimedia.set_today(TODAY)
    small = artist_named(double, "The Lumen Tides")
    first = TODAY - timedelta(days=90)
    async with wikimedia(double) as client:
        views = await client.daily_pageviews("The Lumen Tides", first, YESTERDAY)
        series = await client.pageviews("The Lumen Tides", first, YESTERDAY)
    days = [first + timedelta(days=n) for n in range(90)]
    assert list(views) == days
    assert views == {day: daily_pageviews(small.followers, "The Lumen Tides", day) for day in days}
    assert 0 in views.values()
    assert series.views == views
    assert series.reported == max(day for day, count in views.items() if count > 0)
    assert double.request_count(WIKIMEDIA) == 2


async def test_a_range_without_data_is_not_found(double: ApiDouble) -> None:
    double.wikimedia.set_today(TODAY)
    async with wikimedia(double) as client:
        for title in ("Velvet Static", "No Such Article"):
            with pytest.raises(NotFoundError, match=title):
                await client.daily_pageviews(title, TODAY - timedelta(days=30), YESTERDAY)
        # Not yet complete: today's views are answered tomorrow.
        with pytest.raises(NotFoundError):
            await client.daily_pageviews("Radiohead", TODAY, TODAY)
        with pytest.raises(ValueError):
            await client.daily_pageviews("Radiohead", TODAY, YESTERDAY)
    assert double.request_count(WIKIMEDIA) == 3  # a 404 is not retried


async def test_a_title_with_a_slash_is_quoted_into_the_path() -> None:
    assert WikimediaClient.article_path("AC/DC (band)") == "AC%2FDC_%28band%29"
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=identity_catalog()) as double:
        double.wikimedia.set_today(TODAY)
        async with wikimedia(double) as client:
            views = await client.daily_pageviews("+/- (band)", YESTERDAY - timedelta(days=6), YESTERDAY)
        assert len(views) == 7 and sum(views.values()) > 0


async def test_an_empty_contact_is_refused_before_any_request(double: ApiDouble) -> None:
    async with wikimedia(double, contact="  ") as pages, wikidata(double, contact="") as items:
        with pytest.raises(MissingCredentialsError, match="Settings: Contact"):
            await pages.daily_pageviews("Radiohead", YESTERDAY, YESTERDAY)
        with pytest.raises(MissingCredentialsError, match="contact"):
            await items.enwiki_titles(["Q1"])
    assert double.request_count() == 0


async def test_a_blocked_user_agent_says_to_set_the_contact(double: ApiDouble) -> None:
    double.inject(WIKIMEDIA, "*", Fault.http(403), times=None)
    double.inject(WIKIDATA, "*", Fault.http(403), times=None)
    async with wikimedia(double) as pages, wikidata(double) as items:
        with pytest.raises(AuthenticationError, match=r"refused the User-Agent .*Settings: Contact") as refused:
            await pages.daily_pageviews("Radiohead", YESTERDAY, YESTERDAY)
        assert CONTACT in str(refused.value)
        with pytest.raises(AuthenticationError, match="Wikidata refused the User-Agent"):
            await items.enwiki_titles(["Q1"])
    assert double.request_count(WIKIMEDIA) == 1 and double.request_count(WIKIDATA) == 1  # never retried


async def test_429_waits_for_retry_after_then_answers(double: ApiDouble) -> None:
    double.wikimedia.set_today(TODAY)
    double.inject(WIKIMEDIA, "*", Fault.rate_limited(retry_after=1))
    double.inject(WIKIDATA, "*", Fault.rate_limited(retry_after=1))
    async with wikimedia(double) as pages, wikidata(double) as items:
        started = time.monotonic()
        views = await pages.daily_pageviews("Radiohead", YESTERDAY, YESTERDAY)
        between = time.monotonic()
        titles = await items.enwiki_titles([wikidata_id(artist_named(double, "Radiohead")) or ""])
        ended = time.monotonic()
    assert views[YESTERDAY] == double.wikimedia.views("Radiohead", YESTERDAY) > 0
    assert list(titles.values()) == ["Radiohead"]
    assert between - started >= 1.0 and ended - between >= 1.0
    assert double.request_count(WIKIMEDIA) == 2 and double.request_count(WIKIDATA) == 2


async def test_musicbrainz_url_relations_by_type(double: ApiDouble) -> None:
    radiohead = artist_named(double, "Radiohead")
    assert radiohead.musicbrainz is not None
    async with MusicBrainzClient(
        double.urls.musicbrainz_api_url, CONTACT, gate=fast_gate(MUSICBRAINZ), retry=FAST_RETRY
    ) as client:
        relations = await client.url_relations(radiohead.musicbrainz["mbid"])
        with pytest.raises(NotFoundError, match="no artist"):
            await client.url_relations("00000000-0000-0000-0000-000000000000")
    assert relations == {
        "wikidata": f"https://www.wikidata.org/wiki/{wikidata_id(radiohead)}",
        "last.fm": "https://www.last.fm/music/Radiohead",
    }
