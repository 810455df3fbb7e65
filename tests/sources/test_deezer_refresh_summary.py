"""The refresh's JSON shapes (DESIGN.md's public contract) and the cases decided before any request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from artist_desktop.services.deezer import DeezerClient
from artist_desktop.sources import (
    DatabaseUnavailableError,
    NothingToRefresh,
    RefreshResult,
    RefreshStatus,
    RefreshSummary,
    refresh_deezer_fans,
)
from artist_desktop.store import Database, repository

RUN_DATE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
# Nothing listens on port 9 of loopback: any request would fail loudly instead of reaching Deezer.
NOWHERE = "http://127.0.0.1:9"


def test_result_json_has_exactly_the_documented_keys() -> None:
    ok = RefreshResult(1, "Air", True, value=1200, previous_value=1000)
    bad = RefreshResult(2, "Muse", False, error="Not found on Deezer")
    assert ok.to_json("fans") == {"artist_id": 1, "name": "Air", "success": True, "fans": 1200}
    assert ok.to_json() == {"artist_id": 1, "name": "Air", "success": True, "value": 1200}
    assert bad.to_json() == {"artist_id": 2, "name": "Muse", "success": False, "error": "Not found on Deezer"}
    assert ok.change == 200 and bad.change is None


@pytest.mark.parametrize(("status", "success"), [(RefreshStatus.COMPLETE, True), (RefreshStatus.CANCELLED, False)])
def test_summary_json_success_means_the_run_completed(status: RefreshStatus, success: bool) -> None:
    results = [RefreshResult(1, "Air", True, value=5), RefreshResult(2, "Muse", False, error="boom")]
    summary = RefreshSummary(7, RUN_DATE, status, total=2, updated=1, failed=1, results=results)
    payload = json.loads(json.dumps(summary.to_json()))
    assert payload == {
        "source": "deezer",
        "status": status.value,
        "reason": None,
        "success": success,
        "total": 2,
        "updated": 1,
        "failed": 1,
        "not_found": 0,
        "unserved": 0,
        "results": [r.to_json("fans") for r in results],
    }
    assert summary.failed_artist_ids == {2}


async def test_no_artist_with_a_deezer_id_is_nothing_to_refresh(database: Database, add_artist: Any) -> None:
    await add_artist("No Id Yet")
    async with DeezerClient(NOWHERE) as deezer:
        with pytest.raises(NothingToRefresh, match="No artists with a Deezer id — use Find Deezer ids first"):
            await refresh_deezer_fans(database, deezer, run_date=RUN_DATE)
    async with database.session() as session:
        assert await repository.list_refresh_runs(session) == []


async def test_retry_of_ids_that_no_longer_have_a_deezer_id_is_nothing_to_refresh(
    database: Database, add_artist: Any
) -> None:
    await add_artist("Air", 1)
    async with DeezerClient(NOWHERE) as deezer:
        with pytest.raises(NothingToRefresh):
            await refresh_deezer_fans(database, deezer, run_date=RUN_DATE, only_artist_ids={999})


async def test_unreachable_database_is_a_clear_error() -> None:
    database = Database.from_url("postgresql://postgres@127.0.0.1:9/nowhere")
    try:
        async with DeezerClient(NOWHERE) as deezer:
            with pytest.raises(DatabaseUnavailableError, match="Cannot read the database"):
                await refresh_deezer_fans(database, deezer)
    finally:
        await database.dispose()
