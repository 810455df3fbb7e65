"""The command line as a user meets it: version, help, settings errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


async def _seed_library(data_dir: Path) -> None:
    """Two artists with daily figures in the SQLite database the command will read (its settings' default)."""
    from artist_desktop.domain import ArtistRecord
    from artist_desktop.store import open_database, repository

    database = await open_database(f"sqlite:///{data_dir / 'artist-desktop.sqlite3'}")
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    try:
        async with database.session() as session, session.begin():
            for n, name in enumerate(["Daft Punk", 'Björk, "Homogenic" era']):
                artist = await repository.upsert_artist(session, ArtistRecord(name=name, slug=f"artist-{n}"))
                await repository.upsert_platform_id(session, artist, "spotify", f"{n:022d}")
                if n == 0:
                    await repository.upsert_platform_id(session, artist, "deezer", "27")
                for days_ago in range(30):
                    at = today - timedelta(days=days_ago)
                    await repository.upsert_metric(
                        session, artist, "deezer", "followers", 1000 * (n + 1) - days_ago, at
                    )
                await repository.upsert_metric(session, artist, "spotify", "popularity", 70 + n, today)
    finally:
        await database.dispose()


def _library_rows(data_dir: Path) -> list[dict[str, object]]:
    """The table rows straight from the store, to compare with what the command printed."""
    import asyncio

    from artist_desktop.export import table_rows
    from artist_desktop.store import library, open_database

    async def read() -> list[dict[str, object]]:
        database = await open_database(f"sqlite:///{data_dir / 'artist-desktop.sqlite3'}")
        try:
            async with database.session() as session:
                return table_rows(await library.library_artists(session))
        finally:
            await database.dispose()

    return asyncio.run(read())


def _export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artist_desktop", "export", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_export_csv_parses_and_matches_the_library(isolated_user_env: Path) -> None:
    import asyncio

    asyncio.run(_seed_library(isolated_user_env))
    result = _export("--format", "csv")
    assert result.returncode == 0, result.stderr
    parsed = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = _library_rows(isolated_user_env)
    assert [row["name"] for row in parsed] == ['Björk, "Homogenic" era', "Daft Punk"]
    assert parsed == [{key: "" if value is None else str(value) for key, value in row.items()} for row in expected]
    daft = parsed[1]
    assert (daft["deezer_id"], daft["deezer_followers"], daft["deezer_followers_change_7d"]) == ("27", "1000", "7")
    assert daft["deezer_followers_day"] == datetime.now(UTC).date().isoformat()
    assert daft["deezer_followers_change_28d_pct"] == str(round(28 / 972 * 100, 2))


def test_export_json_of_chosen_metrics_and_the_daily_series(isolated_user_env: Path) -> None:
    import asyncio

    asyncio.run(_seed_library(isolated_user_env))
    table = _export("--format", "json", "--metrics", "spotify:popularity")
    assert table.returncode == 0, table.stderr
    rows = json.loads(table.stdout)
    assert [(row["name"], row["spotify_popularity"]) for row in rows] == [
        ('Björk, "Homogenic" era', 71),
        ("Daft Punk", 70),
    ]
    assert "deezer_followers" not in rows[0]

    series = _export("--days", "3", "--metrics", "deezer:followers", "--format", "json")
    assert series.returncode == 0, series.stderr
    points = json.loads(series.stdout)
    assert [list(point) for point in points[:1]] == [["name", "spotify_id", "platform", "metric", "day", "value"]]
    assert [(p["name"], p["value"]) for p in points] == [
        ('Björk, "Homogenic" era', value) for value in (1998, 1999, 2000)
    ] + [("Daft Punk", value) for value in (998, 999, 1000)]


def test_export_refuses_an_unknown_metric_and_prints_only_a_header_for_an_empty_library(
    isolated_user_env: Path,
) -> None:
    bad = _export("--metrics", "deezer:fans")
    assert bad.returncode == 2
    assert "'deezer:fans' is not a metric" in bad.stderr and "Traceback" not in bad.stderr
    empty = _export("--days", "7")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == "name,spotify_id,platform,metric,day,value\n"
