"""The API double as a server: thread and loop lifecycles, documented shapes, quotas, images, knobs, CLI."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from artist_desktop.config import load_settings
from artist_desktop.devtools import ApiDouble, DoubleConfig, Fault
from artist_desktop.devtools._png import png_size
from artist_desktop.devtools.api_double import DEEZER, IMAGES, MUSICBRAINZ, SPOTIFY
from artist_desktop.domain import is_spotify_id
from artist_desktop.resources import resource_path

UA = {"User-Agent": "ArtistDesktopTests/1.0 ( tests@example.org )"}


@pytest.fixture
def threaded() -> Iterator[ApiDouble]:
    with ApiDouble(DoubleConfig(deezer_quota=(3, 0.5), spotify_rate=(2, 30.0))) as double:
        yield double


def token(http: httpx.Client, double: ApiDouble) -> str:
    client_id, secret = double.demo_credentials
    answer = http.post(
        f"{double.urls.spotify_accounts_url}/api/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


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


def test_token_endpoint_speaks_the_documented_shapes() -> None:
    with ApiDouble(DoubleConfig(spotify_credentials=("id", "secret"))) as double, httpx.Client() as http:
        url = f"{double.urls.spotify_accounts_url}/api/token"
        wrong = http.post(url, data={"grant_type": "client_credentials"}, auth=("id", "nope"))
        assert (wrong.status_code, wrong.json()) == (
            400,
            {"error": "invalid_client", "error_description": "Invalid client"},
        )
        no_grant = http.post(url, auth=("id", "secret"))
        assert no_grant.json()["error"] == "unsupported_grant_type"
        right = http.post(url, data={"grant_type": "client_credentials"}, auth=("id", "secret"))
        assert right.json()["token_type"] == "Bearer" and right.json()["expires_in"] == 3600
        missing = http.get(f"{double.urls.spotify_api_url}/search", params={"q": "x", "type": "artist"})
        assert missing.status_code == 401
        assert missing.json() == {"error": {"status": 401, "message": "No token provided"}}


def test_spotify_answers_and_errors(threaded: ApiDouble) -> None:
    with httpx.Client() as http:
        bearer = {"Authorization": f"Bearer {token(http, threaded)}"}
        api = threaded.urls.spotify_api_url
        page = http.get(f"{api}/search", params={"q": "daft", "type": "artist", "limit": 1}, headers=bearer).json()
        artists = page["artists"]
        assert artists["total"] == 2 and artists["next"] is not None and artists["previous"] is None
        daft = artists["items"][0]
        assert daft["uri"] == f"spotify:artist:{daft['id']}" and daft["type"] == "artist"
        assert [i["width"] for i in daft["images"]] == [640, 320, 160]  # largest first
        bad = http.get(f"{api}/artists/xyz", headers=bearer)
        assert (bad.status_code, bad.json()["error"]["message"]) == (400, "Invalid base62 id")
        over = http.get(f"{api}/artists/{daft['id']}", headers=bearer)
        assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert threaded.rejections(SPOTIFY) == 1


def test_deezer_enforces_its_quota_in_a_sliding_window(threaded: ApiDouble) -> None:
    url = f"{threaded.urls.deezer_api_url}/artist/1"
    with httpx.Client() as http:
        answers = [http.get(url).json() for _ in range(4)]
        assert [a.get("error", {}).get("code") for a in answers] == [800, 800, 800, 4]
        assert answers[3]["error"] == {"type": "Exception", "message": "Quota limit exceeded", "code": 4}
        time.sleep(0.55)
        assert http.get(url).json()["error"]["code"] == 800  # the window has moved on
    assert threaded.rejections(DEEZER) == 1


def test_injected_faults_run_out_after_the_asked_number(threaded: ApiDouble) -> None:
    artist = next(a for a in threaded.catalog.artists if a.deezer)
    deezer_id = artist.deezer["id"] if artist.deezer else 0
    threaded.inject(DEEZER, deezer_id, Fault.http(500), times=1)
    threaded.inject(DEEZER, deezer_id, Fault.malformed(), times=1)
    with httpx.Client() as http:
        url = f"{threaded.urls.deezer_api_url}/artist/{deezer_id}"
        assert http.get(url).status_code == 500
        with pytest.raises(ValueError):
            http.get(url).json()
        assert http.get(url).json()["name"] == artist.name
    assert threaded.request_count(DEEZER, f"/artist/{deezer_id}") == 3


def test_musicbrainz_wants_a_user_agent_and_answers_503_past_its_rate() -> None:
    with ApiDouble(DoubleConfig(musicbrainz_rate=(1, 1.0))) as double, httpx.Client() as http:
        artist = next(a for a in double.catalog.artists if a.musicbrainz)
        assert artist.musicbrainz is not None
        url = f"{double.urls.musicbrainz_api_url}/artist/{artist.musicbrainz['mbid']}"
        anonymous = http.get(url, params={"fmt": "json"})
        assert anonymous.status_code == 403
        body = http.get(url, params={"fmt": "json"}, headers=UA)
        assert body.status_code == 503 and body.headers["Retry-After"] == "1"
        double.set_rate_limit(MUSICBRAINZ, None)
        facts = http.get(url, params={"fmt": "json"}, headers=UA).json()
        assert facts["life-span"]["begin"] == artist.musicbrainz["life_span"]["begin"]
        assert facts["area"]["iso-3166-1-codes"] == [artist.musicbrainz["country"]]
        unknown = http.get(
            f"{double.urls.musicbrainz_api_url}/url",
            params={"resource": "https://open.spotify.com/artist/0000000000000000000000", "fmt": "json"},
            headers=UA,
        )
        assert (unknown.status_code, unknown.json()) == (404, {"error": "Not Found"})


def test_images_are_real_deterministic_pngs_with_injectable_faults(threaded: ApiDouble) -> None:
    artist = threaded.catalog.artists[0]
    url = f"{threaded.urls.images_url}/{artist.spotify_id}-640.png"
    with httpx.Client() as http:
        first, second = http.get(url), http.get(url)
        assert first.headers["content-type"] == "image/png"
        assert png_size(first.content) == (640, 640) and first.content == second.content
        other = http.get(f"{threaded.urls.images_url}/{threaded.catalog.artists[1].spotify_id}-640.png")
        assert other.content != first.content
        assert http.get(f"{threaded.urls.images_url}/{artist.spotify_id}-641.png").status_code == 404
        threaded.set_image_fault(artist.spotify_id, "not_image")
        broken = http.get(url)
        assert broken.status_code == 200 and png_size(broken.content) is None
        threaded.set_image_fault(artist.spotify_id, "missing")
        assert http.get(url).status_code == 404
    assert threaded.request_count(IMAGES) == 6


def test_latency_slows_every_request() -> None:
    with ApiDouble(DoubleConfig(latency=0.2)) as double:
        started = time.monotonic()
        httpx.get(f"{double.urls.deezer_api_url}/artist/1")
        assert time.monotonic() - started >= 0.2


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
        [sys.executable, "-m", "artist_desktop.devtools.api_double", "--port", "0", "--deezer-quota", "off"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("API double listening on http://127.0.0.1:")
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
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert "API double stopped" in process.stdout.read()
        assert process.stderr is not None and "Warning" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
