"""The composition root: everything starts in order and stops without leaving a process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from artist_desktop.config import load_settings
from artist_desktop.runtime import Runtime, StartupError


def _children(pid: int, name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == pid and comm.startswith(name):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


async def test_services_start_and_stop_in_order(isolated_user_env: Path) -> None:
    services = Runtime(load_settings())
    await services.start()
    try:
        health = await services.health()
        assert health.redis_ok and health.redis_where == "embedded"
        assert health.database_ok
        assert (isolated_user_env / "artist-desktop.sqlite3").exists()
        embedded_pid = services._embedded.pid if services._embedded else None
        assert embedded_pid is not None and _alive(embedded_pid)
    finally:
        await services.stop()
    assert not _alive(embedded_pid)
    # stopping twice is harmless
    await services.stop()


async def test_a_failed_start_stops_what_had_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTIST_DESKTOP_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    services = Runtime(load_settings())
    with pytest.raises(StartupError, match=r"^PostgreSQL at 127\.0\.0\.1:1 does not answer"):
        await services.start()
    assert services._embedded is None or not services._embedded.running


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_closes_the_window_and_leaves_no_redis_server(isolated_user_env: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    app = subprocess.Popen(
        [sys.executable, "-m", "artist_desktop"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        redis_pids: list[int] = []
        while not redis_pids and time.monotonic() < deadline and app.poll() is None:
            redis_pids = _children(app.pid, "redis-server")
            time.sleep(0.1)
        assert redis_pids, f"no embedded redis-server started: {app.communicate(timeout=5)}"
        time.sleep(0.5)  # let the window finish starting
        app.send_signal(signal.SIGTERM)
        _out, err = app.communicate(timeout=20)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
    assert app.returncode == 0, err.decode()
    assert b"Traceback" not in err, err.decode()
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in redis_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in redis_pids), "redis-server outlived the app"
