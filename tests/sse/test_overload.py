"""Overload: more stream clients than the process has files for are refused politely, the server goes on and
its log stays small (issue 15 item 8: 1,100 clients at a 1,024 file limit once burnt 100 % CPU and 3.5 GB of log).

A real ``serve`` process under a file limit of 256 gets 300 stream clients at once: each gets a stream or a 503
(none hangs, the process stays up), /api/health answers afterwards, and the log holds a few lines.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from artist_desktop.sse.app import REQUEST_RESERVE
from artist_desktop.sse.server import FD_HEADROOM, OncePerInterval, connection_limit

FILE_LIMIT = 256
CLIENTS = 300
DAFT_PUNK = "g9UlPlDpiHCTeOrJ7E8MmZ"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _low_file_limit() -> None:  # runs in the child before exec
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, min(hard, FILE_LIMIT)))


async def _open_stream(port: int) -> tuple[str, bytes]:
    """One client: the status line (or why there was none) and the start of the body; the stream stays open."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 20)
    except (OSError, TimeoutError) as exc:
        return f"connect failed: {exc!r}", b""
    writer.write(
        f"GET /api/artists/progress/{DAFT_PUNK} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: text/event-stream\r\n\r\n".encode()
    )
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        status = head.split(b"\r\n", 1)[0].decode()
        body = b"" if b" 200 " in head else await asyncio.wait_for(reader.read(400), 5)
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        status, body = f"no answer: {exc!r}", b""
    _STREAMS.append(writer)  # kept open until the test ends, as a real client would
    return status, body


_STREAMS: list[asyncio.StreamWriter] = []


async def _clients(port: int) -> tuple[list[tuple[str, bytes]], list[tuple[str, bytes]]]:
    """40 clients one after the other (the streams fill up), then `CLIENTS` at once; every stream stays open."""
    try:
        one_by_one = [await _open_stream(port) for _ in range(40)]
        at_once = await asyncio.gather(*(_open_stream(port) for _ in range(CLIENTS)))
        return one_by_one, list(at_once)
    finally:
        for writer in _STREAMS:
            writer.close()
        _STREAMS.clear()


def _counts(answers: list[tuple[str, bytes]]) -> dict[str, int]:
    statuses = [status.split(" ", 2)[1] if status.startswith("HTTP/") else status for status, _ in answers]
    return {status: statuses.count(status) for status in set(statuses)}


def _log_bytes(*places: Path) -> int:
    return sum(path.stat().st_size for place in places for path in place.rglob("*") if path.is_file())


@pytest.mark.slow
def test_more_clients_than_files_are_refused_and_the_server_goes_on(tmp_path: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < CLIENTS + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))  # the test's own clients need files
    port = _free_port()
    state = tmp_path / "state"
    stderr_path = tmp_path / "stderr.log"
    env = dict(
        os.environ,
        ARTIST_DESKTOP_DATA_DIR=str(tmp_path / "data"),
        ARTIST_DESKTOP_SETTINGS_FILE=str(tmp_path / "settings.toml"),
        ARTIST_DESKTOP_SSE_PORT=str(port),
        ARTIST_DESKTOP_NO_KEYRING="1",
        XDG_STATE_HOME=str(state),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    with stderr_path.open("w") as stderr:
        serve = subprocess.Popen(
            [sys.executable, "-m", "artist_desktop", "--demo", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=_low_file_limit,
        )
    try:
        deadline = time.monotonic() + 60
        while "Progress stream:" not in stderr_path.read_text() and time.monotonic() < deadline:
            assert serve.poll() is None, stderr_path.read_text()
            time.sleep(0.1)
        assert "Progress stream:" in stderr_path.read_text(), stderr_path.read_text()

        max_streams = FILE_LIMIT - FD_HEADROOM - REQUEST_RESERVE
        started = time.monotonic()
        one_by_one, at_once = asyncio.run(_clients(port))
        seconds = time.monotonic() - started
        assert serve.poll() is None, stderr_path.read_text()[-3000:]
        print(f"file limit {FILE_LIMIT}: 40 one by one {_counts(one_by_one)}, {CLIENTS} at once {_counts(at_once)}")
        print(f"in {seconds:.1f} s")
        # One by one: streams up to the limit, then the app's refusal (JSON, Retry-After)
        assert _counts(one_by_one) == {"200": max_streams, "503": 40 - max_streams}
        refused = [body for status, body in one_by_one if " 503 " in status]
        assert all(b'"too_many_streams"' in body for body in refused), refused[:2]
        # At once: a stream or a refusal for each (uvicorn's own 503 past the connection limit), none hangs
        assert set(_counts(at_once)) == {"503"}, _counts(at_once)

        with httpx.Client(timeout=10) as client:
            health = client.get(f"http://127.0.0.1:{port}/api/health")
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        assert serve.poll() is None
    finally:
        serve.terminate()
        try:
            serve.wait(15)
        except subprocess.TimeoutExpired:
            serve.kill()
    logged = _log_bytes(state) + stderr_path.stat().st_size
    print(f"log: {logged} bytes; stderr's last lines:\n{stderr_path.read_text()[-1500:]}")
    assert logged < 100_000, stderr_path.read_text()[-3000:]  # a few lines, not one per attempt


def test_the_limit_leaves_headroom_below_the_file_limit() -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        assert connection_limit() == max(16, soft - FD_HEADROOM)
        assert connection_limit(soft) == connection_limit()  # a setting never raises it
    assert connection_limit(50) == 50
    assert connection_limit(3) == 16


def test_one_line_per_kind_and_interval(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.sse.overload")
    once = OncePerInterval(interval=0.3)
    logger.addFilter(once)
    try:
        with caplog.at_level(logging.WARNING, logger="tests.sse.overload"):
            for n in range(1000):
                logger.warning("accept failed: %s", n)
            logger.warning("another kind")
            time.sleep(0.35)
            logger.warning("accept failed: %s", "later")
    finally:
        logger.removeFilter(once)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["accept failed: 0", "another kind", "accept failed: later (999 more like this in the last 0 s)"]
