"""Finding Deezer ids for library artists by name, against the API double over real sockets."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.devtools import ApiDouble, DoubleConfig, Fault
from artist_desktop.domain import Platform
from artist_desktop.services.deezer import DeezerClient
from artist_desktop.services.deezer_matcher import Match, find_deezer_id, find_missing_deezer_ids, undo_match
from artist_desktop.services.http import RetryPolicy
from artist_desktop.store import Database, open_database, repository

DEEZER_ARTISTS = [
    {"id": 11, "name": "Nirvana", "nb_fan": 120},  # a small namesake
    {"id": 12, "name": "NIRVANA", "nb_fan": 8_000_000},  # the band everyone means
    {"id": 13, "name": "Nirvana Tribute Band", "nb_fan": 9_000_000},
    {"id": 21, "name": "Beyoncé", "nb_fan": 25_000_000},
    {"id": 31, "name": "Daft Punk Tribute", "nb_fan": 500},
    {"id": 41, "name": "Muse", "nb_fan": 4_000_000},
    {"id": 51, "name": "Air", "nb_fan": 900_000},
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
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = await open_database(f"sqlite+aiosqlite:///{tmp_path / 'matcher.sqlite3'}")
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
def add_artist(database: Database, add_library_artist: Callable[..., Awaitable[int]]) -> Callable[..., Awaitable[int]]:
    """``await add_artist(name, deezer_id=None)``: an artist in the library; returns its id."""

    async def add(name: str, deezer_id: str | int | None = None) -> int:
        return await add_library_artist(database, name, deezer_id)

    return add


async def deezer_ids(database: Database) -> dict[str, str]:
    async with database.session() as session:
        return {a.name: a.platform_id for a in await repository.artists_with_platform_id(session, "deezer")}


async def test_find_deezer_id_takes_the_exact_name_with_most_fans(
    deezer: tuple[ApiDouble, DeezerClient],
) -> None:
    _, client = deezer
    found = await find_deezer_id(client, "nirvana")
    assert found is not None and (found.id, found.nb_fan) == (12, 8_000_000)
    assert await find_deezer_id(client, "Daft Punk") is None  # only a tribute band: no guess


async def test_missing_ids_are_matched_stored_and_reported(
    database: Database, deezer: tuple[ApiDouble, DeezerClient], add_artist: Any
) -> None:
    double, client = deezer
    nirvana = await add_artist("Nirvana")
    beyonce = await add_artist("Beyonce")  # no accent in the library, one on Deezer
    await add_artist("Daft Punk")
    await add_artist("Muse", 41)  # already has its id: not searched again
    air = await add_artist("Air")
    double.reset_counters()
    steps: list[tuple[int, int, str]] = []

    matches = await find_missing_deezer_ids(database, client, progress=lambda *step: steps.append(step))

    assert matches == [
        Match(air, "Air", "51", "Air", 900_000),
        Match(beyonce, "Beyonce", "21", "Beyoncé", 25_000_000),
        Match(nirvana, "Nirvana", "12", "NIRVANA", 8_000_000),
    ]
    assert await deezer_ids(database) == {"Air": "51", "Beyonce": "21", "Muse": "41", "Nirvana": "12"}
    assert double.request_count("deezer") == 4  # Muse was not searched
    assert sorted(done for done, _, _ in steps) == [1, 2, 3, 4] and {t for _, t, _ in steps} == {4}


async def test_a_failed_search_or_a_taken_id_leaves_the_artist_unmatched(
    database: Database, deezer: tuple[ApiDouble, DeezerClient], add_artist: Any
) -> None:
    double, client = deezer
    await add_artist("Old Nirvana Entry", 12)  # another artist already holds Nirvana's Deezer id
    await add_artist("Nirvana")
    await add_artist("Muse")
    double.inject("deezer", "*", Fault.http(503), times=None)
    assert await find_missing_deezer_ids(database, client) == []
    double.clear_faults()
    matches = await find_missing_deezer_ids(database, client)
    assert [(m.name, m.deezer_id) for m in matches] == [("Muse", "41")]
    assert await deezer_ids(database) == {"Old Nirvana Entry": "12", "Muse": "41"}


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
