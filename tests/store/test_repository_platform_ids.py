"""A platform id recorded for another artist between upsert_platform_id's check and its write: a PlatformIdConflict,
and the caller's transaction goes on (the write ran in a savepoint), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from artist_desktop.domain import ArtistRecord
from artist_desktop.store import ArtistPlatformId, Database, PlatformIdConflict, repository


async def test_an_id_recorded_meanwhile_is_a_conflict_and_the_transaction_goes_on(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find = repository.find_artist_id_by_platform
    checks: list[str] = []

    async def stale_find(session: AsyncSession, platform: str, platform_id: str) -> int | None:
        checks.append(platform_id)
        if len(checks) == 1:  # the check saw no owner; the id is recorded for Adele right after it
            await session.execute(
                insert(ArtistPlatformId).values(artist_id=adele, platform=platform, platform_id=platform_id)
            )
            return None
        return await real_find(session, platform, platform_id)

    async with database.session() as session, session.begin():
        adele = await repository.upsert_artist(session, ArtistRecord(name="Adele", slug="adele"))
        drake = await repository.upsert_artist(session, ArtistRecord(name="Drake", slug="drake"))
        monkeypatch.setattr(repository, "find_artist_id_by_platform", stale_find)
        with pytest.raises(PlatformIdConflict) as conflict:
            await repository.upsert_platform_id(session, drake, "deezer", "75798")
        monkeypatch.undo()
        assert (conflict.value.owner_id, conflict.value.artist_id) == (adele, drake)
        await repository.upsert_platform_id(session, drake, "musicbrainz", "b49b81cc-d5b7-4bdd-aadb-385df8de69a6")
    assert checks == ["75798", "75798"]
    async with database.session() as session:
        rows = await session.execute(select(ArtistPlatformId.artist_id, ArtistPlatformId.platform_id))
        assert sorted(rows.tuples().all()) == sorted(
            [(adele, "75798"), (drake, "b49b81cc-d5b7-4bdd-aadb-385df8de69a6")]
        )
