"""Benchmark 4: batch import, 200 artists through every stage with 50 ms of simulated API latency.

The app's services (`Runtime`: private Redis, SQLite file, media cache, the batch runner at the
default concurrency) import a generated catalog from the API double (own thread, ``latency=0.05``,
its default quotas). Figures: artists per second against the bound the double's quotas set (each
quota's requests per second over the requests one artist needs of that service), and the time to
the first COMPLETE. MusicBrainz's gate is raised to 20/s as in demo mode (the double does not enforce
MusicBrainz's 1/s unless asked; at 1/s and 2 requests per artist it alone would bound a batch at 0.5/s).
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import Result, bench_prefix, isolated_process, main_for, write_catalog

ARTISTS, QUICK_ARTISTS = 200, 40
LATENCY = 0.05


async def import_batch(base: Path, artists: int, result: Result) -> None:
    from artist_desktop.config import load_settings
    from artist_desktop.devtools.api_double import DEEZER, MUSICBRAINZ, SPOTIFY, ApiDouble, DoubleConfig
    from artist_desktop.domain import Stage
    from artist_desktop.runtime import Runtime
    from artist_desktop.services import DEMO_MUSICBRAINZ_QUOTA, MusicBrainzClient, RateGate, build_clients

    config = DoubleConfig(catalog_path=write_catalog(base / "catalog.json", artists), latency=LATENCY)
    double = ApiDouble(config)
    await asyncio.to_thread(double.start_in_thread)
    try:
        settings = load_settings(**double.urls.as_settings(), redis_prefix=bench_prefix(), data_dir=base / "data")
        clients = build_clients(settings)
        clients.musicbrainz = MusicBrainzClient(
            settings.musicbrainz_api_url,
            settings.musicbrainz_contact,
            gate=RateGate("MusicBrainz", *DEMO_MUSICBRAINZ_QUOTA),
        )
        async with Runtime(settings, clients=clients) as services:
            items = [(artist.spotify_id, artist.name) for artist in double.catalog.artists]
            finals: dict[str, Stage] = {}
            first_complete: list[float] = []
            last_final: list[float] = []

            async def follow() -> None:
                async with services.bus.subscribe() as subscription:
                    await subscription.wait_connected()
                    ready.set()
                    async for update in subscription:
                        if update.stage.is_final and update.spotify_id not in finals:
                            finals[update.spotify_id] = update.stage
                            now = time.perf_counter()
                            last_final[:] = [now]
                            if update.stage is Stage.COMPLETE and not first_complete:
                                first_complete.append(now)

            ready = asyncio.Event()
            watcher = asyncio.create_task(follow())
            await asyncio.wait_for(ready.wait(), 10)
            double.reset_counters()
            start = time.perf_counter()
            await services.runner.enqueue(items)
            await services.runner.run_until_idle()
            wall = time.perf_counter() - start
            await asyncio.sleep(0.2)  # the last COMPLETE reaches the watcher
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
            concurrency = services.runner.concurrency
        requests = {service: double.request_count(service) for service in (SPOTIFY, DEEZER, MUSICBRAINZ)}
        refused = {service: double.rejections(service) for service in (SPOTIFY, DEEZER, MUSICBRAINZ)}
    finally:
        await asyncio.to_thread(double.stop_thread)

    completed = sum(1 for stage in finals.values() if stage is Stage.COMPLETE)
    rate = completed / wall if wall else 0.0
    bounds: dict[str, float] = {}
    for service, quota in ((SPOTIFY, config.spotify_rate), (DEEZER, config.deezer_quota)):
        per_artist = requests[service] / artists
        if quota is not None and per_artist:
            bounds[service] = (quota[0] / quota[1]) / per_artist
    binding = min(bounds, key=lambda service: bounds[service])
    result.add("artists completed", completed, f"of {artists}", ok=completed == artists)
    result.add("wall time", wall, "s")
    result.add("throughput", rate, "artists/s")
    result.add(f"bound ({binding} quota)", bounds[binding], "artists/s")
    result.add("throughput / bound", rate / bounds[binding], "", target="(1.0 = at the quota)")
    result.add("time to first COMPLETE", (first_complete[0] - start) if first_complete else float("nan"), "s")
    result.add("quota errors", sum(refused.values()), "", target="0", ok=sum(refused.values()) == 0)
    for service, count in requests.items():
        result.notes.append(f"{service}: {count / artists:.2f} requests per artist ({count} in all)")
    result.notes.append(
        f"runner concurrency {concurrency} (the default); every request to the double takes {LATENCY * 1000:g} ms; "
        f"the Deezer gate admits {_gate_rate():.2f} requests/s against the double's 10/s."
    )
    result.details.update(requests=requests, refused=refused, bounds=bounds, concurrency=concurrency, wall_s=wall)


def _gate_rate() -> float:
    from artist_desktop.services import RateGate
    from artist_desktop.services.deezer import DEEZER_QUOTA

    gate: Any = RateGate("Deezer", *DEEZER_QUOTA)
    return float(gate.rate)


def run(quick: bool) -> Result:
    """Batch import: artists per second through every stage against the quota bound; time to first COMPLETE."""
    artists = QUICK_ARTISTS if quick else ARTISTS
    result = Result("batch_import", f"4. Batch import ({artists} artists, {LATENCY * 1000:g} ms API latency)")
    with isolated_process() as base:
        asyncio.run(import_batch(base, artists, result))
    return result


if __name__ == "__main__":
    sys.exit(main_for(run))
