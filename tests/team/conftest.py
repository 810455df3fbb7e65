"""Team mode: several processes sharing one PostgreSQL ledger and one Redis, against one API double."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig
from artist_desktop.devtools.generated_catalog import generated_catalog


@pytest.fixture
def team_postgres_url(request: pytest.FixtureRequest) -> str:
    if not os.environ.get("ARTIST_DESKTOP_TEST_POSTGRES_URL"):
        pytest.skip("team mode needs PostgreSQL: set ARTIST_DESKTOP_TEST_POSTGRES_URL (the test command does)")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def team_double(tmp_path: Path) -> Iterator[ApiDouble]:
    double = ApiDouble(DoubleConfig(latency=0.05, musicbrainz_rate=None), catalog=generated_catalog(60, tmp_path))
    double.start_in_thread()
    try:
        yield double
    finally:
        double.stop_thread()


@pytest.fixture
def team_env(team_postgres_url: str, team_double: ApiDouble, redis_url: str, redis_prefix: str) -> dict[str, str]:
    """The environment every process of the team shares."""
    return {
        **os.environ,
        **team_double.urls.as_env(),
        "ARTIST_DESKTOP_DATABASE_URL": team_postgres_url,
        "ARTIST_DESKTOP_REDIS_URL": redis_url,
        "ARTIST_DESKTOP_REDIS_PREFIX": redis_prefix,
        "ARTIST_DESKTOP_SSE_PORT": "0",
        "ARTIST_DESKTOP_MUSICBRAINZ_RATE": "100",
        "ARTIST_DESKTOP_JOB_TIMEOUT": "3",
    }


class Workers:
    """`serve` processes started for a test, each with its own data dir and name; all stopped at the end."""

    def __init__(self, env: dict[str, str], root: Path) -> None:
        self.env = env
        self.root = root
        self.processes: dict[str, subprocess.Popen[str]] = {}

    def start(self, name: str, slots: int = 2) -> subprocess.Popen[str]:
        env = dict(self.env, ARTIST_DESKTOP_DATA_DIR=str(self.root / name), ARTIST_DESKTOP_WORKER_NAME=name)
        process = subprocess.Popen(
            [sys.executable, "-m", "artist_desktop", "serve", "--workers", str(slots)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        deadline = time.monotonic() + 30
        line = ""
        while "Serving" not in line and time.monotonic() < deadline:
            line = process.stderr.readline()
            assert line or process.poll() is None, f"worker {name} ended: {process.poll()}"
        self.processes[name] = process
        return process

    def worker_id(self, name: str) -> str:
        return f"{name}:{self.processes[name].pid}"

    def stop_all(self) -> dict[str, int | None]:
        codes: dict[str, int | None] = {}
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                codes[name] = process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                codes[name] = None
        return codes


@pytest.fixture
def workers(team_env: dict[str, str], tmp_path: Path) -> Iterator[Workers]:
    team = Workers(team_env, tmp_path)
    try:
        yield team
    finally:
        team.stop_all()


WaitFor = Callable[[Callable[[], bool], float, str], None]
