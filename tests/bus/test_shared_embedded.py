"""One data dir, one redis-server: later processes join the first one's, a survivor takes over, none is left."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from artist_desktop.bus import ProgressBus, SharedEmbeddedRedis, connect_redis
from artist_desktop.config import load_settings
from artist_desktop.domain import ProgressUpdate, Stage
from artist_desktop.runtime import Runtime

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

REPO_ROOT = Path(__file__).resolve().parents[2]
PREFIX = "shared-test:"


def _redis_servers_on(socket_path: Path) -> list[int]:
    """Live redis-server processes whose command line names this socket."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()  # redis-server retitles it "redis-server unixsocket:PATH"
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        program = command.split(b"\0", 1)[0].split(b" ", 1)[0]
        if state not in ("Z", "X") and program.endswith(b"redis-server") and str(socket_path).encode() in command:
            found.append(int(entry.name))
    return found


async def _wait_until_served(url: str, seconds: float) -> float:
    """Seconds until a PING at the URL succeeds (fails the test after `seconds`)."""
    started = time.monotonic()
    client = connect_redis(url)
    try:
        while True:
            try:
                if await client.ping():  # type: ignore[misc]
                    return time.monotonic() - started
            except Exception:
                pass
            assert time.monotonic() - started < seconds, f"no server at {url} after {seconds} s"
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def test_a_second_process_joins_the_first_ones_server_and_takes_over(tmp_path: Path) -> None:
    first = SharedEmbeddedRedis(tmp_path / "redis")
    second = SharedEmbeddedRedis(tmp_path / "redis")
    try:
        url = await first.start()
        assert await second.start() == url
        assert (first.owner, second.owner) == (True, False)
        assert _redis_servers_on(first.socket_path) == [first.pid]
        assert first.owner_record() == {"owner": os.getpid(), "server": first.pid}

        await first.stop()
        stopped = time.monotonic()
        while not second.owner and time.monotonic() - stopped < 5:  # a PING alone may reach the old server's end
            await asyncio.sleep(0.05)
        await _wait_until_served(url, 5)
        takeover = time.monotonic() - stopped
        assert second.owner and second.servers_started == 1
        assert _redis_servers_on(second.socket_path) == [second.pid]
        assert takeover < 3, f"takeover took {takeover:.2f} s"
    finally:
        await first.stop()
        await second.stop()
    assert not _redis_servers_on(second.socket_path)
    assert not second.socket_path.exists()


async def test_the_owner_restarts_its_server_when_it_dies(tmp_path: Path) -> None:
    async with SharedEmbeddedRedis(tmp_path / "redis") as server:
        old = server.pid
        assert old is not None
        os.kill(old, 9)
        await _wait_until_served(server.url, 5)
        for _ in range(100):
            if server.pid not in (None, old):
                break
            await asyncio.sleep(0.05)
        assert server.pid not in (None, old) and server.servers_started == 2


async def test_window_and_import_on_one_data_dir_share_one_live_bus(isolated_user_env: Path) -> None:
    """Two runtimes on one data dir (the window and `import`): one server, each sees the other's updates."""
    window, command = Runtime(load_settings()), Runtime(load_settings())
    await window.start()
    try:
        await command.start()
        assert window.redis_url == command.redis_url
        socket_path = Path(window.redis_url.removeprefix("unix://"))
        assert len(_redis_servers_on(socket_path)) == 1

        async with window.bus.subscribe() as subscription:
            async with asyncio.timeout(5):
                await subscription.wait_connected()
            await command.bus.publish(ProgressUpdate("4Z8W4fKeB5YxbusRsdQVPb", Stage.METADATA, 10))
            async with asyncio.timeout(5):
                seen = await anext(subscription)
            assert (seen.spotify_id, seen.stage) == ("4Z8W4fKeB5YxbusRsdQVPb", Stage.METADATA)

        await window.stop()  # the owner leaves: `import` keeps its bus
        started = time.monotonic()
        published = None
        while published is None:
            try:
                published = await command.bus.publish(ProgressUpdate("4Z8W4fKeB5YxbusRsdQVPb", Stage.COMPLETE, 100))
            except Exception:
                assert time.monotonic() - started < 5, "the survivor's bus did not come back within 5 s"
                await asyncio.sleep(0.1)
        assert await command.bus.snapshot("4Z8W4fKeB5YxbusRsdQVPb") == published
        assert len(_redis_servers_on(socket_path)) == 1
    finally:
        await window.stop()
        await command.stop()
    assert not _redis_servers_on(socket_path), "the last process out left a redis-server behind"


def _owner_process(directory: Path) -> subprocess.Popen[str]:
    script = """
        import asyncio, sys
        from artist_desktop.bus import SharedEmbeddedRedis

        async def main() -> None:
            server = SharedEmbeddedRedis(sys.argv[1])
            await server.start()
            print(server.pid, flush=True)
            await asyncio.sleep(60)

        asyncio.run(main())
    """
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(directory)], stdout=subprocess.PIPE, text=True, env=env
    )


async def test_a_sigkilled_owner_is_replaced_within_seconds(tmp_path: Path) -> None:
    directory = tmp_path / "redis"
    owner = _owner_process(directory)
    try:
        assert owner.stdout is not None
        owner_server = int(await asyncio.to_thread(owner.stdout.readline))
        async with SharedEmbeddedRedis(directory) as survivor:
            assert not survivor.owner
            client = connect_redis(survivor.url)
            try:
                bus = ProgressBus(client, PREFIX)
                await bus.publish(ProgressUpdate("0TnOYISbd1XYRBk9myaseg", Stage.INIT, 0))
                owner.kill()  # no clean-up runs in the owner: the kernel ends its server and frees the lock
                await asyncio.to_thread(owner.wait, 5)
                started = time.monotonic()
                while not survivor.owner and time.monotonic() - started < 5:  # the old server may linger a moment
                    await asyncio.sleep(0.02)
                takeover = time.monotonic() - started + await _wait_until_served(survivor.url, 5)
                assert survivor.owner and survivor.pid != owner_server
                assert _redis_servers_on(survivor.socket_path) == [survivor.pid]
                update = await bus.publish(ProgressUpdate("0TnOYISbd1XYRBk9myaseg", Stage.METADATA, 10))
                assert await bus.snapshot("0TnOYISbd1XYRBk9myaseg") == update
                assert takeover < 3, f"takeover took {takeover:.2f} s"
            finally:
                await client.aclose()
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        if owner.stdout is not None:
            owner.stdout.close()
    assert not _redis_servers_on(directory.resolve() / "redis.sock")
