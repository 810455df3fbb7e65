"""A catalog of any size for the API double, cloned from the bundled one (benchmarks, team-mode tests)."""

from __future__ import annotations

import hashlib
import json
import string
import uuid
from pathlib import Path
from typing import Any

from artist_desktop.devtools._catalog import Catalog, load_catalog
from artist_desktop.resources import resource_path

_BASE62 = string.digits + string.ascii_letters


def _spotify_id(seed: str) -> str:
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def generated_catalog_data(count: int) -> dict[str, Any]:
    """`count` artists, each a copy of a bundled one with its own name and ids (deterministic)."""
    bundled = json.loads(resource_path("catalog.json").read_text(encoding="utf-8"))["artists"]
    complete = [a for a in bundled if a.get("deezer") and a.get("musicbrainz")]
    artists = []
    for n in range(count):
        source = complete[n % len(complete)]
        clone = json.loads(json.dumps(source))
        clone["name"] = f"{source['name']} {n + 1}"
        clone["spotify"]["id"] = _spotify_id(f"artist-{n}")
        clone["deezer"]["id"] = 90_000_000 + n
        clone["musicbrainz"]["mbid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"artist-desktop/artist/{n}"))
        for t, track in enumerate(clone.get("top_tracks", [])):
            track["id"] = _spotify_id(f"track-{n}-{t}")
            track["album_id"] = _spotify_id(f"album-{n}-{t}")
        artists.append(clone)
    return {"about": f"{count} generated artists", "artists": artists, "deezer_only": []}


def write_generated_catalog(count: int, path: Path) -> Path:
    path.write_text(json.dumps(generated_catalog_data(count)), encoding="utf-8")
    return path


def generated_catalog(count: int, directory: Path) -> Catalog:
    return load_catalog(write_generated_catalog(count, directory / f"catalog-{count}.json"))
