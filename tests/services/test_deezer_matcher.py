"""Finding Deezer ids for library artists by name, sure matches only, against the API double over real sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.devtools import ApiDouble, DoubleConfig, Fault
from artist_desktop.domain import ArtistRecord, MetricType, Platform, utcnow
from artist_desktop.services.deezer import DeezerClient
from artist_desktop.services.deezer_matcher import (
    Confidence,
    Match,
    Unmatched,
    find_missing_deezer_ids,
    match_deezer_artist,
    undo_match,
)
from artist_desktop.services.http import RetryPolicy
from artist_desktop.store import Database, repository

DEEZER_ARTISTS = [
    {"id": 11, "name": "Nirvana", "nb_fan": 120},  # a small namesake
    {"id": 12, "name": "NIRVANA", "nb_fan": 8_000_000},  # the band everyone means
    {"id": 13, "name": "Nirvana Tribute Band", "nb_fan": 9_000_000},
    {"id": 21, "name": "Beyoncé", "nb_fan": 25_000_000},
    {"id": 31, "name": "Daft Punk Tribute", "nb_fan": 500},
    {"id": 41, "name": "Muse", "nb_fan": 4_000_000},
    {"id": 51, "name": "Air", "nb_fan": 900_000},
    {"id": 61, "name": "!!!", "nb_fan": 4_000},  # a name of symbols only, on Deezer as written
    {"id": 62, "name": "Chk Chk Chk", "nb_fan": 70},
]


@pytest.fixture
async def deezer(tmp_path: Path) -> AsyncIterator[tuple[ApiDouble, DeezerClient]]:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"artists": [], "deezer_only": DEEZER_ARTISTS}), encoding="utf-8")
    async with ApiDouble(DoubleConfig(catalog_path=catalog)) as double:
        retry = RetryPolicy(max_attempts=2, max_total=2.0, base_delay=0.01, max_delay=0.05)
        async with DeezerClient(double.urls.deezer_api_url, retry=retry) as client:
            yield double, client


@pytest.fixture
def add_artist(database: Database, add_library_artist: Callable[..., Awaitable[int]]) -> Callable[..., Awaitable[int]]:
    """``await add_artist(name, deezer_id=None)``: an artist in the library; returns its id."""

    async def add(name: str, deezer_id: str | int | None = None) -> int:
        return await add_library_artist(database, name, deezer_id)

    return add


async def deezer_ids(database: Database) -> dict[str, str]:
    async with database.session() as session:
        return {a.name: a.platform_id for a in await repository.artists_with_platform_id(session, "deezer")}


async def test_a_name_search_gives_an_id_only_when_sure(deezer: tuple[ApiDouble, DeezerClient]) -> None:
    _, client = deezer
    namesakes = await match_deezer_artist(client, "nirvana")  # two "Nirvana"s: which one is a guess
    assert namesakes.artist is None and namesakes.warning == "2 Deezer artists named nirvana: set one by hand"
    famous = await match_deezer_artist(client, "nirvana", followers=9_000_000)  # the tie-breaker settles it
    assert famous.confidence is Confidence.DOMINANT and famous.artist is not None
    assert (famous.artist.id, famous.artist.nb_fan) == (12, 8_000_000)
    tribute = await match_deezer_artist(client, "Daft Punk")  # only a tribute band: no guess
    assert tribute.artist is None and tribute.warning == "no Deezer match for Daft Punk"
    symbols = await match_deezer_artist(client, "!!!")
    assert symbols.confidence is Confidence.UNIQUE and symbols.artist is not None and symbols.artist.id == 61


async def set_followers(database: Database, artist_id: int, followers: int) -> None:
    async with database.session() as session, session.begin():
        await repository.upsert_metric(session, artist_id, Platform.SPOTIFY, MetricType.FOLLOWERS, followers, utcnow())


async def test_missing_ids_are_matched_stored_and_reported(
    database: Database, deezer: tuple[ApiDouble, DeezerClient], add_artist: Any
) -> None:
    double, client = deezer
    nirvana = await add_artist("Nirvana")
    beyonce = await add_artist("Beyonce")  # no accent in the library, one on Deezer
    daft = await add_artist("Daft Punk")
    await add_artist("Muse", 41)  # already has its id: not searched again
    air = await add_artist("Air")
    bangs = await add_artist("!!!")
    async with database.session() as session, session.begin():  # its slug would be "artist", as "!!!"'s is
        plus_minus = await repository.upsert_artist(session, ArtistRecord(name="+/-", slug="plus-minus"))
    double.reset_counters()
    steps: list[tuple[int, int, str]] = []

    report = await find_missing_deezer_ids(database, client, progress=lambda *step: steps.append(step))

    assert report == [
        Match(bangs, "!!!", "61", "!!!", 4_000),
        Match(air, "Air", "51", "Air", 900_000),
        Match(beyonce, "Beyonce", "21", "Beyoncé", 25_000_000),
    ]
    assert report.unmatched == [  # the artists' order: by name
        Unmatched(plus_minus, "+/-", "no Deezer match for +/-"),
        Unmatched(daft, "Daft Punk", "no Deezer match for Daft Punk"),
        Unmatched(nirvana, "Nirvana", "2 Deezer artists named Nirvana: set one by hand"),
    ]
    assert await deezer_ids(database) == {"!!!": "61", "Air": "51", "Beyonce": "21", "Muse": "41"}
    assert double.request_count("deezer") == 6  # Muse was not searched
    assert sorted(done for done, _, _ in steps) == [1, 2, 3, 4, 5, 6] and {t for _, t, _ in steps} == {6}

    await set_followers(database, nirvana, 9_500_000)  # an import stored Spotify's count: the tie-breaker has it
    again = await find_missing_deezer_ids(database, client)
    assert again == [Match(nirvana, "Nirvana", "12", "NIRVANA", 8_000_000)]
    assert [miss.name for miss in again.unmatched] == ["+/-", "Daft Punk"]


async def test_a_small_namesake_is_left_for_a_person_to_set(
    database: Database, deezer: tuple[ApiDouble, DeezerClient], add_artist: Any
) -> None:
    _, client = deezer
    small = await add_artist("Nirvana")
    await set_followers(database, small, 9_140)  # 8 M Deezer fans are not this band's
    report = await find_missing_deezer_ids(database, client)
    assert report == [] and report.unmatched == [
        Unmatched(small, "Nirvana", "2 Deezer artists named Nirvana: set one by hand")
    ]
    assert await deezer_ids(database) == {}


async def test_a_failed_search_or_a_taken_id_leaves_the_artist_unmatched(
    database: Database, deezer: tuple[ApiDouble, DeezerClient], add_artist: Any
) -> None:
    double, client = deezer
    await add_artist("Old Muse Entry", 41)  # another artist already holds Muse's Deezer id
    muse = await add_artist("Muse")
    air = await add_artist("Air")
    double.inject("deezer", "*", Fault.http(503), times=None)
    failed = await find_missing_deezer_ids(database, client)
    assert failed == [] and [(m.artist_id, m.reason.split(":")[0]) for m in failed.unmatched] == [
        (air, "Deezer search failed"),
        (muse, "Deezer search failed"),
    ]
    double.clear_faults()
    report = await find_missing_deezer_ids(database, client)
    assert [(m.name, m.deezer_id) for m in report] == [("Air", "51")]
    assert report.unmatched == [
        Unmatched(muse, "Muse", "Deezer id 41 already belongs to Old Muse Entry in the library")
    ]
    assert await deezer_ids(database) == {"Old Muse Entry": "41", "Air": "51"}


async def test_undo_forgets_the_match(
    database: Database, deezer: tuple[ApiDouble, DeezerClient], add_artist: Any
) -> None:
    _, client = deezer
    air = await add_artist("Air")
    await find_missing_deezer_ids(database, client)
    assert await deezer_ids(database) == {"Air": "51"}
    assert await undo_match(database, air) is True
    assert await deezer_ids(database) == {}
    assert await undo_match(database, air) is False
    async with database.session() as session:
        assert await repository.artists_without_platform_id(session, Platform.DEEZER) == [(air, "Air")]
