"""`artist-desktop alerts`: the stored alerts as text or JSON, --since, dismissed ones left out."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from artist_desktop.domain import ArtistRecord
from artist_desktop.sources.alerts import AlertRule, detect_alerts
from artist_desktop.store import alerts, open_database, repository

TODAY = datetime.now(UTC).date()


def jump_series(days: int = 50, jump_at: int = 40, base: float = 10_000, jump: float = 1.6) -> list[float]:
    values, level = [], base
    for n in range(days):
        level += 10 + (n * 7) % 5
        if n == jump_at:
            level *= jump
        values.append(level)
    return values


async def seed_alerts(data_dir: Path) -> list[int]:
    """Three artists in the command's default SQLite database, each with one alerting day (30, 20 and 10 days
    ago); the middle one is dismissed. Returns the alert ids, newest day first."""
    database = await open_database(f"sqlite:///{data_dir / 'artist-desktop.sqlite3'}")
    try:
        first = TODAY - timedelta(days=49)
        async with database.session() as session, session.begin():
            for n, (name, jump_at) in enumerate([("Alpha", 19), ("Beta", 29), ("Gamma", 39)]):
                artist = await repository.upsert_artist(session, ArtistRecord(name=name, slug=name.lower()))
                await repository.upsert_platform_id(session, artist, "spotify", f"{n:022d}")
                for offset, value in enumerate(jump_series(jump_at=jump_at)):
                    observed = datetime.combine(first + timedelta(days=offset), datetime.min.time(), tzinfo=UTC)
                    await repository.upsert_metric(session, artist, "deezer", "followers", value, observed)
        detection = await detect_alerts(database, AlertRule())
        ids = [alert.alert_id for alert in detection.new]
        async with database.session() as session, session.begin():
            await alerts.dismiss(session, [ids[1]])
        return ids
    finally:
        await database.dispose()


def run_alerts(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artist_desktop", "alerts", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_alerts_json_lists_the_undismissed_alerts_newest_first(isolated_user_env: Path) -> None:
    ids = asyncio.run(seed_alerts(isolated_user_env))
    assert len(ids) == 3

    result = run_alerts("--json")

    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [(a["id"], a["artist"], a["platform"], a["metric"]) for a in listed] == [
        (ids[0], "Gamma", "deezer", "followers"),
        (ids[2], "Alpha", "deezer", "followers"),
    ]
    gamma = listed[0]
    assert date.fromisoformat(gamma["day"]) == TODAY - timedelta(days=10)
    assert 59 < gamma["change_percent"] < 61 and gamma["score"] > 4 and gamma["dismissed"] is False


def test_alerts_since_and_text_output(isolated_user_env: Path) -> None:
    asyncio.run(seed_alerts(isolated_user_env))
    since = (TODAY - timedelta(days=15)).isoformat()

    result = run_alerts("--since", since)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and "Gamma" in lines[0] and "deezer followers" in lines[0] and "%" in lines[0]


def test_alerts_on_an_empty_library_says_so(isolated_user_env: Path) -> None:
    result = run_alerts("--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert run_alerts().stderr.strip() == "No alerts."
