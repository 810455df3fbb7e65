"""Runs `python -m artist_desktop --demo` unchanged, printing when the window is shown and when it is attached.

The app has no "window shown" signal a launcher can see, so this probe wraps two `MainWindow` methods:
``shown <time.time()>`` on the first show event, ``ready <time.time()>`` once the services are attached.
"""

from __future__ import annotations

import runpy
import sys
import time
from typing import Any

from artist_desktop.ui.main_window import MainWindow

_show_event = MainWindow.showEvent
_attach = MainWindow.attach
_seen: set[str] = set()


def _once(what: str) -> None:
    if what not in _seen:
        _seen.add(what)
        print(f"{what} {time.time()}", flush=True)


def show_event(self: MainWindow, event: Any) -> None:
    _show_event(self, event)
    _once("shown")


def attach(self: MainWindow, services: Any) -> None:
    _attach(self, services)
    _once("ready")


MainWindow.showEvent = show_event  # type: ignore[method-assign,assignment]
MainWindow.attach = attach  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.argv = ["artist-desktop", "--demo", *sys.argv[1:]]
    runpy.run_module("artist_desktop", run_name="__main__", alter_sys=True)
