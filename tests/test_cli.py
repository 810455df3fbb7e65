"""The command line as a user meets it: version, help, settings errors."""

from __future__ import annotations

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
    assert any("Daft Punk" in line and "followers" in line for line in lines), lines
    assert all("daft" in line.lower() for line in lines)


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
