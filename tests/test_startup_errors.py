"""Start-up faults people meet end in one sentence naming the file or host and what to do: exit 1 (2 for bad
settings), no traceback on stderr (it goes to the log file, whose path is printed)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SOME_ARTIST = "4Z8W4fKeB5YxbusRsdQVPb"


def _command(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "artist_desktop", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
        env={**os.environ, **env},
    )


def _one_clear_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_database_locked_by_another_program(isolated_user_env: Path) -> None:
    path = isolated_user_env / "artist-desktop.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE held (x)")
    holder.execute("BEGIN EXCLUSIVE")  # as DB Browser holds it while a change is not written
    try:
        result = _command("import", SOME_ARTIST)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    line = _one_clear_line(result, 1, str(path), "locked by another program")
    assert "artist-desktop.log" in line


def test_a_damaged_database_file(isolated_user_env: Path) -> None:
    path = isolated_user_env / "artist-desktop.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not SQLite, it is a text file that took the database's name" * 100)
    result = _command("refresh-deezer")
    _one_clear_line(result, 1, str(path), "damaged or is not a database")


def test_a_redis_port_nobody_listens_on(isolated_user_env: Path) -> None:
    port = _closed_port()
    result = _command("import", SOME_ARTIST, ARTIST_DESKTOP_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    _one_clear_line(result, 1, f"Redis at redis://127.0.0.1:{port}", "does not answer")


def test_a_postgresql_server_that_does_not_answer(isolated_user_env: Path) -> None:
    port = _closed_port()
    result = _command(
        "import", SOME_ARTIST, ARTIST_DESKTOP_DATABASE_URL=f"postgresql://someone@127.0.0.1:{port}/artists"
    )
    _one_clear_line(result, 1, f"PostgreSQL at 127.0.0.1:{port} does not answer", "DATABASE_URL")


@pytest.mark.parametrize(
    "content",
    ["concurrency = [not toml", "concurrency = -3\n"],
    ids=["not TOML", "out of range"],
)
def test_a_bad_settings_file_is_a_usage_error(isolated_user_env: Path, content: str) -> None:
    settings_file = Path(os.environ["ARTIST_DESKTOP_SETTINGS_FILE"])
    settings_file.parent.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(content, encoding="utf-8")
    result = _command("import", SOME_ARTIST)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert str(settings_file) in result.stderr or "concurrency" in result.stderr


def test_import_json_when_the_database_cannot_be_reached_still_prints_a_summary(isolated_user_env: Path) -> None:
    """Issue 15 item 7: a script gets its JSON summary whatever stops the import, here before anything started."""
    port = _closed_port()
    result = _command(
        "import", SOME_ARTIST, "--json", ARTIST_DESKTOP_DATABASE_URL=f"postgresql://someone@127.0.0.1:{port}/artists"
    )
    line = _one_clear_line(result, 1, f"127.0.0.1:{port}")
    [row] = json.loads(result.stdout)
    assert (row["spotify_id"], row["status"], row["stage"]) == (SOME_ARTIST, "error", "INIT")
    assert row["error"] and row["error"] in line
