"""Live progress on the terminal for headless commands, fed by the progress bus.

On a terminal a bounded view redraws in place a few times a second: the running artists (at most
:data:`MAX_ROWS`) and a line of per-state totals, however many artists the batch has (a table of 2,000 rows
redrawn per update starved the import). On a pipe or a file each stage change is one plain line, never
wrapped (whatever its length) and free of control characters, so logs and `grep` read it as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections import Counter
from collections.abc import Iterable
from typing import Final

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import ProgressUpdate, Stage

__all__ = ["MAX_ROWS", "LiveProgress"]

_STYLE = {Stage.COMPLETE: "green", Stage.ERROR: "red"}
#: The most artist rows the terminal view shows (the running ones; the rest are counted in the totals).
MAX_ROWS: Final = 15
#: Seconds between redraws of the terminal view.
_REDRAW_INTERVAL: Final = 0.25
#: The totals line's states, in order.
_STATES: Final = ("queued", "running", "complete", "failed", "cancelled")


def _state(update: ProgressUpdate | None) -> str:
    if update is None or update.stage is Stage.INIT:
        return "queued"
    if update.stage is Stage.COMPLETE:
        return "complete"
    if update.stage is Stage.ERROR:
        return "cancelled" if update.cancelled else "failed"
    return "running"


class LiveProgress:
    """Subscribes to the bus and shows the batch on stderr: a bounded view redrawn in place on a terminal,
    plain lines otherwise."""

    def __init__(self, bus: ProgressBus, spotify_ids: Iterable[str], console: Console | None = None) -> None:
        self.bus = bus
        self.order = list(dict.fromkeys(spotify_ids))
        self.latest: dict[str, ProgressUpdate] = {}
        self.console = console or Console(file=sys.stderr)
        self._task: asyncio.Task[None] | None = None

    def totals(self) -> dict[str, int]:
        """How many of the batch's artists are in each state (queued, running, complete, failed, cancelled)."""
        counts = Counter(_state(self.latest.get(spotify_id)) for spotify_id in self.order)
        return {state: counts[state] for state in _STATES}

    def render(self) -> Group:
        """The running artists (at most :data:`MAX_ROWS`, then "… and N more running") and the totals."""
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("artist", "stage", "%", "message"):
            table.add_column(column)
        running = [update for update in self.latest.values() if _state(update) == "running"]
        for update in running[:MAX_ROWS]:
            name = (update.payload or {}).get("name") or update.spotify_id
            style = _STYLE.get(update.stage, "")
            table.add_row(str(name), Text(update.stage.label, style=style), str(update.progress), update.message)
        lines: list[Table | Text] = [table]
        if len(running) > MAX_ROWS:
            lines.append(Text(f"… and {len(running) - MAX_ROWS} more running", style="dim"))
        totals = self.totals()
        summary = ", ".join(f"{count} {state}" for state, count in totals.items() if count or state == "complete")
        lines.append(Text(f"{len(self.order)} artists: {summary}", style="bold"))
        return Group(*lines)

    async def __aenter__(self) -> LiveProgress:
        ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._follow(ready))
        await ready.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(0.1)  # let the final states arrive
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _follow(self, ready: asyncio.Event) -> None:
        if not self.console.is_terminal:
            await self._print_lines(ready)
            return
        # Redrawn by a timer on the event loop (not rich's refresh thread: it would read the rows while they change)
        with Live(self.render(), console=self.console, auto_refresh=False, transient=False) as live:
            redraw = asyncio.get_running_loop().create_task(self._redraw(live))
            try:
                await self._collect(ready)
            finally:
                redraw.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await redraw
                live.update(self.render(), refresh=True)

    async def _redraw(self, live: Live) -> None:
        while True:
            await asyncio.sleep(_REDRAW_INTERVAL)
            live.update(self.render(), refresh=True)

    async def _collect(self, ready: asyncio.Event) -> None:
        wanted = set(self.order)
        async with self.bus.subscribe() as subscription:
            ready.set()
            async for update in subscription:
                if update.spotify_id in wanted:
                    self.latest[update.spotify_id] = update

    async def _print_lines(self, ready: asyncio.Event) -> None:
        wanted = set(self.order)
        async with self.bus.subscribe() as subscription:
            ready.set()
            async for update in subscription:
                if update.spotify_id not in wanted:
                    continue
                previous = self.latest.get(update.spotify_id)
                self.latest[update.spotify_id] = update
                if previous is None or previous.stage != update.stage:
                    self.console.print(
                        self.plain_line(update), soft_wrap=True, markup=False, highlight=False, emoji=False
                    )

    @staticmethod
    def plain_line(update: ProgressUpdate) -> str:
        """ "<id> <name> <stage> <n>% <message>" on one line (a name only when the update carries one)."""
        name = (update.payload or {}).get("name")
        who = f"{update.spotify_id} {name}" if name else update.spotify_id
        message = " ".join(update.message.split())
        return f"{who} {update.stage.label} {update.progress}% {message}".rstrip()
