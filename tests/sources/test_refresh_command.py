"""`artist-desktop refresh-deezer` as a user runs it (demo mode: the API double, a SQLite file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ARTIST_DESKTOP_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "-m", "artist_desktop", "--demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_nothing_to_refresh_exits_3_with_the_hint(isolated_user_env: Path) -> None:
    result = _cli(isolated_user_env, "refresh-deezer")
    assert result.returncode == 3
    assert "No artists with a Deezer id — use Find Deezer ids first" in result.stderr
    assert result.stdout == ""


def test_json_on_an_empty_library_still_prints_a_summary(isolated_user_env: Path) -> None:
    result = _cli(isolated_user_env, "refresh-deezer", "--json")
    assert result.returncode == 3
    summary = json.loads(result.stdout)
    assert (summary["total"], summary["updated"], summary["failed"], summary["results"]) == (0, 0, 0, [])
    assert "Find Deezer ids" in summary["message"]


def test_progress_on_a_pipe_is_one_line_per_artist(isolated_user_env: Path) -> None:
    imported = _cli(isolated_user_env, "import", "g9UlPlDpiHCTeOrJ7E8MmZ", "OcRXY5xxvwGmvy8Adm6e8T")
    assert imported.returncode == 0, imported.stderr
    result = _cli(isolated_user_env, "refresh-deezer")
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("[")]
    # One line per artist as each finishes (the order is the finishing order): the count, then the name.
    assert [line.split("] ", 1)[0] for line in progress] == ["[1/2", "[2/2"]
    assert sorted(line.split("] ", 1)[1] for line in progress) == ["Daft Punk", "Radiohead"]


def test_refresh_after_import_prints_the_json_summary(isolated_user_env: Path) -> None:
    imported = _cli(isolated_user_env, "import", "g9UlPlDpiHCTeOrJ7E8MmZ", "OcRXY5xxvwGmvy8Adm6e8T")
    assert imported.returncode == 0, imported.stderr
    result = _cli(isolated_user_env, "refresh-deezer", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["success"] is True
    assert (summary["total"], summary["updated"], summary["failed"]) == (2, 2, 0)
    assert {row["name"] for row in summary["results"]} == {"Daft Punk", "Radiohead"}
    assert all(set(row) == {"artist_id", "name", "success", "fans"} for row in summary["results"])
    assert all(isinstance(row["fans"], int) and row["fans"] > 0 for row in summary["results"])
