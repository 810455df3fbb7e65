"""Catalogs for the API double derived from the bundled one: any size, cloned (benchmarks, team-mode tests), and
the bundled one with the identity scenarios (:func:`identity_catalog`: namesakes and symbol-only names)."""

from __future__ import annotations

import hashlib
import json
import string
import uuid
from pathlib import Path
from typing import Any

from artist_desktop.devtools._catalog import Catalog, catalog_from_data, load_catalog
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


# -- the identity scenarios (issue 16): the bundled catalog leaves them out, so its counts stay as they are --

#: The famous Nirvana's figures in the identity catalog (the bundled "Nirvana" takes them): Deezer's real id
#: and about its real audiences, so a small namesake that took them would show at once.
FAMOUS_NIRVANA_FOLLOWERS = 11_204_871
FAMOUS_NIRVANA_DEEZER: dict[str, int] = {"id": 415, "nb_fan": 9_812_377, "nb_album": 27}


def _scenario_artist(
    name: str,
    followers: int,
    popularity: int,
    deezer: dict[str, int] | None,
    musicbrainz: dict[str, Any] | None,
    tracks: tuple[str, ...],
    genres: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A catalog artist whose ids are fixed by ``name``; ``"Nirvana#uk"`` is a "Nirvana" with ids of its own."""
    album_id = _spotify_id(f"identity-album-{name}")
    return {
        "name": name.split("#", 1)[0],
        "spotify": {
            "id": _spotify_id(f"identity-{name}"),
            "genres": list(genres),
            "followers": followers,
            "popularity": popularity,
        },
        "deezer": deezer,
        "musicbrainz": musicbrainz,
        "top_tracks": [
            {
                "id": _spotify_id(f"identity-track-{name}-{n}"),
                "name": title,
                "album": f"{name.split('#', 1)[0]} (album)",
                "album_id": album_id,
                "popularity": max(1, 40 - 5 * n),
                "duration_ms": 180_000 + 7_000 * n,
            }
            for n, title in enumerate(tracks)
        ],
    }


def _group(seed: str, country: str, area: str, begin: str) -> dict[str, Any]:
    mbid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"artist-desktop/identity/{seed}"))
    life_span = {"begin": begin, "end": None, "ended": False}
    return {"mbid": mbid, "type": "Group", "gender": None, "country": country, "area": area, "life_span": life_span}


#: Artists the identity scenarios add: a second, small "Nirvana" on Spotify and Deezer (the 1967 UK band:
#: Spotify 9 K followers against the famous band's 11 M, Deezer 2 K fans against 9.8 M), and names that
#: normalise to nothing: ``!!!``, ``+/-`` and ``🍓`` (on Deezer under that exact name) and ``†††`` (on no Deezer).
IDENTITY_ARTISTS: tuple[dict[str, Any], ...] = (
    _scenario_artist(
        "Nirvana#uk",
        9_140,
        31,
        {"id": 1_447_311, "nb_fan": 2_140, "nb_album": 9},
        _group("nirvana-uk", "GB", "United Kingdom", "1967"),
        ("Rainbow Chaser", "Tiny Goddess", "Pentecost Hotel"),
        ("psychedelic pop", "baroque pop"),
    ),
    _scenario_artist(
        "!!!",
        152_316,
        48,
        {"id": 5_330, "nb_fan": 61_408, "nb_album": 10},
        _group("chk-chk-chk", "US", "United States", "1996"),
        ("Must Be the Moon", "Heart of Hearts", "One Girl / One Boy"),
        ("dance-punk", "indietronica"),
    ),
    _scenario_artist(
        "+/-",
        11_873,
        27,
        {"id": 219_404, "nb_fan": 2_936, "nb_album": 6},
        _group("plus-minus", "US", "United States", "2001"),
        ("Steal the Blueprints", "Trapped Under Ice Floes", "Megalomaniac"),
        ("indie rock",),
    ),
    _scenario_artist("🍓", 862, 9, {"id": 158_801_447, "nb_fan": 143, "nb_album": 2}, None, ("Seeds", "Runner", "Jam")),
    _scenario_artist(
        "†††",
        371_560,
        52,
        None,
        _group("crosses", "US", "United States", "2011"),
        ("This Is a Trick", "Telepathy", "The Epilogue"),
        ("witch house",),
    ),
)


def identity_catalog_data() -> dict[str, Any]:
    """The bundled catalog with the identity scenarios: its "Nirvana" becomes the famous band with Deezer id 415
    and 9.8 M fans (:data:`FAMOUS_NIRVANA_DEEZER`), and :data:`IDENTITY_ARTISTS` join it."""
    data: dict[str, Any] = json.loads(resource_path("catalog.json").read_text(encoding="utf-8"))
    famous = next(artist for artist in data["artists"] if artist["name"] == "Nirvana")
    famous["spotify"]["followers"] = FAMOUS_NIRVANA_FOLLOWERS
    famous["deezer"] = dict(FAMOUS_NIRVANA_DEEZER)
    data["artists"].extend(json.loads(json.dumps(IDENTITY_ARTISTS)))
    data["about"] = f"{data.get('about', 'the sample catalog')}, with the identity scenarios"
    return data


def identity_catalog() -> Catalog:
    """:func:`identity_catalog_data` as a catalog, for ``ApiDouble(config, catalog=identity_catalog())``."""
    return catalog_from_data(identity_catalog_data())
