"""Live progress on the terminal for headless commands: one line per artist, fed by the progress bus.

On a terminal a table redraws in place; on a pipe or a file each stage change is one plain line, never
wrapped (whatever its length) and free of control characters, so logs and `grep` read it as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import ProgressUpdate, Stage

_STYLE = {Stage.COMPLETE: "green", Stage.ERROR: "red"}


class LiveProgress:
    """Subscribes to the bus and redraws a table on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, bus: ProgressBus, spotify_ids: Iterable[str], console: Console | None = None) -> None:
        self.bus = bus
        self.order = list(dict.fromkeys(spotify_ids))
        self.latest: dict[str, ProgressUpdate] = {}
        self.console = console or Console(file=sys.stderr)
        self._task: asyncio.Task[None] | None = None

    def render(self) -> Table:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("artist", "stage", "%", "message"):
            table.add_column(column)
        for spotify_id in self.order:
            update = self.latest.get(spotify_id)
            if update is None:
                table.add_row(spotify_id, "Queued", "0", "")
                continue
            name = (update.payload or {}).get("name") or spotify_id
            style = _STYLE.get(update.stage, "")
            table.add_row(str(name), Text(update.stage.label, style=style), str(update.progress), update.message)
        return table

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
        wanted = set(self.order)
        interactive = self.console.is_terminal
        with (
            Live(self.render(), console=self.console, refresh_per_second=8, transient=False)
            if interactive
            else (contextlib.nullcontext()) as live
        ):
            async with self.bus.subscribe() as subscription:
                ready.set()
                async for update in subscription:
                    if update.spotify_id not in wanted:
                        continue
                    previous = self.latest.get(update.spotify_id)
                    self.latest[update.spotify_id] = update
                    if live is not None:
                        live.update(self.render())
                    elif previous is None or previous.stage != update.stage:
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
