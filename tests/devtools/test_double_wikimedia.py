"""The double's Wikidata and Wikimedia pageviews, and MusicBrainz's url-rels that lead to them: shapes, the
documented quirks (zero days left out, 404 without data, 50-id limit, missing items, 403 for a generic
User-Agent, data from 2015-07-01, day D from D+1), and 429 past the rate."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from double_helpers import UA

from artist_desktop.devtools._catalog import CatalogArtist, daily_pageviews, enwiki_title, wikidata_id
from artist_desktop.devtools.api_double import WIKIDATA, WIKIMEDIA, ApiDouble, DoubleConfig
from artist_desktop.devtools.double_wikimedia import PER_ARTICLE
from artist_desktop.devtools.generated_catalog import identity_catalog

TODAY = date(2026, 12, 1)


def named(double: ApiDouble, name: str) -> CatalogArtist:
    return next(a for a in double.catalog.artists if a.name == name)


async def entities(double: ApiDouble, ids: list[str], headers: dict[str, str] = UA) -> httpx.Response:
    params = {"action": "wbgetentities", "ids": "|".join(ids), "props": "sitelinks", "sitefilter": "enwiki"}
    async with httpx.AsyncClient() as http:
        return await http.get(
            f"{double.urls.wikidata_api_url}/w/api.php", params={**params, "format": "json"}, headers=headers
        )


async def daily(double: ApiDouble, title: str, start: str, end: str, headers: dict[str, str] = UA) -> httpx.Response:
    article = quote(title.replace(" ", "_"), safe="")
    url = f"{double.urls.wikimedia_api_url}{PER_ARTICLE}/{article}/daily/{start}/{end}"
    async with httpx.AsyncClient() as http:
        return await http.get(url, headers=headers)


def test_one_rule_decides_items_and_articles_for_the_bundled_catalog(api_double: ApiDouble) -> None:
    with_mbid = [a for a in api_double.catalog.artists if a.musicbrainz]
    items = [a for a in with_mbid if wikidata_id(a)]
    articles = [a for a in items if enwiki_title(a)]
    assert 0 < len(with_mbid) - len(items) <= 8  # a few MusicBrainz artists have no Wikidata link
    assert 0 < len(items) - len(articles) <= 4  # a few items have no English article
    assert wikidata_id(named(api_double, "Nadia Okafor")) is None  # not on MusicBrainz at all
    assert enwiki_title(named(api_double, "Nirvana")) == "Nirvana (band)"


async def test_musicbrainz_url_rels_carry_the_wikidata_item_and_last_fm(api_double: ApiDouble) -> None:
    radiohead, drake = named(api_double, "Radiohead"), named(api_double, "Drake")
    async with httpx.AsyncClient() as http:

        async def artist(a: CatalogArtist, inc: str | None) -> dict[str, Any]:
            assert a.musicbrainz is not None
            params = {"fmt": "json", **({"inc": inc} if inc else {})}
            url = f"{api_double.urls.musicbrainz_api_url}/artist/{a.musicbrainz['mbid']}"
            answer = await http.get(url, params=params, headers=UA)
            assert answer.status_code == 200
            body: dict[str, Any] = answer.json()
            return body

        relations = (await artist(radiohead, "url-rels"))["relations"]
        assert [(r["type"], r["target-type"], r["url"]["resource"]) for r in relations] == [
            ("wikidata", "url", f"https://www.wikidata.org/wiki/{wikidata_id(radiohead)}"),
            ("last.fm", "url", "https://www.last.fm/music/Radiohead"),
        ]
        assert all(r["url"]["id"] for r in relations)
        assert [r["type"] for r in (await artist(drake, "url-rels"))["relations"]] == ["last.fm"]
        assert "relations" not in await artist(radiohead, None)


async def test_wbgetentities_gives_titles_empty_sitelinks_and_missing_items(api_double: ApiDouble) -> None:
    radiohead, bjork = named(api_double, "Radiohead"), named(api_double, "Björk")
    known, no_article = wikidata_id(radiohead), wikidata_id(bjork)
    assert known and no_article and enwiki_title(bjork) is None
    answer = await entities(api_double, [known, no_article, "Q1"])
    assert answer.status_code == 200
    assert answer.json() == {
        "entities": {
            known: {
                "type": "item",
                "id": known,
                "sitelinks": {"enwiki": {"site": "enwiki", "title": "Radiohead", "badges": []}},
            },
            no_article: {"type": "item", "id": no_article, "sitelinks": {}},
            "Q1": {"id": "Q1", "missing": ""},
        },
        "success": 1,
    }
    assert api_double.request_count(WIKIDATA) == 1


async def test_wbgetentities_refuses_51_ids_and_ids_that_are_no_items_with_http_200(api_double: ApiDouble) -> None:
    too_many = await entities(api_double, [f"Q{n}" for n in range(1, 52)])
    assert too_many.status_code == 200 and too_many.json()["error"]["code"] == "toomanyvalues"
    fifty = await entities(api_double, [f"Q{n}" for n in range(1, 51)])
    assert len(fifty.json()["entities"]) == 50
    bad = await entities(api_double, ["Q1", "P31x"])
    assert bad.status_code == 200 and bad.json()["error"]["code"] == "no-such-entity"


async def test_pageviews_leave_out_days_without_views(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    small = named(api_double, "The Lumen Tides")  # a few views a day: some days have none
    first = TODAY - timedelta(days=90)
    answer = await daily(api_double, "The Lumen Tides", f"{first:%Y%m%d}", f"{TODAY - timedelta(days=1):%Y%m%d}")
    assert answer.status_code == 200
    items = answer.json()["items"]
    expected = {
        first + timedelta(days=n): daily_pageviews(small.followers, "The Lumen Tides", first + timedelta(days=n))
        for n in range(90)
    }
    assert 0 < sum(1 for views in expected.values() if views == 0) < 60
    assert {item["timestamp"]: item["views"] for item in items} == {
        f"{day:%Y%m%d}00": views for day, views in expected.items() if views > 0
    }
    assert items[0] == {
        "project": "en.wikipedia",
        "article": "The_Lumen_Tides",
        "granularity": "daily",
        "timestamp": items[0]["timestamp"],
        "access": "all-access",
        "agent": "user",
        "views": items[0]["views"],
    }


async def test_a_day_is_answered_from_the_next_one_and_data_starts_in_july_2015(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    week = await daily(api_double, "Radiohead", f"{TODAY - timedelta(days=3):%Y%m%d}", f"{TODAY:%Y%m%d}00")
    assert [item["timestamp"][:8] for item in week.json()["items"]] == [
        f"{TODAY - timedelta(days=n):%Y%m%d}" for n in (3, 2, 1)
    ]
    api_double.wikimedia.set_today(TODAY + timedelta(days=1))
    assert api_double.wikimedia.views("Radiohead", TODAY) > 0
    today = await daily(api_double, "Radiohead", f"{TODAY:%Y%m%d}", f"{TODAY:%Y%m%d}")
    assert [item["views"] for item in today.json()["items"]] == [api_double.wikimedia.views("Radiohead", TODAY)]
    span = await daily(api_double, "Radiohead", "20150601", "20150702")
    assert [item["timestamp"] for item in span.json()["items"]] == ["2015070100", "2015070200"]
    before = await daily(api_double, "Radiohead", "20150101", "20150630")
    assert before.status_code == 404 and before.json()["title"] == "Not found."


async def test_no_data_at_all_is_a_404_and_a_bad_range_a_400(api_double: ApiDouble) -> None:
    api_double.wikimedia.set_today(TODAY)
    for title in ("Velvet Static", "No Such Article"):  # an article nobody reads; an unknown one
        answer = await daily(api_double, title, "20261101", "20261130")
        assert answer.status_code == 404, title
        assert answer.json()["type"].endswith("/not_found")
    backwards = await daily(api_double, "Radiohead", "20261130", "20261101")
    assert backwards.status_code == 400
    garbled = await daily(api_double, "Radiohead", "2026-11-01", "20261130")
    assert garbled.status_code == 400


async def test_titles_with_underscores_parentheses_and_slashes() -> None:
    async with ApiDouble(DoubleConfig(musicbrainz_rate=None), catalog=identity_catalog()) as double:
        double.wikimedia.set_today(TODAY)
        band = await daily(double, "Nirvana (band)", "20261120", "20261121")
        assert [item["article"] for item in band.json()["items"]] == ["Nirvana_(band)"] * 2
        slash = await daily(double, "+/- (band)", "20261101", "20261130")
        assert slash.status_code == 200
        assert slash.json()["items"][0]["article"] == "+/-_(band)"


async def test_a_generic_or_anonymous_user_agent_gets_403_on_both_hosts(api_double: ApiDouble) -> None:
    for agent in ("python-httpx/0.28", "curl/8.5", "Mozilla", "ArtistDesktop/1.0 (  )"):
        headers = {"User-Agent": agent}
        assert (await entities(api_double, ["Q1"], headers)).status_code == 403, agent
        assert (await daily(api_double, "Radiohead", "20261101", "20261102", headers)).status_code == 403, agent
    assert api_double.last_user_agent(WIKIMEDIA) == "ArtistDesktop/1.0 (  )"


async def test_429_with_retry_after_past_the_rate(api_double: ApiDouble) -> None:
    api_double.set_rate_limit(WIKIMEDIA, (2, 60.0))
    api_double.set_rate_limit(WIKIDATA, (1, 60.0))
    statuses = [(await daily(api_double, "Radiohead", "20261101", "20261102")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = await daily(api_double, "Radiohead", "20261101", "20261102")
    assert refused.status_code == 429 and 50 <= int(refused.headers["Retry-After"]) <= 60
    assert (await entities(api_double, ["Q1"])).status_code == 200
    over = await entities(api_double, ["Q1"])
    assert over.status_code == 429 and over.json()["error"]["code"] == "ratelimited"
    assert api_double.rejections(WIKIMEDIA) == 2 and api_double.rejections(WIKIDATA) == 1
