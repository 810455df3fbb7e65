"""Headless progress on a pipe: one plain line per stage change, never wrapped, whatever the width."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from artist_desktop.bus import ProgressBus
from artist_desktop.console import LiveProgress
from artist_desktop.domain import ProgressUpdate, Stage

ARTIST = "4Z8W4fKeB5YxbusRsdQVPb"
LONG = "Looking up Radiohead on MusicBrainz [batch of 37] " + "with a very long message " * 6


async def test_piped_progress_is_one_unwrapped_line_per_stage(bus: ProgressBus) -> None:
    out = io.StringIO()
    console = Console(file=out, width=40, force_terminal=False, color_system=None)
    updates = [
        ProgressUpdate(ARTIST, Stage.INIT, 1, "Queued", payload={"name": "Radiohead"}),
        ProgressUpdate(ARTIST, Stage.METADATA, 10, LONG),
        ProgressUpdate(ARTIST, Stage.METADATA, 20, "same stage: no new line"),
        ProgressUpdate(ARTIST, Stage.COMPLETE, 100, "Imported"),
    ]
    async with LiveProgress(bus, [ARTIST], console=console):
        for update in updates:  # paced as a real import is (the subscription keeps only the latest of a burst)
            await bus.publish(update)
            await asyncio.sleep(0.1)
    lines = out.getvalue().splitlines()
    assert lines == [
        f"{ARTIST} Radiohead Adding Artist 1% Queued",
        f"{ARTIST} Processing Metadata 10% {' '.join(LONG.split())}",
        f"{ARTIST} Complete 100% Imported",
    ]
    assert "\r" not in out.getvalue() and "\x1b" not in out.getvalue()
