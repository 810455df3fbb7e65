"""Two `artist-desktop import` processes on one machine share one gate per host, as the services count per IP.

The API double runs in the test process at the real quotas (Deezer 50 per 5 s, MusicBrainz 1 per second, 503
past it) and counts every request it refuses; the two commands run as real processes pointed at it and at the
session's Redis with one key prefix, as a user's terminal and a team worker would.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from artist_desktop.devtools.api_double import DEEZER, MUSICBRAINZ, SPOTIFY, ApiDouble, DoubleConfig
from artist_desktop.devtools.generated_catalog import generated_catalog_data

#: Measures pace or throughput against a real quota: run alone (see packaging/dev.py).
pytestmark = pytest.mark.serial

ARTISTS_PER_PROCESS = 50


def _catalog(count: int, path: Path) -> Path:
    """``count`` generated artists known to every service, without top tracks (one image per artist)."""
    data = generated_catalog_data(count)
    for artist in data["artists"]:
        artist["top_tracks"] = []
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _env(double: ApiDouble, data_dir: Path, redis_url: str, redis_prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        **double.urls.as_env(),
        "ARTIST_DESKTOP_DATA_DIR": str(data_dir),
        "ARTIST_DESKTOP_REDIS_URL": redis_url,
        "ARTIST_DESKTOP_REDIS_PREFIX": redis_prefix,
    }


def _countries(db: Path) -> list[object]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return [row[0] for row in connection.execute("SELECT country FROM artists")]


def test_two_processes_importing_fifty_artists_each_send_nothing_above_the_quotas(
    tmp_path: Path, redis_url: str, redis_prefix: str
) -> None:
    double = ApiDouble(DoubleConfig(catalog_path=_catalog(2 * ARTISTS_PER_PROCESS, tmp_path / "catalog.json")))
    assert (double.config.deezer_quota, double.config.musicbrainz_rate) == ((50, 5.0), (1, 1.0))
    double.start_in_thread()
    try:
        ids = [artist.spotify_id for artist in double.catalog.artists]
        halves = [ids[:ARTISTS_PER_PROCESS], ids[ARTISTS_PER_PROCESS:]]
        data_dirs = [tmp_path / "first", tmp_path / "second"]
        started = time.monotonic()
        commands = [
            subprocess.Popen(
                [sys.executable, "-m", "artist_desktop", "import", "--json", *half],
                env=_env(double, data_dir, redis_url, redis_prefix),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for half, data_dir in zip(halves, data_dirs, strict=True)
        ]
        outputs = [command.communicate(timeout=180) for command in commands]
        elapsed = time.monotonic() - started
        for command, (out, err) in zip(commands, outputs, strict=True):
            assert command.returncode == 0, err[-2000:]
            assert {row["status"] for row in json.loads(out)} == {"complete"}
        refused = {service: double.rejections(service) for service in (SPOTIFY, DEEZER, MUSICBRAINZ)}
        assert refused == {SPOTIFY: 0, DEEZER: 0, MUSICBRAINZ: 0}
        deezer_requests = double.request_count(DEEZER)
        assert deezer_requests >= 2 * ARTISTS_PER_PROCESS  # a search per artist at least
        # The two together went at the shared pace: no faster than Deezer's 50 per 5 s allows.
        assert elapsed >= 5.0 * (deezer_requests // 50 - 1)
        for data_dir in data_dirs:  # every artist got its MusicBrainz facts, at 1 request/s between both
            countries = _countries(data_dir / "artist-desktop.sqlite3")
            assert len(countries) == ARTISTS_PER_PROCESS and all(countries)
    finally:
        double.stop_thread()
