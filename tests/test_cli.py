"""The command line as a user meets it: version, help, settings errors."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from artist_desktop import __version__
from artist_desktop.cli import main


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"Artist Desktop {__version__}"


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "search" in result.output
    assert "--demo" in result.output


def test_bad_setting_is_a_usage_error_naming_it(monkeypatch: object) -> None:
    import os

    os.environ["ARTIST_DESKTOP_CONCURRENCY"] = "-3"
    try:
        result = CliRunner().invoke(main, ["search", "daft"])
    finally:
        del os.environ["ARTIST_DESKTOP_CONCURRENCY"]
    assert result.exit_code == 2
    assert "ARTIST_DESKTOP_CONCURRENCY" in result.output
    assert "between 1 and 64" in result.output


def test_demo_search_prints_matching_sample_artists(isolated_user_env: object) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "artist_desktop", "--demo", "search", "daft"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # Development Mode (the demo's default, like every new Spotify app): genres, and no followers to show.
    assert any("Daft Punk" in line and "french house" in line for line in lines), lines
    assert not any("followers" in line for line in lines), lines
    assert all("daft" in line.lower() for line in lines)


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artist_desktop", "--demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_demo_search_defaults_to_pages_of_ten_and_says_how_to_get_more(isolated_user_env: object) -> None:
    first = _demo("search", "a", "--json")
    assert first.returncode == 0, first.stderr
    page = json.loads(first.stdout)
    assert len(page["items"]) <= 10 and page["total"] > 10
    assert page["next_offset"] == 10, "a null entry in the page still counts for the next offset"
    second = _demo("search", "a", "--offset", "10", "--json")
    assert second.returncode == 0, second.stderr
    ids = [item["spotify_id"] for item in page["items"]] + [
        item["spotify_id"] for item in json.loads(second.stdout)["items"]
    ]
    assert len(ids) == len(set(ids)), "Load more neither repeats nor skips"
    wide = _demo("search", "a", "--limit", "50")
    assert wide.returncode == 0, wide.stderr
    assert "Invalid limit" not in wide.stderr + wide.stdout


def test_demo_search_for_a_pasted_link_shows_that_artist(isolated_user_env: object) -> None:
    result = _demo("search", " https://open.spotify.com/intl-de/artist/g9UlPlDpiHCTeOrJ7E8MmZ?si=abc ")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("g9UlPlDpiHCTeOrJ7E8MmZ  Daft Punk")


def test_empty_search_is_a_usage_error_without_a_traceback(isolated_user_env: object) -> None:
    result = _demo("search", "  ")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "empty" in result.stderr


def test_demo_search_json(isolated_user_env: object) -> None:
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "artist_desktop", "--demo", "search", "daft", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    page = json.loads(result.stdout)
    assert page["total"] >= 2
    assert {"spotify_id", "name", "followers", "popularity", "genres", "url"} <= set(page["items"][0])
