"""End to end in a real browser: headless Chromium renders the dashboard page's EventSource updates."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import pytest

from artist_desktop.bus import ProgressBus
from artist_desktop.domain import Stage

from .conftest import ARTIST_A, StartSse, update, wait_for

CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)
async def test_headless_chromium_renders_the_artist_reaching_complete(
    bus: ProgressBus, start_sse: StartSse, tmp_path: Path
) -> None:
    async def names(spotify_ids: list[str]) -> dict[str, str]:  # what the job ledger answers in the app
        return {spotify_id: "Daft Punk" for spotify_id in spotify_ids if spotify_id == ARTIST_A}

    sse = await start_sse(token="browser-token", names=names)
    await bus.publish(update(ARTIST_A, Stage.INIT, 2, "Adding Artist"))
    browser = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--virtual-time-budget=20000",
        "--dump-dom",
        f"{sse.url}/?artist={ARTIST_A}&token=browser-token",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    try:
        # The page is open once its EventSource (token forwarded from the page URL) is subscribed.
        await wait_for(lambda: sse.clients == 1, within=30)
        for stage, progress in [(Stage.METADATA, 10), (Stage.MEDIA, 60), (Stage.COMPLETE, 100)]:
            await asyncio.sleep(0.1)
            await bus.publish(update(ARTIST_A, stage, progress, f"Now {stage.label}"))
        async with asyncio.timeout(30):
            out, _ = await browser.communicate()
    finally:
        if browser.returncode is None:
            browser.kill()
            await browser.wait()
    dom = out.decode()
    row = re.search(rf'<tr id="artist-{ARTIST_A}"[^>]*>(.*?)</tr>', dom, re.S)
    assert row is not None, dom[-2000:]
    assert '<td class="stage">Complete</td>' in row.group(1)  # the window's stage label, not the code
    assert f'<td class="artist">Daft Punk <small>{ARTIST_A}</small></td>' in row.group(1)
    assert 'value="100"' in row.group(1)
    assert "Now Complete" in row.group(1)
    assert "Finished: Complete" in dom
    assert '<span class="complete">1 complete</span>' in dom
