"""The sample catalog the API double serves (``resources/catalog.json``), loaded and indexed, and the demo's
daily figures derived from it (:func:`daily_count`, :func:`daily_popularity`)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date
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
    return catalog_from_data(json.loads(source.read_text(encoding="utf-8")))


def catalog_from_data(data: dict[str, Any]) -> Catalog:
    """A catalog from the JSON shape of ``catalog.json`` (``{"artists": [...], "deezer_only": [...]}``)."""
    return Catalog(
        artists=[_artist(raw) for raw in data["artists"]],
        deezer_only=list(data.get("deezer_only", ())),
    )


# -- the demo's daily figures ------------------------------------------------------------------------
# A figure of the demo is a pure function of the seed, a key (whose figure: "<spotify id>", "dz<deezer id>"),
# the catalog's figure and the day: the history the demo loads and the double's answers on any later day
# agree, and every run on the same day sees the same numbers.

#: Every demo figure derives from this seed.
DEMO_SEED = "artist-desktop-demo"
#: The day the catalog's figures describe: counts grow (or shrink) from there.
DEMO_EPOCH = date(2026, 1, 1)
#: At most one spike per block of this many days; about a third of the blocks have one.
_SPIKE_BLOCK = 30
_SPIKE_SHARE = 0.35
#: Days a count's spike takes to land in full.
_SPIKE_RAMP = 3


def _unit(*parts: object) -> float:
    """A number in [0, 1) fixed by the seed and ``parts``."""
    digest = hashlib.sha256("\x1f".join(map(str, (DEMO_SEED, *parts))).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _spike(key: str, block: int) -> tuple[int, float] | None:
    """The spike of ``block`` (its first day, counted from the epoch, and its strength in [0, 1)), or None."""
    if _unit(key, "spike", block) >= _SPIKE_SHARE:
        return None
    start = block * _SPIKE_BLOCK + int(_unit(key, "spike-day", block) * (_SPIKE_BLOCK - _SPIKE_RAMP))
    return start, _unit(key, "spike-size", block)


def _blocks(first_day: int, last_day: int) -> range:
    """The spike blocks whose spikes can touch the days ``first_day``..``last_day`` (from the epoch)."""
    return range((first_day - _SPIKE_BLOCK) // _SPIKE_BLOCK, last_day // _SPIKE_BLOCK + 1)


def _count_level(key: str, t: int) -> float:
    """A count on day ``t`` (from the epoch) as a multiple of the epoch's, before rounding."""
    growth = -0.0002 + 0.0017 * _unit(key, "growth")  # a share of the count per day: most grow, a few fade
    spikes = 0.0
    for block in _blocks(min(0, t), max(0, t)):
        spike = _spike(key, block)
        if spike is None:
            continue
        start, strength = spike

        def landed(day: int, start: int = start) -> float:
            return min(max((day - start + 1) / _SPIKE_RAMP, 0.0), 1.0)

        spikes += (0.01 + 0.07 * strength) * (landed(t) - landed(0))
    noise = 0.0004 * (2 * _unit(key, "noise", t) - 1)
    return 1 + growth * t + spikes + noise


def daily_count(base: int, key: str, day: date, anchor: date = DEMO_EPOCH) -> int:
    """A follower or fan count on ``day`` that is ``base`` on ``anchor`` (default: the catalog's day).

    Steady growth of up to 0.15 % of the count a day (a few artists slowly lose followers), a spike of 1-8 %
    over three days in about one month out of three, and a little daily noise; never below 0.
    """
    t, t0 = (day - DEMO_EPOCH).days, (anchor - DEMO_EPOCH).days
    level = _count_level(key, t) / _count_level(key, t0) if t != t0 else 1.0
    return max(0, round(base * level))


def _popularity_offset(key: str, t: int) -> float:
    period = 40 + 40 * _unit(key, "wave-period")
    wave = 2.0 * math.sin(2 * math.pi * (t / period + _unit(key, "wave-phase")))
    bumps = 0.0
    for block in _blocks(t - 3 * _SPIKE_BLOCK, t):
        spike = _spike(key, block)
        if spike is not None and spike[0] <= t:
            bumps += (3 + 5 * spike[1]) * math.exp(-(t - spike[0]) / 4)
    return wave + bumps


def daily_popularity(base: int, key: str, day: date, anchor: date = DEMO_EPOCH) -> int:
    """A 0-100 popularity on ``day`` that is ``base`` on ``anchor``: a slow wave of about two points, and a bump
    of 3-8 points fading over a week at each of the artist's spikes (the ones :func:`daily_count` shows)."""
    t, t0 = (day - DEMO_EPOCH).days, (anchor - DEMO_EPOCH).days
    return max(0, min(100, round(base + _popularity_offset(key, t) - _popularity_offset(key, t0))))


def daily_fans(base: int, deezer_id: int, day: date) -> int:
    """A Deezer artist's ``nb_fan`` on ``day``, from the catalog's ``base``: what the demo's double answers
    that day and what the demo's history holds for it (:func:`daily_count` keyed by the Deezer id)."""
    return daily_count(base, f"dz{deezer_id}", day)


# -- Wikidata items, English Wikipedia titles and daily pageviews -----------------------------------------
# One rule, shared by the MusicBrainz double (its ``url-rels``) and the Wikidata and Wikimedia doubles, so the
# three agree on every artist of any catalog (the bundled one, generated ones).

#: Pageview data starts on this day (``../shared/api-facts.md``, "Wikimedia pageviews").
PAGEVIEWS_FIRST_DAY = date(2015, 7, 1)
#: Shares of the artists MusicBrainz knows whose item is missing on Wikidata's side, or has no English article.
_NO_WIKIDATA_SHARE = 0.08
_NO_ENWIKI_SHARE = 0.08
#: Share of groups whose article is disambiguated ("Air (band)").
_BAND_TITLE_SHARE = 0.3
#: A user view of the English article per this many Spotify followers, on an average day.
_FOLLOWERS_PER_VIEW = 2000


def wikidata_id(artist: CatalogArtist) -> str | None:
    """The Wikidata item (``Q12345678``) MusicBrainz links the artist to, or None: the artist is not on
    MusicBrainz, or (about one in twelve, fixed by the MBID) MusicBrainz has no Wikidata relation for it."""
    mbid = (artist.musicbrainz or {}).get("mbid")
    if not mbid or _unit("wikidata", mbid) < _NO_WIKIDATA_SHARE:
        return None
    return f"Q{10_000_000 + int(_unit('wikidata-id', mbid) * 90_000_000)}"


def enwiki_title(artist: CatalogArtist) -> str | None:
    """The English Wikipedia article of the artist's Wikidata item (the artist's name, "<name> (band)" for about
    a third of the groups), or None: no item, or (about one in twelve items) no English article."""
    qid = wikidata_id(artist)
    if qid is None or _unit("enwiki", qid) < _NO_ENWIKI_SHARE:
        return None
    kind = (artist.musicbrainz or {}).get("type")
    if kind == "Group" and _unit("band-title", qid) < _BAND_TITLE_SHARE:
        return f"{artist.name} (band)"
    return artist.name


def daily_pageviews(followers: int | None, title: str, day: date) -> int:
    """User views of the English article ``title`` on ``day``: about one per 2,000 Spotify followers, a weekly
    swing of 8 %, a spike of up to 4x fading over a few days in about a third of the months, and daily noise
    (wide for small articles: an article with a few views a day has days with none). 0 before
    :data:`PAGEVIEWS_FIRST_DAY` and for an artist without followers. O(1) per day, any day since 2015."""
    if day < PAGEVIEWS_FIRST_DAY or not followers:
        return 0
    mean = followers / _FOLLOWERS_PER_VIEW
    ordinal = day.toordinal()
    mean *= 1 + 0.08 * math.sin(2 * math.pi * (ordinal % 7) / 7 + 2 * math.pi * _unit(title, "week-phase"))
    for block in (ordinal // _SPIKE_BLOCK - 1, ordinal // _SPIKE_BLOCK):
        if _unit(title, "views-spike", block) >= _SPIKE_SHARE:
            continue
        start = block * _SPIKE_BLOCK + int(_unit(title, "views-spike-day", block) * _SPIKE_BLOCK)
        if start <= ordinal:
            mean *= 1 + 3 * _unit(title, "views-spike-size", block) * math.exp(-(ordinal - start) / 3)
    spread = min(1.0, max(0.15, 3 / math.sqrt(mean)))
    return max(0, math.floor(mean * (1 + spread * (2 * _unit(title, "views", ordinal) - 1))))
