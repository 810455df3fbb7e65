"""`artist-desktop serve`: a headless endpoint that shows another process's import live, and stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from httpx_sse import connect_sse

DAFT_PUNK = "g9UlPlDpiHCTeOrJ7E8MmZ"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_streams_an_import_run_by_another_process(tmp_path: Path, redis_url: str, redis_prefix: str) -> None:
    port = _free_port()
    env = dict(
        os.environ,
        ARTIST_DESKTOP_REDIS_URL=redis_url,
        ARTIST_DESKTOP_REDIS_PREFIX=redis_prefix,
        ARTIST_DESKTOP_SSE_PORT=str(port),
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "artist_desktop", "--demo", "serve"],
        env=dict(env, ARTIST_DESKTOP_DATA_DIR=str(tmp_path / "server")),
        stderr=subprocess.PIPE,
        text=True,
    )
    importer: subprocess.Popen[str] | None = None
    try:
        assert serve.stderr is not None
        line = serve.stderr.readline()
        while line and "Progress stream:" not in line:
            line = serve.stderr.readline()
        assert f"127.0.0.1:{port}" in line, line

        seen: list[dict[str, object]] = []
        url = f"http://127.0.0.1:{port}/api/artists/progress/{DAFT_PUNK}"
        with httpx.Client(timeout=60) as client, connect_sse(client, "GET", url) as source:
            importer = subprocess.Popen(
                [sys.executable, "-m", "artist_desktop", "--demo", "import", DAFT_PUNK],
                env=dict(env, ARTIST_DESKTOP_DATA_DIR=str(tmp_path / "importer")),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for event in source.iter_sse():
                if event.event in ("", "message", "progress") and event.data:
                    seen.append(json.loads(event.data))
        assert importer.wait(60) == 0
        stages = [update["stage"] for update in seen]
        assert stages[-1] == "COMPLETE", stages
        assert {"METADATA", "STORE"} <= set(stages)
    finally:
        started = time.monotonic()
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(20)
        if importer is not None and importer.poll() is None:
            importer.kill()
    assert code == 0
    assert time.monotonic() - started < 10
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as every server binds
        sock.bind(("127.0.0.1", port))  # the port is free again
        sock.listen()
