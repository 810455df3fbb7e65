"""Benchmark 1: progress latency, publish -> the window's progress model and publish -> an SSE client.

The real window (offscreen) follows the bus through its own subscription and serves the SSE endpoint;
a publisher process sends updates over 200 artists at 100 and 1,000 updates/s, and an httpx-sse
client process follows ``/api/artists/progress``. Each update carries its send time; each receiver
takes its own ``time.time()`` (one machine, one clock). Targets (issue 8): model p99 < 20 ms,
SSE p99 < 30 ms at 1,000 updates/s (held here at both rates).
"""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import (
    Desktop,
    Result,
    finish,
    followers,
    go,
    isolated_env,
    isolated_process,
    kill,
    latency_summary,
    main_for,
    open_desktop,
    read_line,
    run_qt,
    spawn,
    wait_for,
)

ARTISTS = 200
#: (updates per second, seconds) for the full and the quick run.
RUNS = ((100, 10.0), (1000, 6.0))
QUICK_RUNS = ((100, 3.0), (1000, 3.0))
MODEL_P99_MS = 20.0
SSE_P99_MS = 30.0


class ModelProbe:
    """Times the updates of the current run as the window's model takes them, and as the view hears of them.

    ``applied``: publish -> `ProgressModel.apply` returned (the model holds the update).
    ``shown``: publish -> the repaint tick that announced it to the view (coalesced at ~30 Hz by design).
    """

    def __init__(self, model: Any) -> None:
        self.run: int | None = None
        self.applied: list[float] = []
        self.shown: list[float] = []
        self._pending: list[float] = []
        original = model.apply

        def apply(update: Any) -> None:
            original(update)
            now = time.time()
            payload = update.payload or {}
            if self.run is not None and payload.get("run") == self.run:
                sent = float(payload["t"])
                self.applied.append((now - sent) * 1000)
                self._pending.append(sent)

        model.apply = apply  # the subscription calls `window.progress_model.apply(update)`
        model.totals_changed.connect(self._tick)  # emitted at the end of every repaint tick with news

    def _tick(self, *_totals: int) -> None:
        if self._pending:
            now = time.time()
            self.shown.extend((now - sent) * 1000 for sent in self._pending)
            self._pending.clear()

    def start(self, run: int) -> None:
        self.run = run
        self.applied, self.shown, self._pending = [], [], []


async def measure(desktop: Desktop, base: Path, quick: bool, result: Result) -> None:
    probe = ModelProbe(desktop.window.progress_model)
    sse = desktop.services.sse
    assert sse is not None
    stream_url = f"{sse.url}/api/artists/progress"
    env = isolated_env(base / "children")
    for run, (rate, seconds) in enumerate(QUICK_RUNS if quick else RUNS, start=1):
        count = int(rate * seconds)
        client = spawn(
            "bench._sse_client", stream_url, "--run", str(run), "--expect", str(count), "--timeout", str(seconds + 40)
        )
        publisher = spawn(
            "bench._publisher",
            desktop.redis_url,
            desktop.prefix,
            "--run",
            str(run),
            "--artists",
            str(ARTISTS),
            "--rate",
            str(rate),
            "--count",
            str(count),
            "--complete",
            env=env,
        )
        try:
            await read_line(client, 20)
            await read_line(publisher, 20)
            # The window's subscription and the SSE hub's both follow the bus before the first update.
            await wait_for_async(lambda: followers(desktop.redis_url), 2, 10)
            probe.start(run)
            go(publisher)
            sent = await finish(publisher, seconds + 30)
            await wait_for(functools.partial(_reached, probe.applied, count), 15, "the model to take every update")
            await wait_for(functools.partial(_reached, probe.shown, count), 5, "the view to hear of every update")
            received = await finish(client, 30)
        finally:
            kill(publisher)
            kill(client)
        model = latency_summary(probe.applied)
        shown = latency_summary(probe.shown)
        stream = latency_summary(received["latencies_ms"])
        label = f"{rate:,}/s"
        result.add(f"model p50 @ {label}", model["p50"], "ms")
        result.add(
            f"model p99 @ {label}", model["p99"], "ms", target=f"< {MODEL_P99_MS:g}", ok=model["p99"] < MODEL_P99_MS
        )
        result.add(f"model max @ {label}", model["max"], "ms")
        result.add(f"SSE p50 @ {label}", stream["p50"], "ms")
        result.add(f"SSE p99 @ {label}", stream["p99"], "ms", target=f"< {SSE_P99_MS:g}", ok=stream["p99"] < SSE_P99_MS)
        result.add(f"SSE max @ {label}", stream["max"], "ms")
        result.add(
            f"SSE updates received @ {label}", received["received"], f"of {count}", ok=received["received"] == count
        )
        result.add(f"view notified p99 @ {label}", shown["p99"], "ms", target="(repaint tick, ~33 ms)")
        if received["errors"]:
            result.notes.append(f"SSE client at {label}: {'; '.join(received['errors'])}")
        if sent["late_ms_max"] > 5:
            result.notes.append(f"the publisher fell up to {sent['late_ms_max']:.0f} ms behind its schedule at {label}")
        result.details[label] = {
            "updates": count,
            "seconds": seconds,
            "model_ms": model,
            "view_notified_ms": shown,
            "sse_ms": stream,
            "publisher": sent,
        }


def _reached(samples: list[float], count: int) -> bool:
    return len(samples) >= count


async def wait_for_async(probe: Any, wanted: int, within: float) -> None:
    """Poll an async count until it reaches ``wanted``."""
    deadline = time.perf_counter() + within
    while await probe() < wanted:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {await probe()} of {wanted} subscribers after {within:g} s")
        await asyncio.sleep(0.05)


def run(quick: bool) -> Result:
    """Progress latency: publish -> window model, publish -> SSE client (separate publisher process)."""
    result = Result("progress_latency", "1. Progress latency (publish -> model, publish -> SSE)")
    result.notes.append(
        f"{ARTISTS} artists; publisher and SSE client are separate processes; the window runs offscreen "
        "with its own subscription and serves SSE on the same qasync loop."
    )
    with isolated_process() as base:

        async def main() -> None:
            async with open_desktop(base, with_sse=True) as desktop:
                await measure(desktop, base, quick, result)

        run_qt(main)
    return result


if __name__ == "__main__":
    sys.exit(main_for(run))
