"""`artist-desktop import` as a user runs it: bad ids, JSON summary, and a crash in the middle of a batch."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from artist_desktop.devtools._catalog import load_catalog
from artist_desktop.devtools.api_double import ApiDouble


def _run_import(
    data_dir: Path, *args: str, timeout: float = 120, demo: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **(env or {}), ARTIST_DESKTOP_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "artist_desktop", *(["--demo"] if demo else []), "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
        return connection.execute(sql).fetchall()


def test_bad_ids_are_all_named_and_nothing_starts(isolated_user_env: Path) -> None:
    result = _run_import(isolated_user_env, "g9UlPlDpiHCTeOrJ7E8MmZ", "nope", "also-bad!")
    assert result.returncode == 2
    assert "'nope'" in result.stderr and "'also-bad!'" in result.stderr
    assert not (isolated_user_env / "artist-desktop.sqlite3").exists()


def test_json_summary_and_exit_code(isolated_user_env: Path) -> None:
    daft = "g9UlPlDpiHCTeOrJ7E8MmZ"
    unknown = "0000000000000000000000"
    result = _run_import(isolated_user_env, daft, unknown, "--json")
    assert result.returncode == 1, result.stderr
    rows = {row["spotify_id"]: row for row in json.loads(result.stdout)}
    assert rows[daft] == {
        "spotify_id": daft,
        "name": "Daft Punk",
        "status": "complete",
        "stage": "COMPLETE",
        "error": None,
    }
    assert rows[unknown]["status"] == "error"
    assert rows[unknown]["stage"] == "METADATA"
    assert rows[unknown]["error"] == f"No Spotify artist has the id {unknown}: check the link"
    assert rows[unknown]["name"] == ""  # no name is known: never the id in its place


def test_sigkill_mid_batch_then_rerun_completes_everything_once(
    isolated_user_env: Path, threaded_double: ApiDouble
) -> None:
    ids = [artist.spotify_id for artist in load_catalog().artists[:30]]
    assert len(ids) == 30
    db = isolated_user_env / "artist-desktop.sqlite3"
    env = dict(os.environ, ARTIST_DESKTOP_DATA_DIR=str(isolated_user_env))
    first = subprocess.Popen(
        [sys.executable, "-m", "artist_desktop", "--demo", "import", *ids],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and first.poll() is None:
            if db.exists():
                try:
                    done = _query(db, "select count(*) from import_jobs where status = 'complete'")[0][0]  # type: ignore[assignment]
                except sqlite3.OperationalError:
                    done = 0
                if done >= 3:
                    break
            time.sleep(0.02)
        assert first.poll() is None, "the batch ended before it could be killed"
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    statuses = dict(_query(db, "select status, count(*) from import_jobs group by status"))
    assert statuses.get("complete", 0) < 30, statuses
    finished = {str(row[0]) for row in _query(db, "select spotify_id from import_jobs where status = 'complete'")}

    # The rerun asks the double (the same bundled catalog) only for the artists the kill left unfinished.
    rerun_env = {**threaded_double.urls.as_env(), "ARTIST_DESKTOP_MUSICBRAINZ_RATE": "100"}
    second = _run_import(isolated_user_env, *ids, "--json", demo=False, env=rerun_env)
    assert second.returncode == 0, second.stderr
    rows = json.loads(second.stdout)
    assert [row["spotify_id"] for row in rows] == ids
    assert {row["spotify_id"] for row in rows if row["status"] == "skipped"} == finished
    assert {row["status"] for row in rows if row["spotify_id"] not in finished} == {"complete"}
    fetched = {i for i in ids if threaded_double.request_count("spotify", f"/artists/{i}")}
    assert fetched == set(ids) - finished
    # (fewer searches when one was saved but killed before its job closed: a stored Deezer id is asked directly)
    assert threaded_double.request_count("deezer", prefix="/search") <= len(ids) - len(finished)

    # --refresh imports them again (one more attempt each in the ledger).
    attempts = "select spotify_id, attempts from import_jobs"
    before = {str(row[0]): row[1] for row in _query(db, attempts)}
    third = _run_import(isolated_user_env, *ids[:3], "--json", "--refresh", demo=False, env=rerun_env)
    assert third.returncode == 0, third.stderr
    assert {row["status"] for row in json.loads(third.stdout)} == {"complete"}
    after = {str(row[0]): row[1] for row in _query(db, attempts)}
    assert [after[i] - before[i] for i in ids] == [1] * 3 + [0] * (len(ids) - 3)  # type: ignore[operator]

    assert _query(db, "select count(*) from artists")[0][0] == 30
    for table, key in (
        ("artist_platform_ids", "platform, platform_id"),
        ("artist_metrics", "artist_id, platform, metric_type, day"),
        ("tracks", "spotify_id, deezer_id"),
        ("artist_tracks", "artist_id, track_id"),
    ):
        duplicates = _query(db, f"select {key}, count(*) c from {table} group by {key} having c > 1")
        assert duplicates == [], (table, duplicates)
    assert _query(db, "select count(*) from import_jobs where status != 'complete'")[0][0] == 0


def test_links_and_uris_as_people_paste_them_import(isolated_user_env: Path) -> None:
    daft, second = "g9UlPlDpiHCTeOrJ7E8MmZ", load_catalog().artists[1].spotify_id
    listing = isolated_user_env.parent / "artists.csv"
    listing.write_text(f"spotify,name\nspotify:artist:{second},x\n# a comment\n\n", encoding="utf-8")
    result = _run_import(
        isolated_user_env, f"https://open.spotify.com/intl-de/artist/{daft}?si=abc", "--file", str(listing), "--json"
    )
    assert result.returncode == 0, result.stderr
    assert [row["spotify_id"] for row in json.loads(result.stdout)] == [daft, second]


def test_a_file_with_bad_lines_names_each_and_starts_nothing(isolated_user_env: Path) -> None:
    listing = isolated_user_env.parent / "artists.txt"
    listing.write_text("g9UlPlDpiHCTeOrJ7E8MmZ\nhttps://open.spotify.com/track/g9UlPlDpiHCTeOrJ7E8MmZ\nnope\n")
    result = _run_import(isolated_user_env, "--file", str(listing))
    assert result.returncode == 2
    assert "open.spotify.com/track" in result.stderr and "'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (isolated_user_env / "artist-desktop.sqlite3").exists()
