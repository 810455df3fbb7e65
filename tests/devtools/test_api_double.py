"""The API double as a server: thread and loop lifecycles, URLs, the catalog, the public names, the CLI."""

from __future__ import annotations

import base64
import importlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from artist_desktop.config import load_settings
from artist_desktop.devtools import ApiDouble, DoubleConfig
from artist_desktop.domain import is_spotify_id
from artist_desktop.resources import resource_path

#: What other code imports from the entry point (tests, bench, the app's --demo).
PUBLIC_NAMES = [
    "ApiDouble",
    "DoubleConfig",
    "DoubleUrls",
    "Fault",
    "REMOVE",
    "SPOTIFY",
    "SPOTIFY_ACCOUNTS",
    "DEEZER",
    "MUSICBRAINZ",
    "IMAGES",
    "SERVICES",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "IMAGE_SIZES",
    "main",
]
SERVICE_MODULES = ("double_core", "double_spotify", "double_deezer", "double_musicbrainz", "double_images")


@pytest.fixture
def threaded() -> Iterator[ApiDouble]:
    with ApiDouble(DoubleConfig(deezer_quota=(3, 0.5), spotify_rate=(2, 30.0))) as double:
        yield double


def test_the_entry_point_exports_what_others_import() -> None:
    module = importlib.import_module("artist_desktop.devtools.api_double")
    assert set(PUBLIC_NAMES) <= set(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
    for name in SERVICE_MODULES:
        service = importlib.import_module(f"artist_desktop.devtools.{name}")
        assert service.__doc__ and service.__doc__.splitlines()[0].strip()
        assert all(hasattr(service, exported) for exported in service.__all__)


def test_the_thread_form_serves_on_a_free_port_and_stops_cleanly() -> None:
    sigint_before = signal.getsignal(signal.SIGINT)
    double = ApiDouble()
    urls = double.start_in_thread()
    try:
        assert double.port > 0
        assert urls.base_url == f"http://127.0.0.1:{double.port}"
        health = httpx.get(f"{urls.base_url}/health")
        assert health.json() == {"status": "ok", "artists": len(double.catalog.artists)}
        assert signal.getsignal(signal.SIGINT) is sigint_before  # uvicorn did not grab the signals
    finally:
        double.stop_thread()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{urls.base_url}/health")


def test_a_busy_port_is_reported_by_start_in_thread() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        double = ApiDouble(DoubleConfig(port=taken.getsockname()[1]))
        with pytest.raises(OSError):
            double.start_in_thread()


async def test_the_loop_form_runs_on_the_current_loop() -> None:
    async with ApiDouble() as double, httpx.AsyncClient() as http:
        answer = await http.get(f"{double.urls.deezer_api_url}/search/artist", params={"q": "daft"})
    assert "Daft Punk" in [a["name"] for a in answer.json()["data"]]


def test_urls_configure_the_app(threaded: ApiDouble) -> None:
    settings = load_settings(**threaded.urls.as_settings())
    assert settings.spotify_api_url == threaded.urls.spotify_api_url
    assert settings.deezer_api_url == threaded.urls.deezer_api_url
    assert settings.musicbrainz_api_url == threaded.urls.musicbrainz_api_url
    assert settings.spotify_accounts_url == threaded.urls.spotify_accounts_url
    assert settings.has_spotify_credentials
    assert threaded.urls.as_env()["ARTIST_DESKTOP_DEEZER_API_URL"] == threaded.urls.deezer_api_url


def test_the_catalog_is_complete_and_consistent() -> None:
    double = ApiDouble()
    artists = double.catalog.artists
    assert len(artists) >= 40
    assert len({a.spotify_id for a in artists}) == len(artists)
    assert all(is_spotify_id(a.spotify_id) for a in artists)
    assert len([a for a in artists if "daft" in a.name.lower()]) >= 2
    assert all(3 <= len(a.top_tracks) <= 10 for a in artists)
    assert all(is_spotify_id(t.id) and is_spotify_id(t.album_id) for a in artists for t in a.top_tracks)
    with_mb = [a.musicbrainz for a in artists if a.musicbrainz]
    assert len(with_mb) >= 40 and all(uuid.UUID(mb["mbid"]) for mb in with_mb)
    assert {mb["type"] for mb in with_mb} >= {"Person", "Group"}
    deezer_ids = [a.deezer["id"] for a in artists if a.deezer] + [d["id"] for d in double.catalog.deezer_only]
    assert len(deezer_ids) == len(set(deezer_ids)) >= 40


def test_resource_path_prefers_a_pyinstaller_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resource_path("catalog.json").name == "catalog.json"
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / "catalog.json").write_text("{}")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resource_path("catalog.json") == tmp_path / "resources" / "catalog.json"
    with pytest.raises(FileNotFoundError, match=r"resource nothing\.json not found; looked in"):
        resource_path("nothing.json")


def test_the_module_runs_standalone_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "artist_desktop.devtools.api_double",
            "--port",
            "0",
            "--deezer-quota",
            "off",
            "--spotify-quota",
            "1/3600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("API double listening on http://127.0.0.1:")
        assert "Spotify development mode, quota 1 requests then 3600 s" in first
        base = first.split()[4]
        env_lines = dict(process.stdout.readline().strip().split("=", 1) for _ in range(6))
        assert env_lines["ARTIST_DESKTOP_DEEZER_API_URL"] == f"{base}/deezer"
        credentials = base64.b64encode(b"demo-client-id:demo-client-secret").decode()
        answer = httpx.post(
            f"{base}/spotify-accounts/api/token",
            content=b"grant_type=client_credentials",
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert answer.status_code == 200
        bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        search = f"{base}/spotify/v1/search?q=daft&type=artist&limit=20"
        assert httpx.get(search, headers=bearer).json()["error"]["message"] == "Invalid limit"  # development mode
        over = httpx.get(search, headers=bearer)
        assert (over.status_code, over.headers["Retry-After"]) == (429, "3600")  # the quota of 1 is used
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "API double stopped" in process.stdout.read()
        assert process.stderr is not None and "Warning" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_command_line_takes_the_spotify_profile(capsys: pytest.CaptureFixture[str]) -> None:
    from artist_desktop.devtools.api_double import main

    with pytest.raises(SystemExit):
        main(["--spotify-profile", "grandfathered"])
    assert "invalid choice: 'grandfathered'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--spotify-quota", "many"])
    assert "bad rate" in capsys.readouterr().err
