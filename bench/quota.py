"""Benchmark 3: quota-bound throughput, the Deezer refresh of 500 artists against the double's 50 requests / 5 s.

`refresh_deezer_fans` runs as the app runs it (the client `build_clients` makes, its shared rate gate,
a real SQLite file) against the API double in its own thread. Figures: wall time over the quota's
bound (500 artists / 10 per s = 50 s; target <= 1.05) and the requests the double refused (target 0).
For comparison, a naive "all at once" run (a plain httpx gather of 500 GETs) against a fresh double.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench._common import Result, isolated_process, main_for, write_catalog

ARTISTS, QUICK_ARTISTS = 500, 100
QUOTA = (50, 5.0)
MAX_RATIO = 1.05


async def seed(database: Any, catalog: Any) -> None:
    """Every catalog artist in the library with its Deezer id (what "Find Deezer ids" leaves behind)."""
    from artist_desktop.domain import ArtistRecord, Platform, slugify
    from artist_desktop.store import repository

    async with database.session() as session:
        for artist in catalog.artists:
            artist_id = await repository.upsert_artist(
                session, ArtistRecord(name=artist.name, slug=slugify(artist.name))
            )
            assert artist.deezer is not None
            await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, str(artist.deezer["id"]))
        await session.commit()


async def refresh(base: Path, artists: int, result: Result) -> None:
    from artist_desktop.config import load_settings
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
    from artist_desktop.services import build_clients
    from artist_desktop.sources.deezer_refresh import refresh_deezer_fans
    from artist_desktop.store import open_database

    catalog_path = write_catalog(base / "catalog.json", artists)
    double = ApiDouble(DoubleConfig(catalog_path=catalog_path, deezer_quota=QUOTA))
    await asyncio.to_thread(double.start_in_thread)
    try:
        settings = load_settings(**double.urls.as_settings(), data_dir=base / "data")
        database = await open_database(f"sqlite+aiosqlite:///{base / 'library.sqlite3'}")
        clients = build_clients(settings)
        try:
            await seed(database, double.catalog)
            double.reset_counters()
            start = time.perf_counter()
            summary = await refresh_deezer_fans(database, clients.deezer)
            wall = time.perf_counter() - start
        finally:
            await clients.aclose()
            await database.dispose()
        refused = double.rejections("deezer")
        requests = double.request_count("deezer")
    finally:
        await asyncio.to_thread(double.stop_thread)

    limit, period = QUOTA
    bound = artists / (limit / period)
    ratio = wall / bound
    result.add("artists refreshed", summary.updated, f"of {artists}", ok=summary.updated == artists)
    result.add("wall time", wall, "s")
    result.add(
        f"wall / ({artists} / {limit / period:g} per s)", ratio, "", target=f"<= {MAX_RATIO}", ok=ratio <= MAX_RATIO
    )
    result.add("quota errors (refresh)", refused, "", target="0", ok=refused == 0)
    result.add("Deezer requests sent", requests)
    result.details["refresh"] = {
        "artists": artists,
        "wall_s": wall,
        "bound_s": bound,
        "ratio": ratio,
        "refused": refused,
        "requests": requests,
        "failed": summary.failed,
    }
    # What the quota itself allows: the first `limit` at once, then `limit` per `period`.
    floor = max(0, -(-artists // limit) - 1) * period
    result.notes.append(
        f"a sliding window of {limit} per {period:g} s lets {artists} requests through in {floor:g} s at best "
        f"(ratio {floor / bound:.2f}); the issue's bound is {bound:g} s."
    )


async def naive(base: Path, artists: int, result: Result) -> None:
    """The "all at once" style: every GET in one gather, no gate; the double counts what it refused."""
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig

    double = ApiDouble(DoubleConfig(catalog_path=base / "catalog.json", deezer_quota=QUOTA))
    await asyncio.to_thread(double.start_in_thread)
    try:
        url = double.urls.deezer_api_url
        ids = [artist.deezer["id"] for artist in double.catalog.artists if artist.deezer]
        start = time.perf_counter()
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=None), timeout=60) as client:
            answers = await asyncio.gather(*(client.get(f"{url}/artist/{deezer_id}") for deezer_id in ids))
        wall = time.perf_counter() - start
        quota_errors = sum(1 for answer in answers if (answer.json().get("error") or {}).get("code") == 4)
        refused = double.rejections("deezer")
    finally:
        await asyncio.to_thread(double.stop_thread)
    result.add("naive gather: quota errors", quota_errors, f"of {len(ids)}", target="(comparison)")
    result.add("naive gather: wall time", wall, "s")
    result.details["naive"] = {"requests": len(ids), "quota_errors": quota_errors, "refused": refused, "wall_s": wall}


def run(quick: bool) -> Result:
    """Quota-bound throughput: the Deezer refresh against 50 requests / 5 s, and a naive gather for comparison."""
    artists = QUICK_ARTISTS if quick else ARTISTS
    result = Result("quota", f"3. Quota-bound throughput (Deezer refresh of {artists} artists, 50 req / 5 s)")
    with isolated_process() as base:

        async def main() -> None:
            await refresh(base, artists, result)
            await naive(base, artists, result)

        asyncio.run(main())
    return result


if __name__ == "__main__":
    sys.exit(main_for(run))
