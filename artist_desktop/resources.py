"""Find the shipped ``resources/`` files (sample catalog, icons) and helper programs: checkout, install or bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resource_dirs() -> list[Path]:
    """Where ``resources/`` may live, most specific first."""
    candidates: list[Path] = []
    bundle = bundle_dir()
    if bundle is not None:  # a PyInstaller bundle unpacks its data next to the code
        candidates.append(bundle / "resources")
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


def bundle_dir() -> Path | None:
    """The directory a PyInstaller bundle unpacked its code and data into; None when not running from one."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else None


def bundled_binary(name: str) -> Path | None:
    """A helper program shipped in the bundle's ``bin/`` (e.g. ``bundled_binary("redis-server")``).

    None outside a bundle, or when the bundle was built without it: callers then look on PATH.
    """
    bundle = bundle_dir()
    if bundle is None:
        return None
    for filename in (name, f"{name}.exe") if os.name == "nt" else (name,):
        candidate = bundle / "bin" / filename
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


__all__ = ["bundle_dir", "bundled_binary", "resource_dirs", "resource_path"]
