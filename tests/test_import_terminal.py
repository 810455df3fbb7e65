"""`artist-desktop import` on a terminal: a bounded live view that keeps the piped throughput, and Ctrl+C that
stops within 2 s leaving every unfinished artist queued for the next run (issue 15 item 8)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from artist_desktop.bus import ProgressBus
from artist_desktop.console import MAX_ROWS, LiveProgress
from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
from artist_desktop.devtools.generated_catalog import generated_catalog
from artist_desktop.domain import ProgressUpdate, Stage

#: Measures pace or throughput against a real quota: run alone (see packaging/dev.py).
pytestmark = pytest.mark.serial

#: Artists per run: enough for the terminal view to matter, few enough for two cores shared by several agents.
COUNT = 60  # enough for a steady rate on both sides; the 2,000-row view is the unit test below


@pytest.fixture
def catalog_double(tmp_path: Path) -> Iterator[ApiDouble]:
    """The API double serving `COUNT` generated artists, without the Deezer and MusicBrainz quotas."""
    double = ApiDouble(
        DoubleConfig(musicbrainz_rate=None, deezer_quota=None), catalog=generated_catalog(COUNT, tmp_path)
    )
    double.start_in_thread()
    try:
        yield double
    finally:
        double.stop_thread()


def _env(data_dir: Path, double: ApiDouble) -> dict[str, str]:
    return dict(
        os.environ,
        **double.urls.as_env(),
        ARTIST_DESKTOP_MUSICBRAINZ_RATE="100",
        ARTIST_DESKTOP_DATA_DIR=str(data_dir),
        TERM="xterm-256color",
        COLUMNS="120",
        LINES="40",
    )


def _command(ids_file: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "artist_desktop", "import", "--file", str(ids_file), *extra]


class _Terminal:
    """A process whose stdin, stdout and stderr are a pseudo-terminal, its output drained as it comes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        self.process = subprocess.Popen(command, env=env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self._master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output.extend(chunk)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._reader.join(5)
            os.close(self._master)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return connection.execute(sql).fetchall()


def _complete(db: Path) -> int:
    try:
        return int(str(_query(db, "select count(*) from import_jobs where status = 'complete'")[0][0]))
    except sqlite3.OperationalError:  # not created yet
        return 0


def _ids_file(double: ApiDouble, directory: Path) -> tuple[list[str], Path]:
    ids = [artist.spotify_id for artist in double.catalog.artists[:COUNT]]
    assert len(ids) == COUNT
    path = directory / "ids.txt"
    path.write_text("\n".join(ids) + "\n", encoding="utf-8")
    return ids, path


@pytest.mark.slow
def test_a_terminal_keeps_the_piped_throughput(
    isolated_user_env: Path, catalog_double: ApiDouble, tmp_path: Path
) -> None:
    _ids, ids_file = _ids_file(catalog_double, tmp_path)

    started = time.monotonic()
    piped = subprocess.run(
        _command(ids_file), env=_env(tmp_path / "piped", catalog_double), capture_output=True, timeout=300, check=False
    )
    piped_seconds = time.monotonic() - started
    assert piped.returncode == 0, piped.stderr[-2000:]

    started = time.monotonic()
    terminal = _Terminal(_command(ids_file, "--refresh"), _env(tmp_path / "pty", catalog_double))
    assert terminal.wait(300) == 0, bytes(terminal.output[-2000:])
    pty_seconds = time.monotonic() - started

    ratio = piped_seconds / pty_seconds  # artists/s on the terminal over artists/s piped
    print(f"{COUNT} artists: piped {piped_seconds:.1f} s, terminal {pty_seconds:.1f} s, ratio {ratio:.2f}")
    assert ratio >= 0.8, (piped_seconds, pty_seconds)
    text = terminal.output.decode("utf-8", "replace")
    assert f"{COUNT} artists: 0 queued" in text or f"{COUNT} complete" in text, text[-1500:]


@pytest.mark.slow
def test_ctrl_c_stops_within_2_s_and_the_rerun_finishes_the_rest(
    isolated_user_env: Path, catalog_double: ApiDouble, tmp_path: Path
) -> None:
    ids, ids_file = _ids_file(catalog_double, tmp_path)
    data_dir = tmp_path / "data"
    db = data_dir / "artist-desktop.sqlite3"
    env = _env(data_dir, catalog_double)
    terminal = _Terminal(_command(ids_file), env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and terminal.process.poll() is None and _complete(db) < 10:
            time.sleep(0.05)
        assert terminal.process.poll() is None, "the batch ended before Ctrl+C"
        terminal.process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        code = terminal.wait(10)
        stop_seconds = time.monotonic() - interrupted
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    text = terminal.output.decode("utf-8", "replace")
    print(f"Ctrl+C to exit: {stop_seconds:.2f} s")
    assert code == 130, text[-1500:]
    assert stop_seconds <= 2.0
    assert "Stopped by Ctrl+C" in text
    statuses = {
        str(row[0]): int(str(row[1])) for row in _query(db, "select status, count(*) from import_jobs group by status")
    }
    assert set(statuses) <= {"complete", "queued"}, statuses  # nothing left running, nothing cancelled
    assert 10 <= statuses.get("complete", 0) < COUNT, statuses
    finished = {str(row[0]) for row in _query(db, "select spotify_id from import_jobs where status = 'complete'")}

    fetched_before = {i: catalog_double.request_count("spotify", f"/artists/{i}") for i in ids}
    rerun = subprocess.run(
        _command(ids_file, "--json"), env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rows = json.loads(rerun.stdout)
    assert {row["spotify_id"] for row in rows if row["status"] == "skipped"} == finished
    assert {row["status"] for row in rows if row["spotify_id"] not in finished} == {"complete"}
    refetched = {i for i in ids if catalog_double.request_count("spotify", f"/artists/{i}") > fetched_before[i]}
    assert not refetched & finished  # no finished artist fetched again
    assert _query(db, "select count(*) from artists")[0][0] == COUNT


async def test_the_terminal_view_is_bounded_whatever_the_batch(bus: ProgressBus) -> None:
    ids = [f"{n:022d}" for n in range(2000)]
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True, color_system=None)
    progress = LiveProgress(bus, ids, console=console)
    for n, spotify_id in enumerate(ids[:1500]):
        stage = Stage.COMPLETE if n < 1000 else Stage.ERROR if n < 1010 else Stage.MEDIA
        progress.latest[spotify_id] = ProgressUpdate(spotify_id, stage, 60, "working", payload={"name": f"A{n}"})
    started = time.perf_counter()
    rendered = Console(file=io.StringIO(), width=120, force_terminal=True)
    for _ in range(20):
        rendered.print(progress.render())
    assert (time.perf_counter() - started) / 20 < 0.05  # a redraw costs little, whatever the batch's size
    assert progress.totals() == {"queued": 500, "running": 490, "complete": 1000, "failed": 10, "cancelled": 0}
    lines = Console(file=io.StringIO(), width=120).render_lines(progress.render(), pad=False)
    assert len(lines) <= MAX_ROWS + 3  # header, rows, "… and N more running", totals
    text = "\n".join("".join(segment.text for segment in line) for line in lines)
    assert "… and 475 more running" in text
    assert "2000 artists: 500 queued, 490 running, 1000 complete, 10 failed" in text
    async with progress:
        await bus.publish(ProgressUpdate(ids[1999], Stage.METADATA, 10, "live"))
        await asyncio.sleep(0.5)
    assert progress.latest[ids[1999]].message == "live"
    assert "2000 artists" in out.getvalue()
