"""Imports cost as few Spotify requests as a Development Mode app can afford (api-facts.md: a daily quota).

Artists picked from search results carry Spotify's artist object: importing them sends no Spotify request.
Top tracks come from Deezer's keyless ``/artist/{id}/top`` (Spotify's endpoint answers 403 for new apps),
with their album art cached by MEDIA.
"""

from __future__ import annotations

from sqlalchemy import select

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble
from artist_desktop.domain import ImportRequest, JobStatus
from artist_desktop.runtime import Runtime
from artist_desktop.store import models


async def _picked_from_search(services: Runtime, artists: list[CatalogArtist]) -> list[ImportRequest]:
    """What the window queues when an analyst picks these artists in search results."""
    picked: list[ImportRequest] = []
    for artist in artists:
        page = await services.clients.spotify.search_artists(artist.name)
        found = next(item for item in page.items if item.id == artist.spotify_id)
        picked.append(ImportRequest(found.id, found.name, found.to_dict()))
    return picked


async def test_thirty_artists_picked_in_search_import_with_no_spotify_request(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:30]
    assert len(artists) == 30
    requests = await _picked_from_search(services, artists)
    api_double.reset_counters()

    await services.application.enqueue(requests)
    await services.runner.run_until_idle()

    outcomes = await services.runner.outcomes([artist.spotify_id for artist in artists])
    assert [outcome.status for outcome in outcomes] == [JobStatus.COMPLETE] * 30, [o.error for o in outcomes]
    assert api_double.request_count("spotify") == 0
    async with services.database.session() as session:
        tracks = list(await session.scalars(select(models.Track)))
        art = list(await session.scalars(select(models.MediaAsset).where(models.MediaAsset.kind == "track_art")))
        names = dict((await session.execute(select(models.Artist.id, models.Artist.name))).tuples().all())
    assert tracks and all(track.deezer_id and track.deezer_rank for track in tracks)
    assert all(track.spotify_id is None for track in tracks)
    assert {names[asset.artist_id] for asset in art} >= {artists[0].name}, "Deezer album art is cached"


async def test_an_artist_without_followers_is_complete_without_a_warning(
    services: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    """Development Mode withholds followers and popularity: that is not a warning on every artist."""
    (request,) = await _picked_from_search(services, catalog_artists[:1])
    assert "followers" not in (request.spotify_artist or {})
    await services.application.enqueue([request])
    await services.runner.run_until_idle()
    async with services.database.session() as session:
        artist = await session.scalar(select(models.Artist))
    assert artist is not None and artist.followers is None
    assert artist.is_complete, "no warning for data a Development Mode app never receives"


async def test_an_owner_without_premium_pauses_imports_by_id_and_fails_none(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    """Spotify's 403 "Active premium subscription required" is not the artist's fault: imports by id wait
    for Spotify (the queue says so) and none is marked failed; artists picked in search still import."""
    picked = await _picked_from_search(services, catalog_artists[:1])
    api_double.set_spotify_premium(False)
    by_id = [artist.spotify_id for artist in catalog_artists[1:4]]

    await services.application.enqueue([*picked, *(ImportRequest(spotify_id) for spotify_id in by_id)])
    await services.runner.run_until_idle(wait_for_pauses=False)

    outcomes = {o.spotify_id: o for o in await services.runner.outcomes()}
    assert outcomes[picked[0].spotify_id].status is JobStatus.COMPLETE
    assert {outcomes[spotify_id].status for spotify_id in by_id} == {JobStatus.QUEUED}
    pause = await services.application.spotify_pause()
    assert pause is not None and "Premium" in pause.reason
    assert sorted(await services.runner.waiting_jobs()) == sorted(by_id)
    latest = await services.bus.snapshot(by_id[0])
    assert latest is not None and latest.message.startswith("Waiting for Spotify (resumes ")
    assert (latest.payload or {}).get("waiting_for") == "Spotify"
