"""Developer tools shipped with the app: the local API double behind tests, bench and demo mode."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from artist_desktop.devtools.api_double import REMOVE, ApiDouble, DoubleConfig, DoubleUrls, Fault, SpotifyProfile

__all__ = ["REMOVE", "ApiDouble", "DoubleConfig", "DoubleUrls", "Fault", "SpotifyProfile"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m artist_desktop.devtools.api_double` does not import the module twice.
    if name in __all__:
        return getattr(importlib.import_module("artist_desktop.devtools.api_double"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
