"""Find the bundled ``resources/`` files (sample catalog, images) in a checkout, an install or a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dirs() -> list[Path]:
    """Where ``resources/`` may live, most specific first."""
    candidates: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:  # a PyInstaller bundle unpacks its data next to the code
        candidates.append(Path(bundle) / "resources")
    # A source checkout or an editable install: resources/ sits next to the package directory.
    candidates.append(Path(__file__).resolve().parents[1] / "resources")
    # A wheel installed with the resources as data files.
    candidates.append(Path(sys.prefix) / "share" / "artist-desktop" / "resources")
    return candidates


def resource_path(*parts: str) -> Path:
    """The path of a bundled resource, e.g. ``resource_path("catalog.json")``.

    Raises FileNotFoundError naming every place looked in when the resource is nowhere.
    """
    tried = []
    for directory in resource_dirs():
        path = directory.joinpath(*parts)
        if path.exists():
            return path
        tried.append(str(path))
    raise FileNotFoundError(f"resource {'/'.join(parts) or '.'} not found; looked in: {', '.join(tried)}")


__all__ = ["resource_dirs", "resource_path"]
