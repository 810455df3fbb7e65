"""An SSE consumer in its own process: follows a progress stream and times each update of one benchmark run.

``python -m bench._sse_client URL --run R --expect N --timeout S`` prints "ready" once the stream is
open, then one JSON line: ``{"latencies_ms": [...], "received", "errors"}``. Latency is this process's
``time.time()`` at receipt minus the ``t`` the publisher stamped in the update's payload.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import httpx
from httpx_sse import aconnect_sse


async def follow(url: str, run: int, expect: int, within: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []

    async def read() -> None:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=None)) as client,
            aconnect_sse(client, "GET", url) as source,
        ):
            source.response.raise_for_status()
            print("ready", flush=True)
            async for event in source.aiter_sse():
                now = time.time()
                if event.event == "error":
                    errors.append(event.data)
                    return
                payload = json.loads(event.data).get("payload") or {}
                if payload.get("run") != run:
                    continue  # snapshots of earlier runs
                latencies.append((now - float(payload["t"])) * 1000)
                if len(latencies) >= expect:
                    return

    try:
        await asyncio.wait_for(read(), within)
    except TimeoutError:
        errors.append(f"timed out after {within:g} s with {len(latencies)} of {expect} updates")
    return {"latencies_ms": latencies, "received": len(latencies), "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--run", type=int, required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(follow(args.url, args.run, args.expect, args.timeout))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
