"""Benchmark 2: window smoothness, 2,000 artists in the progress view receiving 1,000 updates/s for 20 s.

A separate publisher process first fills the view with 2,000 rows, then sends 1,000 updates/s over
them. A 5 ms heartbeat QTimer on the window's qasync loop measures the gaps between its ticks: the
longest gap is the longest stall a user would feel. Target (issue 8): longest stall < 50 ms.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench._common import (
    Desktop,
    Result,
    finish,
    go,
    isolated_env,
    isolated_process,
    kill,
    main_for,
    open_desktop,
    read_line,
    run_qt,
    spawn,
    wait_for,
)

ARTISTS = 2000
RATE = 1000
SECONDS, QUICK_SECONDS = 20.0, 5.0
HEARTBEAT_MS = 5
STALL_MS = 16.0
MAX_STALL_MS = 50.0


class Heartbeat:
    """A precise 5 ms timer on the GUI loop; records the gap between consecutive ticks."""

    def __init__(self) -> None:
        from artist_desktop.ui.qt import Qt, QTimer

        self.gaps_ms: list[float] = []
        self._last = 0.0
        self.timer = QTimer()
        self.timer.setObjectName("bench_heartbeat_timer")
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last:
            self.gaps_ms.append((now - self._last) * 1000)
        self._last = now

    def start(self) -> None:
        self.gaps_ms, self._last = [], 0.0
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


async def measure(desktop: Desktop, base: Path, quick: bool, result: Result) -> None:
    window = desktop.window
    window.tabs.setCurrentIndex(0)  # the import page, where the progress view is
    model = window.progress_model
    seconds = QUICK_SECONDS if quick else SECONDS

    # Fill the view: one update per artist, as fast as the publisher can.
    filler = spawn(
        "bench._publisher",
        desktop.redis_url,
        desktop.prefix,
        "--run",
        "1",
        "--artists",
        str(ARTISTS),
        "--rate",
        "0",
        "--count",
        str(ARTISTS),
        env=isolated_env(base / "children"),
    )
    try:
        await read_line(filler, 20)
        go(filler)
        await finish(filler, 60)
        filled_in = await wait_for(lambda: model.rowCount() >= ARTISTS, 30, f"{ARTISTS} rows in the progress view")
    finally:
        kill(filler)

    heartbeat = Heartbeat()
    count = int(RATE * seconds)
    publisher = spawn(
        "bench._publisher",
        desktop.redis_url,
        desktop.prefix,
        "--run",
        "1",
        "--artists",
        str(ARTISTS),
        "--rate",
        str(RATE),
        "--count",
        str(count),
        env=isolated_env(base / "children"),
    )
    try:
        await read_line(publisher, 20)
        heartbeat.start()
        go(publisher)
        sent = await finish(publisher, seconds + 30)
        heartbeat.stop()
    finally:
        kill(publisher)
        heartbeat.stop()
    gaps = heartbeat.gaps_ms
    longest = max(gaps, default=0.0)
    stalls = sum(1 for gap in gaps if gap > STALL_MS)
    result.add("rows in the progress view", model.rowCount())
    result.add("longest event-loop stall", longest, "ms", target=f"< {MAX_STALL_MS:g}", ok=longest < MAX_STALL_MS)
    result.add(f"stalls > {STALL_MS:g} ms", stalls, f"in {seconds:g} s")
    result.add("heartbeat ticks", len(gaps), f"of ~{int(seconds * 1000 / HEARTBEAT_MS)}")
    result.add("updates sent", sent["sent"], f"in {sent['seconds']:.1f} s")
    if sent["late_ms_max"] > 5:
        result.notes.append(f"the publisher fell up to {sent['late_ms_max']:.0f} ms behind its schedule")
    result.details.update(
        fill_seconds=filled_in,
        gaps_over_16_ms=sorted((round(gap, 1) for gap in gaps if gap > STALL_MS), reverse=True)[:50],
        publisher=sent,
    )


def run(quick: bool) -> Result:
    """Window smoothness: the longest GUI-loop stall while 2,000 rows take 1,000 updates/s."""
    result = Result("smoothness", "2. Window smoothness (2,000 rows, 1,000 updates/s)")
    result.notes.append(f"heartbeat: a {HEARTBEAT_MS} ms PreciseTimer on the window's qasync loop; a stall is a gap.")
    with isolated_process() as base:

        async def main() -> None:
            async with open_desktop(base) as desktop:
                await measure(desktop, base, quick, result)

        run_qt(main)
    return result


if __name__ == "__main__":
    sys.exit(main_for(run))
