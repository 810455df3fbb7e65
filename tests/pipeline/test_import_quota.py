"""`artist-desktop import` by id against a Development Mode app: one request per artist, and a quota pause.

The API double runs in the test process (its counters are read here); the commands run as real processes
pointed at it and at the session's Redis, as a user's terminal would run them.
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

from artist_desktop.devtools._catalog import load_catalog
from artist_desktop.devtools.api_double import ApiDouble

IDS = [artist.spotify_id for artist in load_catalog().artists if artist.deezer and artist.musicbrainz]


def _env(double: ApiDouble, data_dir: Path, redis_url: str, redis_prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        **double.urls.as_env(),
        "ARTIST_DESKTOP_DATA_DIR": str(data_dir),
        "ARTIST_DESKTOP_REDIS_URL": redis_url,
        "ARTIST_DESKTOP_REDIS_PREFIX": redis_prefix,
        "ARTIST_DESKTOP_MUSICBRAINZ_RATE": "50",  # the double does not enforce 1/s here; this test is about Spotify
    }


def _import(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "artist_desktop", "import", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return connection.execute(sql).fetchall()


def _pause_recorded(db: Path) -> bool:
    if not db.exists():
        return False
    try:
        return bool(_query(db, "SELECT count(*) FROM service_pauses")[0][0])
    except sqlite3.OperationalError:  # not migrated yet
        return False


def test_thirty_ids_cost_thirty_artist_lookups_and_no_removed_endpoint(
    threaded_double: ApiDouble, isolated_user_env: Path, redis_url: str, redis_prefix: str
) -> None:
    ids = IDS[:30]
    process = _import(_env(threaded_double, isolated_user_env, redis_url, redis_prefix), *ids, "--json")
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, err
    assert {row["status"] for row in json.loads(out)} == {"complete"}
    lookups = sum(threaded_double.request_count("spotify", f"/artists/{spotify_id}") for spotify_id in ids)
    assert lookups == 30
    assert threaded_double.request_count("spotify") == 30, "no search, no top-tracks, no /artists?ids="
    db = isolated_user_env / "artist-desktop.sqlite3"
    with_tracks = _query(db, "SELECT count(DISTINCT artist_id) FROM artist_tracks")[0][0]
    deezer_tracks = _query(db, "SELECT count(*) FROM tracks WHERE deezer_id IS NOT NULL AND image_url IS NOT NULL")
    assert with_tracks == 30 and deezer_tracks[0][0] > 0
    assert _query(db, "SELECT count(*) FROM media_assets WHERE kind = 'track_art'")[0][0] > 0


def test_a_quota_pause_holds_artists_back_and_they_complete_by_themselves(
    threaded_double: ApiDouble, isolated_user_env: Path, redis_url: str, redis_prefix: str
) -> None:
    """Spotify's daily quota trips after 5 requests (Retry-After 8 s here; hours in life): 12 artists by id all
    complete, none fails, the pause is shown, and a second process started during the pause waits too."""
    threaded_double.set_spotify_quota(5, 8)
    env = _env(threaded_double, isolated_user_env, redis_url, redis_prefix)
    first = _import(env, *IDS[:9], "--json")
    db = isolated_user_env / "artist-desktop.sqlite3"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the quota has tripped and the pause is recorded
        if _pause_recorded(db):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the quota never paused the import")
    second = _import(env, *IDS[9:12], "--json")
    out_first, err_first = first.communicate(timeout=180)
    out_second, err_second = second.communicate(timeout=180)

    assert first.returncode == 0, ([r for r in json.loads(out_first) if r["status"] != "complete"], err_first[-1500:])
    assert second.returncode == 0, (
        [r for r in json.loads(out_second) if r["status"] != "complete"],
        err_second[-1500:],
    )
    rows = json.loads(out_first) + json.loads(out_second)
    assert sorted(row["spotify_id"] for row in rows) == sorted(IDS[:12])
    assert {row["status"] for row in rows} == {"complete"}
    assert "available again at" in err_first
    assert "available again at" in err_second, "the second process says it waits for the pause"
    assert threaded_double.rejections("spotify") >= 1
    statuses = _query(db, "SELECT status, count(*) FROM import_jobs GROUP BY status")
    assert statuses == [("complete", 12)]


def test_no_wait_exits_4_with_the_resume_time_and_keeps_the_artists_queued(
    threaded_double: ApiDouble, isolated_user_env: Path, redis_url: str, redis_prefix: str
) -> None:
    threaded_double.set_spotify_quota(2, 3600)
    process = _import(_env(threaded_double, isolated_user_env, redis_url, redis_prefix), *IDS[:4], "--no-wait")
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 4, err
    assert "Spotify available again at" in err
    db = isolated_user_env / "artist-desktop.sqlite3"
    assert dict(_query(db, "SELECT status, count(*) FROM import_jobs GROUP BY status")) == {"complete": 2, "queued": 2}
    messages = {row[0] for row in _query(db, "SELECT message FROM import_jobs WHERE status = 'queued'")}
    assert all(message.startswith("Waiting for Spotify (resumes ") for message in messages)
