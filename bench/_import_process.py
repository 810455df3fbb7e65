"""One importing process of the batch-import benchmark: a `Runtime` started as `artist-desktop import` starts it.

``python -m bench._import_process REQUESTS.json``: the settings come from the environment as for the command
(the API double's URLs, the Redis and key prefix every process shares, the data directory), so the rate gates
are the product's, shared through Redis with any other process on the same prefix. The file holds the artists
to import as the window queues them when picked in search (``ImportRequest`` fields: id, name and Spotify's
artist object). Line protocol on stdout: "ready" once the runtime started (migrations done), then, after "go"
on stdin, one JSON line: the seconds from "go" to the end of ``run_until_idle`` and each artist's outcome.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any


async def import_requests(queued: list[dict[str, Any]]) -> dict[str, Any]:
    from artist_desktop.config import load_settings
    from artist_desktop.domain import ImportRequest
    from artist_desktop.runtime import Runtime

    requests = [ImportRequest(**item) for item in queued]
    ids = [request.spotify_id for request in requests]
    async with Runtime(load_settings()) as runtime:
        print("ready", flush=True)
        if (await asyncio.to_thread(sys.stdin.readline)).strip() != "go":
            raise RuntimeError("expected 'go' on stdin")
        start = time.perf_counter()
        await runtime.runner.enqueue(requests)
        # A window, `serve` or another `import` on the same database may run some of these: wait for them too.
        await runtime.runner.run_until_idle(wait_for=ids)
        wall = time.perf_counter() - start
        outcomes = await runtime.runner.outcomes(ids)
    statuses = Counter(outcome.status.value for outcome in outcomes)
    errors = [f"{outcome.spotify_id}: {outcome.error}" for outcome in outcomes if outcome.error][:5]
    return {"wall_s": wall, "artists": len(ids), "statuses": dict(statuses), "errors": errors}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="import process %(process)d: %(levelname)s %(message)s")
    queued = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    report = asyncio.run(import_requests(queued))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
