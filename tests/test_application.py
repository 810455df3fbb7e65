"""The application surface on a started runtime: what the window asks for, answered with plain data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from artist_desktop.application import Application
from artist_desktop.devtools._catalog import CatalogArtist
from artist_desktop.domain import ImportRequest, JobStatus, Stage
from artist_desktop.runtime import Runtime


async def test_search_pages_by_ten_and_marks_what_is_already_imported(
    runtime: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    application = runtime.application
    first = await application.search_artists("a")
    assert 0 < len(first.items) <= 10 and first.next_offset == 10  # Development Mode: pages of 10 (nulls skipped)
    imported = first.items[0]
    await application.enqueue([ImportRequest(imported.id, imported.name, imported.to_dict())])
    await runtime.runner.run_until_idle()

    again = await application.search_artists("a")
    assert again.in_library == {imported.id}
    second = await application.search_artists("a", again.next_offset or 0)
    assert second.offset == 10 and not {a.id for a in second.items} & {a.id for a in again.items}


async def test_a_pasted_link_is_that_one_artist(runtime: Runtime, catalog_artists: list[CatalogArtist]) -> None:
    artist = catalog_artists[0]
    found = await runtime.application.look_up_pasted(f"https://open.spotify.com/artist/{artist.spotify_id}?si=x")
    assert found.pasted and [a.name for a in found.items] == [artist.name]


async def test_resume_queue_reannounces_unfinished_jobs_with_their_names_and_leaves_team_work_to_workers(
    runtime: Runtime, catalog_artists: list[CatalogArtist]
) -> None:
    application: Application = runtime.application
    picked = catalog_artists[:3]
    await application.enqueue([ImportRequest(a.spotify_id, a.name) for a in picked])

    names = await application.resume_queue()

    assert names == {a.spotify_id: a.name for a in picked}
    assert [(job.spotify_id, job.status) for job in await application.unfinished_jobs()] == [
        (a.spotify_id, JobStatus.QUEUED) for a in picked
    ]
    # local_worker=False (team mode's default): this process queues, the shared workers import. A started
    # worker would have claimed a job within milliseconds.
    await asyncio.sleep(0.5)
    assert all(job.status is JobStatus.QUEUED for job in await application.unfinished_jobs())
    last = await runtime.bus.snapshot(picked[0].spotify_id)
    assert last is not None and last.stage is Stage.INIT


async def test_a_refresh_run_is_listed_and_reopens_with_the_same_results(
    runtime: Runtime, catalog_artists: list[CatalogArtist], add_library_artist: Callable[..., Any]
) -> None:
    for artist in catalog_artists[:3]:
        await add_library_artist(runtime.database, artist.name, artist.deezer["id"] if artist.deezer else None)
    application = runtime.application
    seen: list[tuple[int, int]] = []

    summary = await application.refresh_deezer_fans(lambda done, total, _name: seen.append((done, total)))

    assert (summary.total, summary.updated, summary.failed) == (3, 3, 0)
    assert seen[-1] == (3, 3)
    (run,) = await application.deezer_refresh_runs()
    assert (run.run_id, run.updated) == (summary.run_id, 3)
    stored = await application.stored_refresh(run)
    assert sorted((r.name, r.value) for r in stored.results) == sorted((r.name, r.value) for r in summary.results)
    undone = await application.undo_deezer_matches([stored.results[0].artist_id, 999_999])
    assert undone == [stored.results[0].artist_id]
