"""The packaged installer: build the bundle, unpack its archive, run it offscreen with no Python around it.

Slow (a PyInstaller build, about a minute): runs only with ARTIST_DESKTOP_TEST_PACKAGING=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from artist_desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
MAX_BUNDLE_BYTES = 250_000_000
BUILD_TIMEOUT = 900

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(BUILD_TIMEOUT + 120),
    pytest.mark.skipif(
        os.environ.get("ARTIST_DESKTOP_TEST_PACKAGING") != "1",
        reason="builds the PyInstaller bundle (about a minute): set ARTIST_DESKTOP_TEST_PACKAGING=1",
    ),
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="checks the Linux archive and its processes via /proc"
    ),
]


@dataclass(frozen=True)
class Bundle:
    """The unpacked archive: its folder and the executable inside."""

    archive: Path
    folder: Path

    @property
    def executable(self) -> Path:
        return self.folder / "artist-desktop"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """`packaging/build` run into a tmp dist dir, its archive unpacked into an empty folder."""
    work = tmp_path_factory.mktemp("build")
    command = [sys.executable, str(ROOT / "packaging" / "build")]
    build = subprocess.run(
        [*command, "--dist-dir", str(work / "dist"), "--work-dir", str(work / "work")],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert build.returncode == 0, f"packaging/build failed:\n{build.stdout[-3000:]}\n{build.stderr[-5000:]}"
    archives = sorted((work / "dist").glob(f"artist-desktop-{__version__}-linux-*.tar.gz"))
    assert len(archives) == 1, f"expected one archive, found {archives}"
    target = tmp_path_factory.mktemp("unpacked")
    assert not any(target.iterdir())
    with tarfile.open(archives[0]) as tar:
        tar.extractall(target, filter="data")
    return Bundle(archives[0], target / f"artist-desktop-{__version__}")


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    """A user session without Python: no venv (nor any redis-server) on PATH, HOME and XDG dirs in tmp."""
    home = tmp_path / "home"
    empty_bin = tmp_path / "bin"
    runtime = tmp_path / "runtime"
    for directory in (home, empty_bin, runtime):
        directory.mkdir()
    runtime.chmod(0o700)
    return {
        "PATH": str(empty_bin),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(runtime),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
    }


def children_of(pid: int) -> Iterator[tuple[int, Path]]:
    """(pid, executable) of each live child process of `pid`, read from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid:
                yield int(entry.name), Path(os.readlink(entry / "exe"))
        except (OSError, ValueError, IndexError):  # gone meanwhile, or a zombie without an exe
            continue


def wait_for(condition: Callable[[], bool], timeout: float, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"the app exited with {process.returncode} before {what}"
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f} s waiting for {what}"
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_archive_holds_the_app_its_menu_entry_and_stays_under_250_mb(
    bundle: Bundle, capsys: pytest.CaptureFixture[str]
) -> None:
    size = sum(p.lstat().st_size for p in bundle.folder.rglob("*") if p.is_file() or p.is_symlink())
    with capsys.disabled():
        print(f"\nbundle: {size / 1e6:.1f} MB unpacked, archive {bundle.archive.stat().st_size / 1e6:.1f} MB")
    assert size < MAX_BUNDLE_BYTES
    assert os.access(bundle.executable, os.X_OK)
    internal = bundle.folder / "_internal"
    assert os.access(internal / "bin" / "redis-server", os.X_OK)
    assert (internal / "resources" / "catalog.json").is_file()
    assert (internal / "artist_desktop" / "store" / "migrations" / "env.py").is_file()
    desktop = (bundle.folder / "artist-desktop.desktop").read_text()
    assert "Exec=artist-desktop" in desktop and "Icon=artist-desktop" in desktop
    assert (bundle.folder / "artist-desktop.png").read_bytes().startswith(b"\x89PNG")
    assert os.access(bundle.folder / "install.sh", os.X_OK)


def test_version_runs_without_python(bundle: Bundle, clean_env: dict[str, str]) -> None:
    result = subprocess.run(
        [str(bundle.executable), "--version"], env=clean_env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Artist Desktop {__version__}"


def test_demo_window_starts_offscreen_and_sigterm_exits_cleanly(
    bundle: Bundle, clean_env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(clean_env["XDG_DATA_HOME"]) / "artist-desktop"
    log_file = Path(clean_env["XDG_STATE_HOME"]) / "artist-desktop" / "log" / "artist-desktop.log"
    database = data_dir / "artist-desktop.sqlite3"
    output = tmp_path / "app-output.txt"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    with output.open("wb") as sink:
        app = subprocess.Popen([str(bundle.executable), "--demo"], env=clean_env, cwd=workdir, stdout=sink, stderr=sink)
        try:
            redis_children: list[tuple[int, Path]] = []

            def services_up() -> bool:
                assert "start-up failed" not in _read(log_file), _read(log_file)[-4000:]
                redis_children[:] = [(pid, exe) for pid, exe in children_of(app.pid) if exe.name == "redis-server"]
                return bool(redis_children) and database.is_file() and "demo mode" in _read(log_file)

            wait_for(services_up, 60, "the embedded Redis, the database and the demo backend", app)
            (redis_pid, redis_exe), *_ = redis_children
            assert redis_exe.is_relative_to(bundle.folder), f"expected the bundled redis-server, ran {redis_exe}"
            time.sleep(1.0)  # let the window finish its first refresh from the database
            app.send_signal(signal.SIGTERM)
            exit_code = app.wait(timeout=30)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
    text = output.read_text(errors="replace")
    assert exit_code == 0, f"exit code {exit_code}; output:\n{text[-4000:]}"
    assert "Traceback" not in text and "start-up failed" not in _read(log_file), text[-4000:]
    deadline = time.monotonic() + 10
    while alive(redis_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(redis_pid), "the embedded redis-server outlived the app"


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
