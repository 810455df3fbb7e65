"""Benchmark 6: the refresh of all four metric sources for 1,000 artists at their documented limits.

The application's `refresh_metrics` runs as the app runs it (`build_clients`' clients and gates, a real SQLite
file) against the API double in its own thread with every service's real limit switched on: Deezer 50 per 5 s,
MusicBrainz 1 per s (Wikipedia finds each article through the artist's url-rels on a first run), Wikidata and
Wikimedia 200 per minute, Last.fm 5 per s (the client keeps to 1 per s, as api-facts.md plans), ListenBrainz 30
per 10 s. Figures per source: requests sent, requests refused, and the time the source took against its bound
(its requests at its client's rate). Targets (issue 19): ListenBrainz <= 2 requests, Wikidata <= 20,
Deezer <= 1,000, 0 refused. A second run ("the next day", Last.fm left out: its cost does not change) shows what
later refreshes cost: MusicBrainz only for artists without a Wikidata link.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._common import Result, isolated_process, main_for, write_catalog

ARTISTS, QUICK_ARTISTS = 1000, 60
#: Each service's documented rate (requests per second), and the double's service name(s) each source spends.
RATES = {
    "deezer": 10.0,
    "musicbrainz": 1.0,
    "wikidata": 200 / 60,
    "wikimedia": 200 / 60,
    "lastfm": 1.0,
    "listenbrainz": 3.0,
}
SERVICES = {
    "deezer": ("deezer",),
    "wikipedia": ("musicbrainz", "wikidata", "wikimedia"),
    "lastfm": ("lastfm",),
    "listenbrainz": ("listenbrainz",),
}
TARGETS = {"listenbrainz": 2, "wikidata": 20, "deezer": 1000}


async def seed(database: Any, catalog: Any) -> None:
    """Every catalog artist as an import leaves it: Deezer and MusicBrainz ids."""
    from artist_desktop.domain import ArtistRecord, Platform, slugify
    from artist_desktop.store import repository

    async with database.session() as session:
        for artist in catalog.artists:
            artist_id = await repository.upsert_artist(
                session, ArtistRecord(name=artist.name, slug=slugify(artist.name))
            )
            if artist.deezer:
                await repository.upsert_platform_id(session, artist_id, Platform.DEEZER, str(artist.deezer["id"]))
            if artist.musicbrainz:
                mbid = artist.musicbrainz["mbid"]
                await repository.upsert_platform_id(session, artist_id, Platform.MUSICBRAINZ, mbid)
        await session.commit()


async def one_refresh(application: Any, double: Any, run_date: datetime, sources: Any = None) -> dict[str, Any]:
    """One refresh (of ``sources``, default all); per source: seconds to its last artist, requests and refusals."""
    from artist_desktop.domain import Platform

    double.reset_counters()
    finished: dict[Platform, float] = {}
    start = time.perf_counter()

    def progress(source: Platform, done: int, total: int, name: str) -> None:
        finished[source] = time.perf_counter() - start

    summary = await application.refresh_metrics(sources, progress, run_date=run_date)
    wall = time.perf_counter() - start
    figures: dict[str, Any] = {"wall_s": wall, "sources": {}}
    for run in summary.runs:
        services = SERVICES[run.source.value]
        figures["sources"][run.source.value] = {
            "status": run.status.value,
            "updated": run.updated,
            "failed": run.failed,
            "seconds": finished.get(run.source, 0.0),
            "requests": {service: double.request_count(service) for service in services},
            "refused": sum(double.rejections(service) for service in services),
        }
    return figures


async def refresh(base: Path, artists: int, result: Result) -> None:
    from artist_desktop.application import Application
    from artist_desktop.config import load_settings
    from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
    from artist_desktop.services import build_clients
    from artist_desktop.store import open_database

    catalog_path = write_catalog(base / "catalog.json", artists)
    double = ApiDouble(DoubleConfig(catalog_path=catalog_path))  # every documented limit on
    await asyncio.to_thread(double.start_in_thread)
    try:
        values = {**double.urls.as_settings(), "contact": "bench@example.org"}
        settings = load_settings(**values, data_dir=base / "data")
        database = await open_database(f"sqlite+aiosqlite:///{base / 'library.sqlite3'}")
        clients = build_clients(settings)

        class Parts:  # the pieces of a runtime `Application.refresh_metrics` uses
            def __init__(self) -> None:
                self.settings, self.database, self.clients = settings, database, clients

        try:
            await seed(database, double.catalog)
            today = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
            double.wikimedia.set_today(today.date())
            application = Application(Parts())  # type: ignore[arg-type]
            first = await one_refresh(application, double, today)
            double.wikimedia.set_today(today.date() + timedelta(days=1))
            # The next day: what a daily refresh costs once ids are stored (Last.fm's cost does not change: left out).
            from artist_desktop.domain import Platform

            daily = [Platform.DEEZER, Platform.WIKIPEDIA, Platform.LISTENBRAINZ]
            second = await one_refresh(application, double, today + timedelta(days=1), daily)
        finally:
            await clients.aclose()
            await database.dispose()
    finally:
        await asyncio.to_thread(double.stop_thread)

    for label, figures in (("first run", first), ("next day", second)):
        result.add(f"{label}: wall time", figures["wall_s"], "s")
        for source, row in figures["sources"].items():
            sent = sum(row["requests"].values())
            bound = max(count / RATES[service] for service, count in row["requests"].items())
            result.add(
                f"{label}: {source} ({row['status']}, {row['updated']} updated, {row['failed']} failed)",
                row["seconds"],
                f"s for {sent} requests {row['requests']}; bound {bound:.0f} s",
            )
            result.add(f"{label}: {source} refused", row["refused"], "", target="0", ok=row["refused"] == 0)
    requests = {
        "listenbrainz": first["sources"]["listenbrainz"]["requests"]["listenbrainz"],
        "wikidata": first["sources"]["wikipedia"]["requests"]["wikidata"],
        "deezer": first["sources"]["deezer"]["requests"]["deezer"],
    }
    for service, most in TARGETS.items():
        scaled = math.ceil(most * artists / ARTISTS)
        result.add(
            f"{service} requests (first run)",
            requests[service],
            "",
            target=f"<= {scaled}",
            ok=requests[service] <= scaled,
        )
    result.details = {"artists": artists, "first": first, "next_day": second}


def run(quick: bool) -> Result:
    """The refresh of all four sources for 1,000 artists (60 with --quick) at every service's documented limit."""
    artists = QUICK_ARTISTS if quick else ARTISTS
    result = Result("refresh_sources", f"6. Refresh of all sources ({artists} artists, documented limits)")
    with isolated_process() as base:
        asyncio.run(refresh(base, artists, result))
    return result


if __name__ == "__main__":
    sys.exit(main_for(run))
