"""Identity (issue 16): a Deezer id is stored only when sure, an id another artist holds never fails STORE, names
of symbols only are matched as written, and a Spotify id is checked once where it enters.

The app's own clients against the API double serving the identity catalog (the bundled one with two "Nirvana"s on
Spotify and Deezer, and ``!!!``, ``+/-``, ``🍓``, ``†††``), the session's Redis and a real SQLite file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pipeline_helpers import import_and_follow
from sqlalchemy import select

from artist_desktop.devtools._catalog import Catalog, CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble, DoubleConfig, SpotifyProfile
from artist_desktop.devtools.generated_catalog import FAMOUS_NIRVANA_DEEZER, identity_catalog
from artist_desktop.domain import ImportRequest, Platform, ProgressUpdate, Stage
from artist_desktop.pipeline.stages import ArtistImport, Reporter, StageDeps, TopTrack, stage_store
from artist_desktop.services.deezer import DeezerArtist
from artist_desktop.services.musicbrainz import MusicBrainzArtist
from artist_desktop.services.spotify import SpotifyArtist
from artist_desktop.store import Database, models, repository

AMBIGUOUS = "2 Deezer artists named Nirvana: set one by hand"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return identity_catalog()


def named(catalog: Catalog, name: str) -> list[CatalogArtist]:
    return [artist for artist in catalog.artists if artist.name == name]


@pytest.fixture(scope="module")
def nirvanas(catalog: Catalog) -> tuple[CatalogArtist, CatalogArtist]:
    """The famous band (11 M followers, Deezer 415 with 9.8 M fans) and the small one (9 K followers)."""
    famous, small = sorted(named(catalog, "Nirvana"), key=lambda artist: -(artist.followers or 0))
    assert famous.deezer is not None and famous.deezer["id"] == FAMOUS_NIRVANA_DEEZER["id"] == 415
    assert small.deezer is not None and small.deezer["id"] != 415 and (small.followers or 0) < 10_000
    return famous, small


Start = Callable[[SpotifyProfile], Any]


@pytest.fixture
async def start(
    catalog: Catalog,
    redis_url: str,
    redis_prefix: str,
    fast_clients: Callable[..., Any],
    double_settings: Callable[..., Any],
) -> AsyncIterator[Start]:
    """``await start(profile)``: the double on the identity catalog with that Spotify profile ("extended": artists
    come with their followers; "development": without), and the runtime pointed at it."""
    from artist_desktop.runtime import Runtime

    opened: list[tuple[ApiDouble, Runtime]] = []

    async def open_app(profile: SpotifyProfile) -> Runtime:
        double = ApiDouble(DoubleConfig(musicbrainz_rate=None, spotify_profile=profile), catalog=catalog)
        await double.start()
        settings = double_settings(double, redis_url, redis_prefix, concurrency=4)
        runtime = Runtime(settings, clients=fast_clients(settings))
        opened.append((double, runtime))
        await runtime.start()
        return runtime

    try:
        yield open_app
    finally:
        for double, runtime in reversed(opened):
            await runtime.stop()
            await double.stop()


async def import_all(app: Any, artists: Sequence[CatalogArtist]) -> dict[str, ProgressUpdate]:
    """Import ``artists``; every one must complete. Returns each artist's last progress update."""
    seen = await import_and_follow(app, [ImportRequest(a.spotify_id, a.name) for a in artists])
    finals = {a.spotify_id: seen[a.spotify_id][-1] for a in artists}
    assert all(final.stage is Stage.COMPLETE for final in finals.values())
    return finals


async def stored(database: Database, spotify_id: str) -> dict[str, Any]:
    """What the library holds for one artist: its ids, its metrics (platform, metric, value) and completeness."""
    async with database.session() as session:
        artist_id = await repository.find_artist_id_by_platform(session, Platform.SPOTIFY, spotify_id)
        assert artist_id is not None
        ids = await session.execute(
            select(models.ArtistPlatformId.platform, models.ArtistPlatformId.platform_id).where(
                models.ArtistPlatformId.artist_id == artist_id
            )
        )
        metrics = await session.execute(
            select(models.ArtistMetric.platform, models.ArtistMetric.metric_type, models.ArtistMetric.value).where(
                models.ArtistMetric.artist_id == artist_id
            )
        )
        complete = await session.scalar(select(models.Artist.is_complete).where(models.Artist.id == artist_id))
        return {
            "id": artist_id,
            "ids": dict(ids.tuples().all()),
            "metrics": sorted(metrics.tuples().all()),
            "complete": complete,
        }


def deezer_metrics(row: dict[str, Any]) -> dict[str, float]:
    return {metric: value for platform, metric, value in row["metrics"] if platform == "deezer"}


async def test_importing_both_nirvanas_keeps_the_famous_bands_deezer_id_and_warns_on_the_other(
    start: Start, nirvanas: tuple[CatalogArtist, CatalogArtist]
) -> None:
    """Acceptance: both complete; the famous band keeps its Deezer id and fans; the other has no Deezer id and a
    warning; retrying changes nothing. (Spotify gives followers here: the tie-breaker settles the famous band.)"""
    app = await start("extended")
    famous, small = nirvanas

    finals = await import_all(app, [famous, small])

    assert finals[famous.spotify_id].details == ""
    assert finals[small.spotify_id].details == AMBIGUOUS
    first = {artist.spotify_id: await stored(app.database, artist.spotify_id) for artist in (famous, small)}
    big, other = first[famous.spotify_id], first[small.spotify_id]
    assert big["ids"]["deezer"] == "415" and deezer_metrics(big)["followers"] == 9_812_377 and big["complete"]
    assert "deezer" not in other["ids"] and deezer_metrics(other) == {} and not other["complete"]
    assert "musicbrainz" in other["ids"] and ("spotify", "followers", small.followers) in other["metrics"]

    again = await import_all(app, [small, famous])  # a retry, in the other order

    assert {k: v.details for k, v in again.items()} == {k: v.details for k, v in finals.items()}
    assert {artist.spotify_id: await stored(app.database, artist.spotify_id) for artist in (famous, small)} == first


async def test_without_followers_neither_nirvana_is_guessed_and_an_id_set_by_hand_is_kept(
    start: Start, nirvanas: tuple[CatalogArtist, CatalogArtist]
) -> None:
    """A Development Mode app gets no followers: two namesakes are a guess for both; the warning says to set one
    by hand, and once set (Library -> "Set Deezer id…") a re-import keeps it and stores its fans."""
    app = await start("development")
    famous, small = nirvanas

    finals = await import_all(app, [famous, small])
    assert {final.details for final in finals.values()} == {AMBIGUOUS}
    for artist in (famous, small):
        assert "deezer" not in (await stored(app.database, artist.spotify_id))["ids"]

    big = await stored(app.database, famous.spotify_id)
    await app.application.set_platform_id(big["id"], Platform.DEEZER.value, "https://www.deezer.com/artist/415")
    finals = await import_all(app, [famous, small])
    assert finals[famous.spotify_id].details == "" and finals[small.spotify_id].details == AMBIGUOUS
    big = await stored(app.database, famous.spotify_id)
    assert big["ids"]["deezer"] == "415" and deezer_metrics(big) == {"albums": 27, "followers": 9_812_377}
    assert "deezer" not in (await stored(app.database, small.spotify_id))["ids"]


async def test_a_deezer_id_another_artist_holds_is_left_out_and_the_import_completes(
    start: Start, nirvanas: tuple[CatalogArtist, CatalogArtist], add_library_artist: Callable[..., Any]
) -> None:
    """The issue's failing input: Deezer id 415 already belongs to artist 1. The import completes without it,
    with a warning, and a retry does the same (it used to fail STORE, and fail again)."""
    app = await start("extended")
    famous, _ = nirvanas
    owner = await add_library_artist(app.database, "Nirvana (old entry)", 415)
    assert owner == 1

    for _attempt in range(2):
        finals = await import_all(app, [famous])
        assert finals[famous.spotify_id].details == (
            "Deezer id 415 already belongs to Nirvana (old entry) in the library: not stored"
        )
        row = await stored(app.database, famous.spotify_id)
        assert "deezer" not in row["ids"] and deezer_metrics(row) == {} and not row["complete"]
    async with app.database.session() as session:
        assert await repository.find_artist_id_by_platform(session, Platform.DEEZER, "415") == owner


async def test_names_of_symbols_only_are_searched_and_a_missing_match_is_said(start: Start, catalog: Catalog) -> None:
    """``!!!``, ``+/-`` and ``🍓`` normalised to "" and Deezer was never asked, silently. Now they find their
    Deezer artist under that exact name, and ``†††``, which Deezer lacks, says "no Deezer match"."""
    app = await start("development")
    symbols = [named(catalog, name)[0] for name in ("!!!", "+/-", "🍓", "†††")]

    finals = await import_all(app, symbols)

    for artist in symbols[:3]:
        assert artist.deezer is not None
        row = await stored(app.database, artist.spotify_id)
        assert finals[artist.spotify_id].details == "", artist.name
        assert row["ids"]["deezer"] == str(artist.deezer["id"]), artist.name
        assert deezer_metrics(row)["followers"] == artist.deezer["nb_fan"], artist.name
    crosses = symbols[3]
    assert finals[crosses.spotify_id].details == "no Deezer match for †††"
    row = await stored(app.database, crosses.spotify_id)
    assert "deezer" not in row["ids"] and not row["complete"]


class _SilentReporter:
    async def report(self, stage: Stage, fraction: float, message: str, payload: Any = None) -> None:
        return None


async def test_store_leaves_out_optional_ids_other_artists_hold_and_completes(
    database: Database, add_library_artist: Callable[..., Any]
) -> None:
    """STORE itself (a match made while another import took the id): the Deezer id, its fans and the Deezer top
    tracks are left out, the MusicBrainz id too (its facts stay), each with a warning; nothing fails."""
    holder = await add_library_artist(database, "Nirvana", 415)
    mbid = "5b11f4ce-a62d-471e-81fc-a69a8278c7da"
    async with database.session() as session, session.begin():
        await repository.upsert_platform_id(session, holder, Platform.MUSICBRAINZ, mbid)
    spotify_id = "m9KMyF5rOcbqNrzcOY8uCD"
    job = ArtistImport(spotify_id, batch_ts=datetime(2026, 11, 3, 8, 0, tzinfo=UTC), name="Nirvana")
    job.spotify = SpotifyArtist(spotify_id, "Nirvana", f"https://open.spotify.com/artist/{spotify_id}", followers=9_140)
    job.deezer = DeezerArtist(415, "Nirvana", nb_fan=9_812_377, nb_album=27)
    job.musicbrainz = MusicBrainzArtist(mbid, "Nirvana", type="Group", country="GB")
    job.tracks = [
        TopTrack("Smells Like Teen Spirit", 301_000, "Nevermind", "https://img/nevermind.png", deezer_id="13791930")
    ]

    await stage_store(job, cast(StageDeps, SimpleNamespace(database=database)), cast(Reporter, _SilentReporter()))

    assert job.warnings == [
        "Deezer id 415 already belongs to Nirvana in the library: not stored",
        f"MusicBrainz id {mbid} already belongs to Nirvana in the library: not stored",
    ]
    assert job.deezer is None and job.tracks == [] and job.artist_id is not None and job.artist_id != holder
    row = await stored(database, spotify_id)
    assert row["ids"] == {"spotify": spotify_id} and row["metrics"] == [("spotify", "followers", 9_140)]
    assert not row["complete"]
    async with database.session() as session:
        country = await session.scalar(select(models.Artist.country).where(models.Artist.id == job.artist_id))
        assert country == "GB"
        assert await repository.artist_tracks(session, job.artist_id) == []


async def test_a_spotify_id_is_checked_once_where_it_enters(services: Any) -> None:
    """An ImportRequest is a valid id or nothing; the runner refuses a batch naming every malformed id."""
    with pytest.raises(ValueError, match=r"Not a Spotify artist id: 'open\.spotify\.com/artist/x' \(22"):
        ImportRequest("open.spotify.com/artist/x")
    good = "g9UlPlDpiHCTeOrJ7E8MmZ"
    assert ImportRequest(good).spotify_id == good
    with pytest.raises(ValueError, match=r"^Not Spotify artist ids: abc, 4Z8W4fKeB5YxbusRsdQVP$"):
        await services.runner.enqueue([("abc", "A"), (good, "Daft Punk"), ("4Z8W4fKeB5YxbusRsdQVP", "21 chars")])
    assert await services.runner.outcomes() == []  # nothing was queued
    assert await services.runner.enqueue([(good, "Daft Punk")]) == [good]
