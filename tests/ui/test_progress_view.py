"""The progress view is fed by the Redis subscription alone, and keeps up with heavy traffic."""

from __future__ import annotations

import asyncio
import gc
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from artist_desktop.bus import ProgressBus, connect_redis
from artist_desktop.domain import ProgressUpdate, Stage
from artist_desktop.ui.progress import ProgressModel
from artist_desktop.ui.qt import Qt, QTimer

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
    qtbot.waitUntil(lambda: model.find_row(ARTIST).is_error, timeout=5000)
    assert model.find_row(ARTIST).reason == "Deezer down"
    qtbot.waitUntil(lambda: window.overall_label.text() == "0/1 done, 1 failed", timeout=2000)


class LoopWatch:
    """A 5 ms heartbeat timer on the GUI thread: how long the event loop was unavailable between beats.

    Each gap is also split into the time the OS kept the (runnable) GUI thread waiting for a CPU, read
    from /proc/thread-self/schedstat: on 2 cores shared with other jobs that wait alone reached 100-280 ms
    while the loop itself had run a few ms. `worst_own` is a gap less that wait: the app's own stall.
    """

    def __init__(self) -> None:
        self.gaps: list[tuple[float, float]] = []  # (wall seconds, of which waiting for a CPU)
        self._fd = _open_schedstat()
        self._last = (time.perf_counter(), self._waited())
        self.timer = QTimer()
        self.timer.setObjectName("test_heartbeat")
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._beat)

    def _waited(self) -> float:
        if self._fd is None:
            return 0.0
        return int(os.pread(self._fd, 128, 0).split()[1]) / 1e9

    def _beat(self) -> None:
        now = (time.perf_counter(), self._waited())
        self.gaps.append((now[0] - self._last[0], now[1] - self._last[1]))
        self._last = now

    def start(self) -> None:
        self._last = (time.perf_counter(), self._waited())
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @property
    def worst(self) -> tuple[float, float]:
        return max(self.gaps)

    @property
    def worst_own(self) -> float:
        return max(wall - waited for wall, waited in self.gaps)


def _open_schedstat() -> int | None:
    try:
        return os.open("/proc/thread-self/schedstat", os.O_RDONLY)
    except OSError:  # not Linux: every gap then counts as the app's own
        return None


def test_2000_rows_and_20000_updates_without_stalling(
    qtbot: Any, run_async: Any, offline_desktop: Any, redis_url: str, redis_prefix: str
) -> None:
    window = offline_desktop.window
    model = window.progress_model
    ids = [f"{n:022d}" for n in range(2000)]
    run_async(_pump(redis_url, redis_prefix, [ProgressUpdate(i, Stage.INIT, 0, "Queued") for i in ids]))
    qtbot.waitUntil(lambda: model.rowCount() == 2000, timeout=10000)
    qtbot.waitUntil(lambda: not model.repaint_timer.isActive(), timeout=5000)

    repaints: list[int] = []
    model.dataChanged.connect(lambda *_args: repaints.append(1))
    watch = LoopWatch()
    # As the app does once started: a full collection then walks only what the batch allocates, not the
    # whole start-up heap (here ~200,000 objects: ~100 ms per full collection, once every few runs).
    gc.freeze()
    watch.start()
    # 20,000 updates: ten per artist, progress 1..10 (the last one is what each row must show).
    started = time.perf_counter()
    publisher = _publisher_process(redis_url, redis_prefix)
    try:
        qtbot.waitUntil(
            lambda: model.find_row(ids[-1]).update.progress == 10 and publisher.poll() is not None,
            timeout=40000,
        )
        qtbot.waitUntil(lambda: not model.repaint_timer.isActive(), timeout=2000)
    finally:
        publisher.wait(10)
        watch.stop()
        gc.unfreeze()
    assert publisher.returncode == 0
    elapsed = time.perf_counter() - started
    assert all(model.find_row(i).update.progress == 10 for i in ids)
    qtbot.waitUntil(lambda: window.overall_progress.value() == 10, timeout=2000)
    assert window.overall_label.text() == "0/2000 done"
    # Coalesced: about 30 repaints a second, never one per message.
    assert len(repaints) <= elapsed * 40 + 5
    (worst, waited), own = watch.worst, watch.worst_own
    print(
        f"20,000 updates in {elapsed:.2f} s, {len(repaints)} repaints, worst loop gap {worst * 1000:.0f} ms "
        f"({waited * 1000:.0f} ms of it waiting for a CPU), worst own stall {own * 1000:.0f} ms"
    )
    # The stall target (< 50 ms) is measured by bench/smoothness.py; here only a freeze a user could not miss
    # fails, however busy the shared machine.
    assert own < 1.0, f"the event loop froze {own * 1000:.0f} ms (not counting waits for a CPU)"


def _recount(model: ProgressModel) -> tuple[int, int, int, int]:
    """The totals the status bar must show, counted the slow way over every row: done is imported (a failed
    or cancelled row is not done and adds nothing to the percentage)."""
    rows = [model.row_at(n) for n in range(model.rowCount())]
    done = [row for row in rows if row.is_complete]
    failed = [row for row in rows if row.is_error and not row.update.cancelled]
    points = sum(100 if row.is_complete else 0 if row.is_final else row.update.progress for row in rows)
    return len(done), len(failed), len(rows), points // len(rows) if rows else 0


def test_running_totals_match_a_recount_through_errors_cancels_retries_and_removals(qtbot: Any) -> None:
    model = ProgressModel()
    shown: list[tuple[int, int, int, int]] = []
    model.totals_changed.connect(lambda *totals: shown.append(totals))
    ids = [f"{n:022d}" for n in range(30)]
    rng = random.Random(5)
    for round_ in range(40):
        for spotify_id in rng.sample(ids, 8):
            kind = rng.choice(["work", "work", "error", "cancel", "complete", "retry"])
            if kind == "work":
                update = ProgressUpdate(spotify_id, Stage.MEDIA, rng.randint(50, 75), "Downloading")
            elif kind == "error":
                update = ProgressUpdate(spotify_id, Stage.ERROR, 30, "Deezer down", payload={"reason": "Deezer down"})
            elif kind == "cancel":
                update = ProgressUpdate.cancellation(spotify_id, 60, Stage.MEDIA)
            elif kind == "complete":
                update = ProgressUpdate(spotify_id, Stage.COMPLETE, 100, "Done")
            else:
                update = ProgressUpdate(spotify_id, Stage.INIT, 0, "Queued again")
            model.apply(update)
        if round_ % 3 == 0:
            model.flush()
            assert shown[-1] == _recount(model)
        if round_ % 10 == 9:
            model.remove(rng.sample(model.spotify_ids(), 3))
            assert shown[-1] == model.totals() == _recount(model)
    model.flush()
    assert model.totals() == _recount(model)
    model.remove(model.spotify_ids())
    assert shown[-1] == (0, 0, 0, 0)
