"""The progress view is fed by the Redis subscription alone, and keeps up with heavy traffic."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.domain import ProgressUpdate, Stage
from artist_desktop.ui.qt import QTimer

pytestmark = pytest.mark.gui

ARTIST = "0123456789abcdefABCDEF"


async def _pump(redis_url: str, prefix: str, updates: list[ProgressUpdate], batch: int = 200) -> None:
    """Publish on a client of its own, as a separate worker process would (no pipeline involved)."""
    client = connect_redis(redis_url, client_name="test-publisher")
    bus = ProgressBus(client, prefix)
    try:
        for start in range(0, len(updates), batch):
            await asyncio.gather(*(bus.publish(u) for u in updates[start : start + batch]))
    finally:
        await client.aclose()


_PUMP_SCRIPT = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from test_progress_view import _pump
from artist_desktop.domain import ProgressUpdate, Stage
ids = [f"{{n:022d}}" for n in range(2000)]
updates = [ProgressUpdate(i, Stage.METADATA, step, f"step {{step}}") for step in range(1, 11) for i in ids]
asyncio.run(_pump({url!r}, {prefix!r}, updates))
"""


def _publisher_process(redis_url: str, prefix: str) -> subprocess.Popen[bytes]:
    """A separate process pumps the updates, as import workers on a shared machine would."""
    script = _PUMP_SCRIPT.format(tests=str(Path(__file__).parent), url=redis_url, prefix=prefix)
    return subprocess.Popen([sys.executable, "-c", script])


def test_updates_published_straight_to_redis_are_shown(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str
) -> None:
    window = offline_desktop.window
    model = window.progress_model
    assert model.rowCount() == 0
    run_async(
        _pump(
            redis_url,
            redis_prefix,
            [
                ProgressUpdate(ARTIST, Stage.METADATA, 12, "Looking up MusicBrainz", "2 of 3 sources"),
                ProgressUpdate(ARTIST, Stage.ANALYTICS, 40, "Reading Deezer fans"),
            ],
        )
    )
    qtbot.waitUntil(lambda: (row := model.find_row(ARTIST)) is not None and row.update.progress == 40, timeout=5000)
    row = model.find_row(ARTIST)
    assert row is not None and row.update.stage is Stage.ANALYTICS and row.update.message == "Reading Deezer fans"
    assert "Reading Deezer fans" in model.index(0).data(0x0003)  # tooltip, as the user hovers
    qtbot.waitUntil(lambda: window.overall_progress.isVisible() and window.overall_progress.value() == 40, timeout=2000)
    failure = ProgressUpdate(
        ARTIST, Stage.ERROR, 40, "Deezer down", payload={"stage": "ANALYTICS", "reason": "Deezer down"}
    )
    run_async(_pump(redis_url, redis_prefix, [failure]))
    qtbot.waitUntil(lambda: model.find_row(ARTIST).is_error, timeout=5000)  # type: ignore[union-attr]
    assert model.find_row(ARTIST).reason == "Deezer down"  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.overall_label.text() == "1/1 done, 1 failed", timeout=2000)


def test_2000_rows_and_20000_updates_without_stalling(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str
) -> None:
    window = offline_desktop.window
    model = window.progress_model
    ids = [f"{n:022d}" for n in range(2000)]
    run_async(_pump(redis_url, redis_prefix, [ProgressUpdate(i, Stage.INIT, 0, "Queued") for i in ids]))
    qtbot.waitUntil(lambda: model.rowCount() == 2000, timeout=10000)

    repaints: list[int] = []
    model.dataChanged.connect(lambda *_args: repaints.append(1))
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setObjectName("test_heartbeat")
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    # 20,000 updates: ten per artist, progress 1..10 (the last one is what each row must show).
    started = time.perf_counter()
    publisher = _publisher_process(redis_url, redis_prefix)
    try:
        qtbot.waitUntil(
            lambda: model.find_row(ids[-1]).update.progress == 10 and publisher.poll() is not None,  # type: ignore[union-attr]
            timeout=40000,
        )
        qtbot.waitUntil(lambda: not model.repaint_timer.isActive(), timeout=2000)
    finally:
        publisher.wait(10)
        heartbeat.stop()
    assert publisher.returncode == 0
    elapsed = time.perf_counter() - started
    assert all(model.find_row(i).update.progress == 10 for i in ids)  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.overall_progress.value() == 10, timeout=2000)
    # Coalesced: about 30 repaints a second, never one per message.
    assert len(repaints) <= elapsed * 40 + 5
    worst = max(gaps)
    print(f"20,000 updates in {elapsed:.2f} s, {len(repaints)} repaints, worst loop gap {worst * 1000:.0f} ms")
    # Generous (2 shared cores, other suites running): the tight 100 ms figure belongs in bench/.
    assert worst < 0.5, f"event loop stalled {worst * 1000:.0f} ms"
