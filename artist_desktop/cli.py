"""Command-line entry points: the window by default, headless commands for scripts and shared machines.

Exit codes: 0 done, 1 failed, 2 usage (click's own), 3 nothing to do, 4 paused (a service's quota is used
up; the time it resumes is printed), 130 interrupted (`import` stopped by Ctrl+C; its artists wait in the queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import logging.handlers
import os
import sys
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from artist_desktop import APP_NAME, __version__
from artist_desktop.config import Settings, SettingsError, load_settings, log_dir, with_overrides

if TYPE_CHECKING:
    from artist_desktop.pipeline.runner import BatchRunner

T = TypeVar("T")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOTHING_TO_DO, EXIT_PAUSED = 0, 1, 2, 3, 4
#: `import` stopped by Ctrl+C or SIGTERM (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130
LOG_FILE = "artist-desktop.log"


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
            directory / LOG_FILE, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
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
    """Run a command's coroutine; a start-up failure is one line on stderr and exit 1, the traceback goes to
    the log file only."""
    from artist_desktop.runtime import StartupError

    try:
        return asyncio.run(coro)
    except StartupError as exc:
        logging.getLogger(__name__).info("start-up failed", exc_info=exc)  # the file, not the console
        raise click.ClickException(f"{exc} (details: {log_dir() / LOG_FILE})") from exc


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
        from artist_desktop.gui import run_gui

        ctx.exit(run_gui(_settings(ctx)))


@main.command()
@click.argument("query")
@click.option(
    "--limit",
    default=None,
    type=click.IntRange(1, 50),
    help="Results per page (default: the most your Spotify app allows: 10 in Development Mode).",
)
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0, 1000))
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def search(ctx: click.Context, query: str, limit: int | None, offset: int, as_json: bool) -> None:
    """Search Spotify for artists matching QUERY (an artist link, URI or id shows that artist)."""
    from artist_desktop.application import PastedLinkError, SearchOutcome
    from artist_desktop.domain import is_spotify_short_link, spotify_id_from_text
    from artist_desktop.runtime import Runtime
    from artist_desktop.services import PremiumRequiredError, QuotaExceededError, ServiceError

    if not query.strip():
        raise click.UsageError("the search query is empty")
    pasted = spotify_id_from_text(query) is not None or is_spotify_short_link(query)

    async def go() -> SearchOutcome:
        async with Runtime(_settings(ctx)) as runtime:
            if pasted:
                return await runtime.application.look_up_pasted(query)
            return await runtime.application.search_artists(query, offset, limit=limit)

    try:
        page = _run(go())
    except PastedLinkError as exc:
        click.echo(f"Search failed: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
    except QuotaExceededError as exc:
        click.echo(
            f"Spotify's daily quota is used up: search is available again at {_local_time(exc.resume_at)}.", err=True
        )
        ctx.exit(EXIT_PAUSED)
    except PremiumRequiredError as exc:
        click.echo(f"Search failed: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
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
                "in_library": artist.id in page.in_library,
            }
            for artist in page.items
        ]
        body = {"total": page.total, "offset": page.offset, "next_offset": page.next_offset, "items": rows}
        click.echo(json.dumps(body, indent=2))
        return
    if not page.items:
        click.echo(f"No artists match {query!r}.", err=True)
        ctx.exit(EXIT_NOTHING_TO_DO)
    for artist in page.items:
        facts = [f"{artist.followers:,} followers"] if artist.followers is not None else []
        facts.append(", ".join(artist.genres) or "no genres")
        if artist.id in page.in_library:
            facts.append("in library")
        click.echo(f"{artist.id}  {artist.name}  ({'; '.join(facts)})")
    if page.next_offset is not None:
        shown = page.offset + len(page.items)
        click.echo(f"{shown} of {page.total}; more with --offset {page.next_offset}", err=True)


def _local_time(when: datetime) -> str:
    from artist_desktop.domain import ServicePause

    return ServicePause("", when).local_time()


def _import_requests(ctx: click.Context, texts: list[str]) -> list[str]:
    """Spotify ids from ids, artist links, URIs and short links (resolved); every bad value is named, exit 2.

    Each text is parsed on its own (an argument, or a whole file whose first line may be a CSV header).
    Short links are resolved by following their redirect (`resolve_short_link`), not by an API request.
    """
    from artist_desktop.domain import parse_artist_lines
    from artist_desktop.services import ServiceError
    from artist_desktop.services.spotify_links import resolve_short_link

    ids: list[str] = []
    short_links: list[str] = []
    bad: list[str] = []
    for text in texts:
        parsed = parse_artist_lines(text)
        ids.extend(parsed.ids)
        short_links.extend(parsed.short_links)
        bad.extend(line for _, line in parsed.bad)
    if short_links:

        async def resolve_all() -> list[str | ServiceError]:
            found: list[str | ServiceError] = []
            for link in short_links:
                try:
                    found.append(await resolve_short_link(link))
                except ServiceError as exc:
                    found.append(exc)
            return found

        for link, outcome in zip(short_links, _run(resolve_all()), strict=True):
            if isinstance(outcome, str):
                ids.append(outcome)
            else:
                click.echo(f"Cannot resolve {link}: {outcome}", err=True)
                bad.append(link)
    for value in bad:
        click.echo(f"Not a Spotify artist id, link or URI: {value!r}", err=True)
    if bad:
        ctx.exit(EXIT_USAGE)
    return list(dict.fromkeys(ids))


@main.command("import")
@click.argument("artists", nargs=-1, metavar="ARTIST...")
@click.option(
    "--file",
    "files",
    multiple=True,
    type=click.File("r", encoding="utf-8"),
    help="Read artists from a .txt or .csv file, one per line ('-' reads stdin).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome of each artist as JSON.")
@click.option(
    "--no-wait",
    is_flag=True,
    help="When Spotify's quota pauses the import, exit 4 with the resume time instead of waiting.",
)
@click.option("--refresh", is_flag=True, help="Import again the artists already imported today (skipped otherwise).")
@click.pass_context
def import_artists(
    ctx: click.Context,
    artists: tuple[str, ...],
    files: tuple[Any, ...],
    as_json: bool,
    no_wait: bool,
    refresh: bool,
) -> None:
    """Import artists by Spotify id, artist link (open.spotify.com/artist/…, spotify.link/…) or URI,
    headless: live progress on stderr, the summary on stdout.

    Exit 0 when every artist completed, 1 when any failed, 2 for bad ids (every one is named; nothing is
    started), 4 with --no-wait when Spotify's quota holds artists back (they stay queued and resume with
    the next run, the window or `serve`). Without --no-wait a quota pause is waited out. Artists already
    imported today are skipped (status "skipped" in --json) unless --refresh. When the database stays away
    longer than a minute, exit 1 with the summary: unfinished artists say "queued" and resume with the next run.
    """
    from dataclasses import replace

    from artist_desktop.console import LiveProgress
    from artist_desktop.domain import ImportRequest, JobStatus, Stage
    from artist_desktop.pipeline.runner import DatabaseUnavailable, JobOutcome
    from artist_desktop.runtime import Runtime

    texts = [value.replace("\n", " ") for value in artists] + [handle.read() for handle in files]
    if not any(text.strip() for text in texts):
        raise click.UsageError("name at least one artist (an id, a link or a URI), or --file")
    ids = _import_requests(ctx, texts)
    interrupted: list[bool] = []

    async def go() -> tuple[list[JobOutcome], str | None, str | None]:
        async with Runtime(_settings(ctx)) as runtime:
            runner = runtime.runner
            resumed = await runner.resume_interrupted()
            if resumed:
                click.echo(f"Resuming {resumed} interrupted import(s).", err=True)
            pause = await runner.current_spotify_pause()
            if pause is not None:
                click.echo(f"{pause.sentence()}: imports that need Spotify wait until then.", err=True)
            skipped = set() if refresh else set(await runner.imported_today(ids))
            todo = [spotify_id for spotify_id in ids if spotify_id not in skipped]
            if skipped:
                click.echo(
                    f"{len(skipped)} artist(s) already imported today: skipped (--refresh imports them again).",
                    err=True,
                )
            lost: str | None = None
            if todo:
                async with LiveProgress(runtime.bus, todo):
                    await runner.enqueue([ImportRequest(spotify_id) for spotify_id in todo])  # names come with METADATA
                    try:
                        interrupted.append(
                            await _until_interrupted(
                                runner, runner.run_until_idle(wait_for_pauses=not no_wait, wait_for=todo)
                            )
                        )
                    except DatabaseUnavailable as exc:
                        lost = str(exc)
            if lost is not None:  # nothing can be read: the summary says what this run knows
                return (
                    [
                        JobOutcome(i, "", JobStatus.COMPLETE, Stage.COMPLETE, None, skipped=True)
                        if i in skipped
                        else JobOutcome(i, "", JobStatus.QUEUED, Stage.INIT, lost)
                        for i in ids
                    ],
                    None,
                    lost,
                )
            waiting = set(await runner.waiting_jobs()) & set(todo)
            pause = await runner.current_spotify_pause()
            held = pause.sentence() if waiting and pause is not None else None
            outcomes = [replace(o, skipped=o.spotify_id in skipped) for o in await runner.outcomes(ids)]
            return outcomes, held, None

    try:
        outcomes, held, lost = _run(go())
    except click.ClickException as exc:  # the database or Redis could not be reached at all
        if as_json:  # a script always gets a summary to parse: nothing was queued, every artist failed to start
            failed_start = [JobOutcome(i, "", JobStatus.ERROR, Stage.INIT, exc.message) for i in ids]
            click.echo(json.dumps([outcome.to_json() for outcome in failed_start], indent=2))
        raise
    failed = [outcome for outcome in outcomes if outcome.status.value not in ("complete", "queued")]
    waiting = [outcome for outcome in outcomes if outcome.status.value == "queued"]
    if as_json:
        click.echo(json.dumps([outcome.to_json() for outcome in outcomes], indent=2))
    else:
        for outcome in outcomes:
            status = "already imported today" if outcome.skipped else outcome.status.value
            line = f"{outcome.spotify_id}  {outcome.name}  {status}"
            click.echo(line + (f"  ({outcome.stage.value}: {outcome.error})" if outcome.error else ""))
        skipped_count = sum(outcome.skipped for outcome in outcomes)
        done = len(outcomes) - len(failed) - len(waiting) - skipped_count
        click.echo(
            f"{done} of {len(outcomes)} imported"
            + (f", {skipped_count} skipped (already imported today)." if skipped_count else "."),
            err=True,
        )
    if lost is not None:
        click.echo(f"Stopped: {lost}", err=True)
        ctx.exit(EXIT_FAILED)
    if any(interrupted):
        click.echo(
            f"Stopped by Ctrl+C: {len(waiting)} artist(s) wait in the queue; the same import again finishes them.",
            err=True,
        )
        ctx.exit(EXIT_INTERRUPTED)
    if failed:
        ctx.exit(EXIT_FAILED)
    if waiting:
        click.echo(f"Paused: {held or 'Spotify is paused'}; {len(waiting)} artist(s) wait in the queue.", err=True)
        ctx.exit(EXIT_PAUSED)
    ctx.exit(EXIT_OK)


async def _until_interrupted(runner: BatchRunner, batch: Coroutine[Any, Any, None]) -> bool:
    """Run the batch until it ends (False) or until SIGINT/SIGTERM (True): then the running imports stop at once
    and go back to the queue (the runner's ``stop``), so the next run resumes them and redoes no finished one."""
    import signal

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for signum in signals:
        loop.add_signal_handler(signum, stopping.set)
    task = asyncio.ensure_future(batch)
    stop_wait = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait({task, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()
            return False
        click.echo("Stopping: the running imports go back to the queue…", err=True)
        stop = asyncio.ensure_future(runner.stop())  # claims nothing more, puts the running imports back
        await asyncio.sleep(0)  # stop() has cancelled them before the batch sees its own cancellation
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await stop
        return True
    finally:
        stop_wait.cancel()
        if not task.done():
            task.cancel()
        for signum in signals:
            loop.remove_signal_handler(signum)


#: The values of ``refresh --source`` (the sources' names, in the menu's order).
SOURCE_CHOICES = ("deezer", "wikipedia", "lastfm", "listenbrainz")
#: ``refresh`` lists at most this many failed artists per source (``--json`` lists every one).
FAILURES_SHOWN = 20


@main.command("refresh")
@click.option(
    "--source",
    "source_names",
    type=click.Choice(SOURCE_CHOICES),
    multiple=True,
    help="Refresh only this source (repeat for several; default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def refresh(ctx: click.Context, source_names: tuple[str, ...], as_json: bool) -> None:
    """Refresh the audience metrics: Deezer fans, Wikipedia pageviews, Last.fm and ListenBrainz listeners.

    Every source runs at once at its own quota. A source that cannot run (Last.fm without an API key) is skipped
    with the reason. Exit 0 when every source completed or was skipped (per-artist failures are listed, not
    fatal), 1 when a source failed as a whole (a key refused, the database unreachable), 3 when no source had an
    artist to refresh, or the one source asked for is being refreshed by another process.
    """
    _refresh(ctx, source_names or None, as_json, alias=False)


@main.command("refresh-deezer")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def refresh_deezer(ctx: click.Context, as_json: bool) -> None:
    """Refresh the Deezer fan count of every artist with a Deezer id (the same as ``refresh --source deezer``).

    Exit 0 when the run completed (even with per-artist failures), 3 when no artist has a Deezer id or
    another refresh is running on the same database, 1 on a fatal error (database unreachable).
    """
    _refresh(ctx, ("deezer",), as_json, alias=True)


def _refresh(ctx: click.Context, source_names: tuple[str, ...] | None, as_json: bool, *, alias: bool) -> None:
    """``refresh`` and its ``refresh-deezer`` alias (which prints the Deezer run alone, in its own JSON shape)."""
    from artist_desktop.domain import Platform
    from artist_desktop.runtime import Runtime
    from artist_desktop.sources.refresh import (
        DatabaseUnavailableError,
        LockHeld,
        NothingToRefresh,
        RefreshAllSummary,
        RefreshStatus,
    )

    on_terminal = sys.stderr.isatty()
    counts: dict[Platform, tuple[int, int]] = {}

    def progress(source: Platform, done: int, total: int, name: str) -> None:
        counts[source] = (done, total)
        if on_terminal:  # one line redrawn in place: every source's count
            line = " · ".join(f"{platform.value} {d}/{t}" for platform, (d, t) in counts.items())
            click.echo(f"\r{line[:100]:<100}", err=True, nl=False)
        elif alias:  # a pipe or a log: one plain line per artist, as refresh-deezer always printed it
            click.echo(f"[{done}/{total}] {name}", err=True)
        else:
            click.echo(f"[{source.value} {done}/{total}] {name}", err=True)

    async def go() -> RefreshAllSummary:
        runtime = Runtime(_settings(ctx))
        await runtime.start()
        try:
            wanted = [Platform(name) for name in source_names] if source_names else None
            return await runtime.application.refresh_metrics(wanted, progress)
        finally:
            await runtime.stop()

    what = "Deezer refresh" if alias else "refresh of this source"
    try:
        summary = _run(go())
    except NothingToRefresh as exc:
        click.echo(str(exc), err=True)
        if as_json:  # a script always gets a summary to parse
            body: dict[str, object] = {"success": True, "message": str(exc)}
            body |= {"total": 0, "updated": 0, "failed": 0, "results": []} if alias else {"sources": []}
            click.echo(json.dumps(body, indent=2))
        ctx.exit(EXIT_NOTHING_TO_DO)
    except LockHeld as exc:
        click.echo(f"Another {what} is running: {exc.holder}. Nothing done.", err=True)
        ctx.exit(EXIT_NOTHING_TO_DO)
    except DatabaseUnavailableError as exc:
        click.echo(str(exc), err=True)
        ctx.exit(EXIT_FAILED)
    if on_terminal and counts:
        click.echo("", err=True)
    if alias:
        run = summary.runs[0]
        if as_json:
            click.echo(json.dumps(run.to_json(), indent=2))
        else:
            for result in run.results:
                outcome = f"{result.value:,} fans" if result.success and result.value is not None else result.error
                click.echo(f"{result.name}: {outcome}")
            click.echo(f"{run.counts_text()} (of {run.total}).")
        ctx.exit(EXIT_OK if run.success else EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))
    else:
        for run in summary.runs:
            if run.status is RefreshStatus.SKIPPED:
                click.echo(f"{run.label}: skipped: {run.reason}")
                continue
            state = "" if run.status is RefreshStatus.COMPLETE else f" ({run.status.value}: {run.reason})"
            left_out = f"; {run.left_out_text}" if run.left_out_text else ""
            click.echo(f"{run.label}: {run.counts_text()} (of {run.total}{left_out}){state}")
            failures = sorted((result for result in run.results if not result.success), key=lambda r: r.not_found)
            for result in failures[:FAILURES_SHOWN]:
                click.echo(f"  {result.name}: {'not found: ' if result.not_found else ''}{result.error}")
            if len(failures) > FAILURES_SHOWN:
                click.echo(f"  ... and {len(failures) - FAILURES_SHOWN} more (--json lists every one)")
    ctx.exit(EXIT_OK if summary.success else EXIT_FAILED)


@main.command("export")
@click.option(
    "--metrics",
    "metrics_text",
    metavar="PLATFORM:METRIC,...",
    help="The metrics to export, e.g. deezer:followers,spotify:popularity (default: every metric an artist has).",
)
@click.option(
    "--days",
    type=click.IntRange(1, None),
    default=None,
    help="Export the daily figures of the last N days, one row per day, artist and metric, instead of the table.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True, help="Output format."
)
@click.pass_context
def export_library(ctx: click.Context, metrics_text: str | None, days: int | None, fmt: str) -> None:
    """Print the library to stdout: one row per artist with its Spotify, Deezer and MusicBrainz ids and, for
    each metric, the latest daily figure, its day and its change over 1, 7 and 28 days (absolute and %).

    With --days N, the chart data instead: one row per day, artist and metric for the last N days.
    """
    from artist_desktop.export import SERIES_COLUMNS, parse_metrics, table_columns, write_rows
    from artist_desktop.runtime import Runtime

    try:
        metrics = parse_metrics(metrics_text) if metrics_text is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--metrics") from None

    async def go() -> list[dict[str, object]]:
        async with Runtime(_settings(ctx)) as runtime:
            return await runtime.application.export_library(metrics=metrics, days=days)

    rows = _run(go())
    empty_columns = table_columns(metrics or []) if days is None else list(SERIES_COLUMNS)
    write_rows(rows, sys.stdout, fmt, list(rows[0]) if rows else empty_columns)


@main.command("alerts")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Only alerts of this day or later (default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the alerts as JSON.")
@click.pass_context
def list_alerts(ctx: click.Context, since: datetime | None, as_json: bool) -> None:
    """List the alerts: days whose change of a metric was far outside the artist's own recent variability
    (newest day first; dismissed ones are left out), as the window's Alerts tab shows them."""
    from artist_desktop.runtime import Runtime
    from artist_desktop.sources.alerts import Alert

    async def go() -> list[Alert]:
        async with Runtime(_settings(ctx)) as runtime:
            return await runtime.application.alerts(since.date() if since is not None else None)

    found = _run(go())
    if as_json:
        click.echo(json.dumps([alert.to_json() for alert in found], indent=2))
        return
    if not found:
        click.echo("No alerts.", err=True)
    for alert in found:
        click.echo(
            f"{alert.day.isoformat()}  {alert.artist_name}  {alert.platform} {alert.metric}  "
            f"{alert.change:+,.0f} ({alert.change_percent:+.1f} %)  score {alert.score:+.1f}"
        )


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

    from artist_desktop.runtime import Runtime

    async def go() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        settings = _settings(ctx)
        if workers is not None:
            settings = with_overrides(settings, concurrency=workers)
        async with Runtime(settings, with_sse=True, schedule=True) as runtime:
            application = runtime.application
            await runtime.runner.resume_interrupted()
            runtime.runner.start()  # serve is an import worker, in team mode too
            if (taken := application.stream_port_taken) is not None:
                click.echo(f"Port {taken[0]} is taken; using {taken[1]}.", err=True)
            click.echo(f"Progress stream: {application.stream_url}", err=True)
            click.echo(f"Serving; stop with Ctrl+C or SIGTERM (pid {os.getpid()}).", err=True)
            await stopping.wait()
            click.echo("Stopping…", err=True)

    _run(go())
