"""A progress publisher in its own process: paced updates over N artists, each stamped with its send time.

``python -m bench._publisher REDIS_URL PREFIX --run R --artists N --rate PER_S --count TOTAL``
prints "ready" once connected, waits for a line on stdin ("go"), publishes, then prints one JSON line:
``{"sent", "seconds", "late_ms_max"}``. ``--rate 0`` publishes as fast as it can (filling a view).
Every update's payload is ``{"run": R, "t": time.time() at publish}``: the receiver's latency is
its own ``time.time()`` minus ``t`` (one machine, one clock).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.domain import STAGE_RANGES, ProgressUpdate, Stage
from bench._common import base62_id

_WORKING = [stage for stage in STAGE_RANGES if stage is not Stage.COMPLETE]


def artist_id(run: int, index: int) -> str:
    """The Spotify id of artist ``index`` in benchmark run ``run`` (each run has its own artists)."""
    return base62_id(f"Bench{run:02d}x", index)


def stage_for(progress: int) -> Stage:
    for stage in _WORKING:
        _low, high = STAGE_RANGES[stage]
        if progress < high:
            return stage
    return Stage.STORE


def update_for(run: int, n: int, artists: int, total: int, complete: bool) -> ProgressUpdate:
    """The n-th update of the run: artists in turn, each moving forward (COMPLETE last when asked)."""
    index = n % artists
    step, steps = n // artists, max(1, -(-total // artists))
    spotify_id = artist_id(run, index)
    payload = {"run": run, "t": 0.0}
    if complete and step == steps - 1:
        return ProgressUpdate(spotify_id, Stage.COMPLETE, 100, "Imported", payload=payload)
    progress = min(95, round(95 * (step + 1) / steps))
    stage = stage_for(progress)
    return ProgressUpdate(spotify_id, stage, progress, f"Benchmark step {step + 1}", payload=payload)


async def publish(args: argparse.Namespace) -> dict[str, float]:
    client = connect_redis(args.redis_url, client_name="bench-publisher")
    bus = ProgressBus(client, args.prefix)
    try:
        await client.ping()  # type: ignore[misc]
        # Loads the publish script into Redis under a prefix nobody follows, so the first timed update is typical.
        await ProgressBus(client, args.prefix + "warm-up:").publish(ProgressUpdate(artist_id(99, 0), Stage.INIT, 0))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        updates = [update_for(args.run, n, args.artists, args.count, args.complete) for n in range(args.count)]
        loop = asyncio.get_running_loop()
        start = loop.time()
        late = 0.0
        for n, update in enumerate(updates):
            if args.rate > 0:
                due = start + n / args.rate
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                else:
                    late = max(late, -wait)
            assert update.payload is not None
            update.payload["t"] = time.time()
            await bus.publish(update)
        return {"sent": len(updates), "seconds": loop.time() - start, "late_ms_max": late * 1000}
    finally:
        await client.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("redis_url")
    parser.add_argument("prefix")
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--artists", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="updates per second (0: as fast as possible)")
    parser.add_argument("--count", type=int, required=True, help="updates to publish in all")
    parser.add_argument("--complete", action="store_true", help="each artist's last update is COMPLETE")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(publish(args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
