"""Shared helpers for the benchmarks: results and tables, an isolated environment, the Qt loop, child processes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

#: The repository root (the benchmarks run with it as the working directory and on sys.path).
ROOT = Path(__file__).resolve().parent.parent
#: An address nothing listens on: services a benchmark does not use point here (never the internet).
NOWHERE = "http://127.0.0.1:9"


# -- results -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Figure:
    """One measured figure; ``ok`` is None when the figure has no target (context only)."""

    metric: str
    value: float | int | str
    unit: str = ""
    target: str = ""
    ok: bool | None = None


@dataclass(slots=True)
class Result:
    """What one benchmark reports: its figures, notes for the reader, and raw details for JSON."""

    name: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: The machine's 1-minute load average when the benchmark ended (2 cores: above 2 means contention).
    load_average: float = 0.0

    def add(
        self,
        metric: str,
        value: float | int | str,
        unit: str = "",
        *,
        target: str = "",
        ok: bool | None = None,
        digits: int = 2,
    ) -> None:
        """One figure; a float is shown with ``digits`` decimals (3 for a ratio judged against 0.9)."""
        shown = round(value, digits) if isinstance(value, float) else value
        self.figures.append(Figure(metric, shown, unit, target, ok))

    @property
    def missed(self) -> list[Figure]:
        return [figure for figure in self.figures if figure.ok is False]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        figures = [Figure(**figure) for figure in data.get("figures", [])]
        return cls(
            name=data["name"],
            title=data["title"],
            figures=figures,
            notes=list(data.get("notes", [])),
            details=dict(data.get("details", {})),
            seconds=float(data.get("seconds", 0.0)),
            load_average=float(data.get("load_average", 0.0)),
        )


def latency_summary(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of latencies in milliseconds (zeros when nothing was measured)."""
    if not samples_ms:
        return {"n": 0, "p50": 0.0, "p99": 0.0, "max": 0.0}
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else [ordered[0]] * 99
    return {"n": len(ordered), "p50": cuts[49], "p99": cuts[98], "max": ordered[-1]}


def status_text(ok: bool | None) -> str:
    return {True: "ok", False: "MISSED", None: ""}[ok]


def print_results(results: Sequence[Result], stream: IO[str] | None = None) -> None:
    """The figures as one table per benchmark (rich renders them; plain text when not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stdout, width=110)
    for result in results:
        table = Table(
            title=f"{result.title}  ({result.seconds:.0f} s, load {result.load_average:.1f})",
            title_justify="left",
            expand=False,
        )
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column("unit")
        table.add_column("target")
        table.add_column("status")
        for figure in result.figures:
            value = f"{figure.value:,}" if isinstance(figure.value, int | float) else str(figure.value)
            table.add_row(figure.metric, value, figure.unit, figure.target, status_text(figure.ok))
        console.print(table)
        for note in result.notes:
            console.print(f"  · {note}", highlight=False)
        console.print()


def machine() -> dict[str, Any]:
    """The machine the figures came from (they mean little without it)."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ram_gb = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024 / 1024
                break
    try:
        from importlib.metadata import version

        pyside = version("PySide6-Essentials")
    except Exception:
        pyside = "?"
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gb": round(ram_gb, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyside6": pyside,
        # Other work on a shared machine skews every latency figure: say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default) in MB, from /proc (Linux)."""
    path = Path(f"/proc/{pid or 'self'}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS in {path}")


# -- an isolated environment ---------------------------------------------------------------------


def isolated_env(base: Path, **extra: str) -> dict[str, str]:
    """Environment variables that keep the app's settings, data, logs and window state inside ``base``.

    No ARTIST_DESKTOP_* of the caller leaks in, the keyring is off and Qt renders offscreen.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTIST_DESKTOP_")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        path = base / name.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[name] = str(path)
    env.update(
        ARTIST_DESKTOP_NO_KEYRING="1",
        ARTIST_DESKTOP_DATA_DIR=str(base / "data"),
        ARTIST_DESKTOP_SETTINGS_FILE=str(base / "settings.toml"),
        QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
        LC_ALL=env["LC_ALL"] if "UTF-8" in env.get("LC_ALL", "").upper() else "C.UTF-8",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
    )
    env.update(extra)
    return env


@contextlib.contextmanager
def isolated_process() -> Iterator[Path]:
    """Run this process in an isolated environment (see `isolated_env`) inside a fresh temporary directory."""
    with tempfile.TemporaryDirectory(prefix="artist-bench-") as tmp:
        base = Path(tmp)
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(isolated_env(base))
        try:
            yield base
        finally:
            os.environ.clear()
            os.environ.update(saved)


def bench_prefix() -> str:
    """A Redis key prefix of the run's own."""
    return f"bench-{uuid.uuid4().hex[:8]}:"


def window_state(base: Path) -> Any:
    """QSettings for the window kept in ``base`` (never the user's geometry)."""
    from artist_desktop.ui.qt import QSettings

    return QSettings(str(base / "window.ini"), QSettings.Format.IniFormat)


# -- the Qt + qasync loop --------------------------------------------------------------------------


def run_qt(main: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``main()`` on a qasync loop over a QApplication, as `artist_desktop.gui.run_gui` does."""
    import qasync

    from artist_desktop.ui.qt import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0], "-platform", "offscreen"])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        return loop.run_until_complete(main())
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)


async def wait_for(condition: Callable[[], bool], within: float, what: str, interval: float = 0.02) -> float:
    """Poll until ``condition()`` holds; returns the seconds it took, raises TimeoutError naming ``what``."""
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > within:
            raise TimeoutError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(interval)
    return time.perf_counter() - start


# -- child processes -------------------------------------------------------------------------------


def spawn(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m <module> args`` with stdout piped (a line protocol: "ready", then one JSON line)."""
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env or isolated_env(Path(tempfile.mkdtemp(prefix="artist-bench-child-"))),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def go(process: subprocess.Popen[str]) -> None:
    """Tell a waiting child (it printed "ready") to start."""
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


async def read_line(process: subprocess.Popen[str], within: float) -> str:
    """The child's next stdout line (without blocking the loop)."""
    assert process.stdout is not None
    line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), within)
    if not line:
        raise RuntimeError(f"{process.args!r} exited ({process.poll()}) before answering")
    return line.strip()


async def finish(process: subprocess.Popen[str], within: float) -> dict[str, Any]:
    """Wait for the child and parse its last stdout line as JSON."""
    assert process.stdout is not None
    out = await asyncio.wait_for(asyncio.to_thread(process.stdout.read), within)
    code = await asyncio.to_thread(process.wait)
    lines = [line for line in out.splitlines() if line.strip()]
    if code != 0 or not lines:
        raise RuntimeError(f"{process.args!r} failed with exit code {code}")
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def kill(process: subprocess.Popen[str]) -> None:
    """Stop a child we started (by its own handle), if it still runs."""
    if process.poll() is None:
        process.kill()
        process.wait(5)


# -- a generated catalog for the API double --------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62_id(prefix: str, number: int, length: int = 22) -> str:
    """A deterministic Spotify-style id: ``prefix`` then ``number`` in base 62, padded to ``length``."""
    digits = ""
    while True:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
        if not number:
            break
    body = digits.rjust(length - len(prefix), "0")
    if len(prefix) + len(body) != length:
        raise ValueError("id too long")
    return prefix + body


def generated_catalog(count: int) -> dict[str, Any]:
    """A catalog of ``count`` artists known to Spotify, Deezer and MusicBrainz (names never contain each other)."""
    artists = []
    for n in range(count):
        name = f"Bench Artist {n:05d}"
        tracks = [
            {
                "id": base62_id("T", n * 10 + k),
                "name": f"Song {k + 1} of {name}",
                "album": f"Album {k % 2 + 1} of {name}",
                "album_id": base62_id("A", n * 10 + k % 2),
                "popularity": 80 - k,
                "duration_ms": 180_000 + 1000 * k,
            }
            for k in range(3)
        ]
        artists.append(
            {
                "name": name,
                "spotify": {
                    "id": base62_id("S", n),
                    "genres": ["benchmark pop"],
                    "followers": 1000 + n,
                    "popularity": 50 + n % 50,
                },
                "deezer": {"id": 900_000_000 + n, "nb_fan": 500 + n, "nb_album": 1 + n % 9},
                "musicbrainz": {
                    "mbid": str(uuid.UUID(int=0xBE0C4 << 96 | n)),
                    "type": "Person",
                    "gender": "female" if n % 2 else "male",
                    "country": "GB",
                    "area": "United Kingdom",
                    "life_span": {"begin": "1990", "end": None, "ended": False},
                },
                "top_tracks": tracks,
            }
        )
    return {"about": "Generated by bench/_common.py for the benchmarks.", "artists": artists, "deezer_only": []}


def write_catalog(path: Path, count: int) -> Path:
    path.write_text(json.dumps(generated_catalog(count)), encoding="utf-8")
    return path


# -- the command line of one benchmark ---------------------------------------------------------------


def main_for(run: Callable[[bool], Result], argv: list[str] | None = None) -> int:
    """``python -m bench.<name> [--quick] [--json]``: run one benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=run.__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test of the benchmark)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    result = run(args.quick)
    result.seconds = time.perf_counter() - start
    result.load_average = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print_results([result])
    return 0


# -- the window on real services ---------------------------------------------------------------------


@dataclass(slots=True)
class Desktop:
    """The real window attached to started services (private Redis, SQLite in the run's directory)."""

    window: Any  # artist_desktop.ui.main_window.MainWindow
    services: Any  # artist_desktop.runtime.Runtime
    redis_url: str
    prefix: str


@contextlib.asynccontextmanager
async def open_desktop(base: Path, *, with_sse: bool = False, **settings: Any) -> Any:
    """Start a private redis-server, the services and the window (shown offscreen), as the app does.

    APIs the benchmark does not call point at a closed loopback port; ``settings`` override the rest.
    """
    from artist_desktop.bus import EmbeddedRedis
    from artist_desktop.config import load_settings
    from artist_desktop.runtime import Runtime
    from artist_desktop.ui.main_window import MainWindow

    redis = EmbeddedRedis(base / "redis")
    redis_url = await redis.start()
    prefix = bench_prefix()
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "redis_prefix": prefix,
        "spotify_client_id": "bench",
        "spotify_client_secret": "bench",
        "spotify_api_url": f"{NOWHERE}/v1",
        "spotify_accounts_url": NOWHERE,
        "deezer_api_url": NOWHERE,
        "musicbrainz_api_url": NOWHERE,
        "sse_port": 0,
        "data_dir": base / "data",
    }
    values.update(settings)
    services = Runtime(load_settings(**values), with_sse=with_sse)
    window = None
    try:
        await services.start()
        window = MainWindow(services.settings, state=window_state(base))
        window.show()
        window.attach(services.application)
        await wait_for(lambda: not window.tasks.running("runner-start"), 10, "the runner to start")
        yield Desktop(window, services, redis_url, prefix)
    finally:
        if window is not None:
            await window.detach()
        await services.stop()
        if window is not None:
            window.close()
            window.deleteLater()
        await redis.stop()


async def followers(redis_url: str) -> int:
    """How many connections hold a pattern subscription (the window's, the SSE hub's): who will hear a publish."""
    from artist_desktop.bus import connect_redis

    client = connect_redis(redis_url, client_name="bench-probe")
    try:
        return sum(1 for entry in await client.client_list() if int(entry.get("psub", 0)) > 0)
    finally:
        await client.aclose()
