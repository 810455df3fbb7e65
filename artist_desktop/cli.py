"""Command-line entry points: the window by default, headless commands for scripts and shared machines.

Exit codes: 0 done, 1 failed, 2 usage (click's own), 3 nothing to do.
"""

from __future__ import annotations

import asyncio
import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from artist_desktop import APP_NAME, __version__
from artist_desktop.config import Settings, SettingsError, load_settings, log_dir, with_overrides

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_TO_DO = 0, 1, 2, 3


def _setup_logging(verbose: bool) -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    try:
        directory = log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            directory / "artist-desktop.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(file_handler)
    except OSError as exc:  # a read-only home must not stop the app
        root.warning("logging to a file is off: %s", exc)


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name=APP_NAME, message="%(prog)s %(version)s")
@click.option("--demo", is_flag=True, help="Use the bundled sample catalog and a local API double (no credentials).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail to stderr.")
@click.pass_context
def main(ctx: click.Context, demo: bool, verbose: bool) -> None:
    """Artist Desktop: search Spotify for artists, import them in batches, watch the progress live.

    With no command, the window opens.
    """
    _setup_logging(verbose)
    try:
        ctx.obj = load_settings(**({"demo": True} if demo else {}))
    except SettingsError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_USAGE)
    if ctx.invoked_subcommand is None:
        from artist_desktop.app import run_gui

        ctx.exit(run_gui(_settings(ctx)))


@main.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 50), help="Results per page.")
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, limit: int, offset: int, as_json: bool) -> None:
    """Search Spotify for artists matching QUERY."""
    from artist_desktop.app import demo_backend
    from artist_desktop.services import ServiceError, build_clients

    async def go() -> Any:
        async with demo_backend(_settings(ctx)) as settings:
            clients = build_clients(settings)
            try:
                return await clients.spotify.search_artists(query, limit=limit, offset=offset)
            finally:
                await clients.aclose()

    try:
        page = _run(go())
    except ServiceError as exc:
        click.echo(f"Search failed: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
    if as_json:
        rows = [
            {
                "spotify_id": artist.id,
                "name": artist.name,
                "followers": artist.followers,
                "popularity": artist.popularity,
                "genres": list(artist.genres),
                "url": artist.url,
            }
            for artist in page.items
        ]
        click.echo(json.dumps({"total": page.total, "offset": page.offset, "items": rows}, indent=2))
        return
    if not page.items:
        click.echo(f"No artists match {query!r}.", err=True)
        ctx.exit(EXIT_NOTHING_TO_DO)
    for artist in page.items:
        followers = f"{artist.followers:,}" if artist.followers is not None else "?"
        genres = ", ".join(artist.genres) or "-"
        click.echo(f"{artist.id}  {artist.name}  ({followers} followers; {genres})")
    shown = page.offset + len(page.items)
    if shown < page.total:
        click.echo(f"{shown} of {page.total}; more with --offset {shown}", err=True)


@main.command("import")
@click.argument("spotify_ids", nargs=-1, required=True, metavar="SPOTIFY_ID...")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome of each artist as JSON.")
@click.pass_context
def import_artists(ctx: click.Context, spotify_ids: tuple[str, ...], as_json: bool) -> None:
    """Import artists by Spotify id, headless: live progress on stderr, the summary on stdout.

    Exit 0 when every artist completed, 1 when any failed, 2 for bad ids (nothing is started).
    """
    from artist_desktop.app import AppServices
    from artist_desktop.console import LiveProgress
    from artist_desktop.pipeline.runner import JobOutcome, invalid_spotify_ids

    ids = list(dict.fromkeys(spotify_ids))
    bad = invalid_spotify_ids(ids)
    if bad:
        for value in bad:
            click.echo(f"Not a Spotify artist id (22 letters and digits): {value!r}", err=True)
        ctx.exit(EXIT_USAGE)

    async def go() -> list[JobOutcome]:
        async with AppServices(_settings(ctx)) as services:
            runner = services.runner
            resumed = await runner.resume_interrupted()
            if resumed:
                click.echo(f"Resuming {resumed} interrupted import(s).", err=True)
            async with LiveProgress(services.bus, ids):
                await runner.enqueue([(spotify_id, spotify_id) for spotify_id in ids])
                await runner.run_until_idle()
            return await runner.outcomes(ids)

    outcomes = _run(go())
    failed = [outcome for outcome in outcomes if outcome.status.value != "complete"]
    if as_json:
        click.echo(json.dumps([outcome.to_json() for outcome in outcomes], indent=2))
    else:
        for outcome in outcomes:
            line = f"{outcome.spotify_id}  {outcome.name}  {outcome.status.value}"
            click.echo(line + (f"  ({outcome.stage.value}: {outcome.error})" if outcome.error else ""))
        click.echo(f"{len(outcomes) - len(failed)} of {len(outcomes)} imported.", err=True)
    ctx.exit(EXIT_FAILED if failed else EXIT_OK)


@main.command("refresh-deezer")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def refresh_deezer(ctx: click.Context, as_json: bool) -> None:
    """Refresh the Deezer fan count of every artist with a Deezer id.

    Exit 0 when the run completed (even with per-artist failures), 3 when no artist has a Deezer id or
    another refresh is running on the same database, 1 on a fatal error (database unreachable).
    """
    from artist_desktop.app import demo_backend
    from artist_desktop.metrics.deezer_refresh import (
        DatabaseUnavailableError,
        LockHeld,
        NothingToRefresh,
        RefreshSummary,
        refresh_deezer_fans,
    )
    from artist_desktop.services import build_clients
    from artist_desktop.store import open_database

    def progress(done: int, total: int, name: str) -> None:
        click.echo(f"\r[{done}/{total}] {name[:60]:<60}", err=True, nl=done == total)

    async def go() -> RefreshSummary:
        async with demo_backend(_settings(ctx)) as settings:
            try:
                database = await open_database(settings.effective_database_url)
            except Exception as exc:
                raise DatabaseUnavailableError(f"The database cannot be opened: {exc}") from exc
            clients = build_clients(settings)
            try:
                return await refresh_deezer_fans(database, clients.deezer, progress=progress)
            finally:
                await clients.aclose()
                await database.dispose()

    try:
        summary = _run(go())
    except NothingToRefresh as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_NOTHING_TO_DO)
    except LockHeld as exc:
        click.echo(f"Another Deezer refresh is running: {exc.holder}. Nothing done.", err=True)
        ctx.exit(EXIT_NOTHING_TO_DO)
    except DatabaseUnavailableError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))
    else:
        for result in summary.results:
            outcome = f"{result.fans:,} fans" if result.success and result.fans is not None else result.error
            click.echo(f"{result.name}: {outcome}")
        click.echo(f"{summary.updated} of {summary.total} updated, {summary.failed} failed.")


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Imports this machine runs at once (default: the CONCURRENCY setting).",
)
@click.pass_context
def serve(ctx: click.Context, workers: int | None) -> None:
    """Run headless: an import worker and the progress stream, until SIGTERM or Ctrl+C.

    For a shared machine: `artist-desktop import` runs from anywhere pointed at the same REDIS_URL and
    DATABASE_URL are seen live through this endpoint.
    """
    import signal

    from artist_desktop.app import AppServices

    async def go() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        settings = _settings(ctx)
        if workers is not None:
            settings = with_overrides(settings, concurrency=workers)
        async with AppServices(settings, with_sse=True) as services:
            runner = services.runner
            await runner.resume_interrupted()
            runner.start()
            sse = services.sse
            assert sse is not None
            if sse.port_was_taken:
                click.echo(f"Port {services.settings.sse_port} is taken; using {sse.port}.", err=True)
            click.echo(f"Progress stream: {sse.url}/api/artists/progress", err=True)
            click.echo(f"Serving; stop with Ctrl+C or SIGTERM (pid {os.getpid()}).", err=True)
            await stopping.wait()
            click.echo("Stopping…", err=True)

    _run(go())
