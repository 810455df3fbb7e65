"""Import's ANALYTICS collects the audience sources that answer many artists per request (ListenBrainz)."""

from __future__ import annotations

import asyncio

from pipeline_helpers import Recorder

from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.devtools.api_double import ApiDouble, Fault
from artist_desktop.domain import JobStatus
from artist_desktop.runtime import Runtime
from artist_desktop.store import library, repository


async def _import(services: Runtime, artists: list[CatalogArtist]) -> None:
    await services.runner.enqueue([(a.spotify_id, a.name) for a in artists])
    await asyncio.wait_for(services.runner.run_until_idle(), 120)


async def test_a_batch_stores_listenbrainz_listeners_with_one_request(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:20]
    api_double.reset_counters()

    await _import(services, artists)

    assert api_double.request_count("listenbrainz") == 1
    async with services.database.session() as session:
        ids = {
            artist.spotify_id: await repository.find_artist_id_by_platform(session, "spotify", artist.spotify_id)
            for artist in artists
        }
        listeners = await library.metric_series(session, [i for i in ids.values() if i], "listenbrainz", "listeners")
    expected = {
        artist.spotify_id
        for artist in artists
        if artist.musicbrainz and api_double.listenbrainz.figures(artist.musicbrainz["mbid"]) is not None
    }
    assert expected, "the catalog's first artists have ListenBrainz figures"
    stored = {spotify_id for spotify_id, artist_id in ids.items() if artist_id and listeners.get(artist_id)}
    assert stored == expected
    for artist in artists:
        if artist.spotify_id in expected:
            assert artist.musicbrainz is not None
            figures = api_double.listenbrainz.figures(artist.musicbrainz["mbid"])
            assert figures is not None
            artist_id = ids[artist.spotify_id]
            assert artist_id is not None
            assert listeners[artist_id][-1].value == figures[0]


async def test_listenbrainz_down_leaves_a_note_and_the_import_completes(
    services: Runtime, api_double: ApiDouble, catalog_artists: list[CatalogArtist]
) -> None:
    artists = catalog_artists[:3]
    api_double.inject("listenbrainz", "*", Fault.http(500), times=None)

    async with Recorder(services.bus) as recorder:
        await _import(services, artists)

    outcomes = await services.runner.outcomes()
    assert {o.status for o in outcomes} == {JobStatus.COMPLETE}
    finals = {sid: updates[-1] for sid, updates in recorder.seen.items()}
    served = [a for a in artists if a.musicbrainz]
    details = {a.name: finals[a.spotify_id].details for a in served}
    assert served and all("ListenBrainz: at the next refresh" in text for text in details.values()), details
