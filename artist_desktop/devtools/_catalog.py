"""The sample catalog the API double serves (``resources/catalog.json``), loaded and indexed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from artist_desktop.domain import is_spotify_id, normalise_name
from artist_desktop.resources import resource_path


@dataclass(frozen=True, slots=True)
class CatalogTrack:
    id: str
    name: str
    album: str
    album_id: str
    popularity: int
    duration_ms: int


@dataclass(frozen=True, slots=True)
class CatalogArtist:
    """One artist; ``deezer`` / ``musicbrainz`` are None when that service does not know the artist."""

    name: str
    spotify_id: str
    genres: tuple[str, ...] | None
    followers: int | None
    popularity: int | None
    deezer: dict[str, Any] | None
    musicbrainz: dict[str, Any] | None
    top_tracks: tuple[CatalogTrack, ...]

    @property
    def spotify_url(self) -> str:
        return f"https://open.spotify.com/artist/{self.spotify_id}"


@dataclass(slots=True)
class Catalog:
    artists: list[CatalogArtist]
    #: Deezer artists no other service knows (tribute bands...): they make name matching realistic.
    deezer_only: list[dict[str, Any]] = field(default_factory=list)
    by_spotify_id: dict[str, CatalogArtist] = field(default_factory=dict)
    by_mbid: dict[str, CatalogArtist] = field(default_factory=dict)
    deezer_artists: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: Deezer id -> the artist every service knows (``deezer_only`` artists are not here).
    by_deezer_id: dict[int, CatalogArtist] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for artist in self.artists:
            self.by_spotify_id[artist.spotify_id] = artist
            if artist.musicbrainz:
                self.by_mbid[artist.musicbrainz["mbid"]] = artist
            if artist.deezer:
                self.deezer_artists[int(artist.deezer["id"])] = {"name": artist.name, **artist.deezer}
                self.by_deezer_id[int(artist.deezer["id"])] = artist
        for extra in self.deezer_only:
            self.deezer_artists[int(extra["id"])] = dict(extra)

    def search_spotify(self, query: str) -> list[CatalogArtist]:
        """Artists whose normalised name contains the normalised query, most popular first."""
        needle = normalise_name(query)
        found = [a for a in self.artists if needle and needle in normalise_name(a.name)]
        return sorted(found, key=lambda a: (-(a.popularity or 0), a.name))

    def search_deezer(self, query: str) -> list[dict[str, Any]]:
        """Deezer artists matching the query, most fans first (Deezer's own order is similar)."""
        needle = normalise_name(query)
        found = [d for d in self.deezer_artists.values() if needle and needle in normalise_name(d["name"])]
        return sorted(found, key=lambda d: -int(d.get("nb_fan") or 0))


def _artist(raw: dict[str, Any]) -> CatalogArtist:
    spotify = raw["spotify"]
    if not is_spotify_id(spotify["id"]):
        raise ValueError(f"catalog: {raw['name']!r} has an invalid Spotify id {spotify['id']!r}")
    genres = spotify.get("genres")
    return CatalogArtist(
        name=raw["name"],
        spotify_id=spotify["id"],
        genres=tuple(genres) if genres is not None else None,
        followers=spotify.get("followers"),
        popularity=spotify.get("popularity"),
        deezer=raw.get("deezer"),
        musicbrainz=raw.get("musicbrainz"),
        top_tracks=tuple(CatalogTrack(**track) for track in raw.get("top_tracks", ())),
    )


def load_catalog(path: Path | None = None) -> Catalog:
    """Read the catalog (the bundled one by default)."""
    source = path if path is not None else resource_path("catalog.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    return Catalog(
        artists=[_artist(raw) for raw in data["artists"]],
        deezer_only=list(data.get("deezer_only", ())),
    )
