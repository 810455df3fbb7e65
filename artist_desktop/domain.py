"""Pure data shared by every layer: stages, progress updates, artists and metrics.

Nothing here imports the rest of the project, Qt, HTTP, SQL or Redis.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

SPOTIFY_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")
#: ``https://open.spotify.com/artist/<id>``, with an optional ``intl-xx`` segment, ``?si=…`` or ``#…``.
_SPOTIFY_ARTIST_LINK = re.compile(
    r"^(?:https?://)?open\.spotify\.com/(?:intl-[A-Za-z-]+/)?(?:embed/)?artist/(?P<id>[0-9A-Za-z]{22})/?(?:[?#].*)?$"
)
_SPOTIFY_ARTIST_URI = re.compile(r"^spotify:artist:(?P<id>[0-9A-Za-z]{22})$")
#: Short links resolve only by following Spotify's HTTP redirect (api-facts.md, "What people paste").
_SPOTIFY_SHORT_LINK = re.compile(
    r"^(?:https?://)?(?:spotify\.link/[A-Za-z0-9]+|open\.spotify\.com/s/[A-Za-z0-9]+)/?(?:[?#].*)?$"
)


def is_spotify_id(value: str) -> bool:
    """A Spotify id is 22 characters of base 62."""
    return bool(SPOTIFY_ID_RE.fullmatch(value))


def spotify_id_from_text(text: str) -> str | None:
    """The artist id in what people paste, or None when it names no Spotify artist.

    Accepts the id itself, ``spotify:artist:<id>`` and ``https://open.spotify.com/(intl-xx/)artist/<id>?si=…``,
    with white space around any of them (Spotify's forms, ``../shared/api-facts.md``). Short links
    (:func:`is_spotify_short_link`) carry no id: they must be resolved by following their redirect.
    """
    value = text.strip().strip("<>\"'")
    if SPOTIFY_ID_RE.fullmatch(value):
        return value
    match = _SPOTIFY_ARTIST_URI.fullmatch(value) or _SPOTIFY_ARTIST_LINK.fullmatch(value)
    return match["id"] if match else None


def is_spotify_short_link(text: str) -> bool:
    """``https://spotify.link/<code>`` or ``https://open.spotify.com/s/<code>``: an id only after a redirect."""
    return bool(_SPOTIFY_SHORT_LINK.fullmatch(text.strip().strip("<>\"'")))


@dataclass(frozen=True, slots=True)
class ParsedArtistLines:
    """What :func:`parse_artist_lines` found: ids in first-seen order, short links to resolve, and bad lines.

    ``bad`` holds ``(line number, text)`` with line numbers from 1, for a message naming each.
    """

    ids: tuple[str, ...]
    short_links: tuple[str, ...]
    bad: tuple[tuple[int, str], ...]


def parse_artist_lines(text: str) -> ParsedArtistLines:
    """Split pasted text or a .txt/.csv file into Spotify artist ids.

    One artist per line; in a CSV line the first cell that names an artist counts. Blank lines and lines
    starting with ``#`` are skipped; a header line of a CSV (no cell names an artist, and it is line 1)
    is skipped too. Duplicates are kept once.
    """
    ids: dict[str, None] = {}
    short: dict[str, None] = {}
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cells = [cell for cell in re.split(r"[,;\t]", line) if cell.strip()] or [line]
        found = next((i for cell in cells if (i := spotify_id_from_text(cell)) is not None), None)
        if found is not None:
            ids.setdefault(found)
            continue
        link = next((cell.strip() for cell in cells if is_spotify_short_link(cell)), None)
        if link is not None:
            short.setdefault(link)
        elif not (number == 1 and len(cells) > 1):
            bad.append((number, line))
    return ParsedArtistLines(tuple(ids), tuple(short), tuple(bad))


def utcnow() -> datetime:
    return datetime.now(UTC)


class Stage(enum.StrEnum):
    """The stages of one artist's import, in order.

    INIT -> METADATA -> ANALYTICS -> MEDIA -> STORE -> COMPLETE, or ERROR from any stage.
    COMPLETE and ERROR are final.
    """

    INIT = "INIT"
    METADATA = "METADATA"
    ANALYTICS = "ANALYTICS"
    MEDIA = "MEDIA"
    STORE = "STORE"
    COMPLETE = "COMPLETE"
    ERROR = "ERROR"

    @property
    def label(self) -> str:
        return _STAGE_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self in (Stage.COMPLETE, Stage.ERROR)


_STAGE_LABELS = {
    Stage.INIT: "Adding Artist",
    Stage.METADATA: "Processing Metadata",
    Stage.ANALYTICS: "Processing Analytics",
    Stage.MEDIA: "Processing Media",
    Stage.STORE: "Saving Data",
    Stage.COMPLETE: "Complete",
    Stage.ERROR: "Error",
}

#: The progress range each working stage covers (DESIGN.md, "Stages, concretely").
STAGE_RANGES: dict[Stage, tuple[int, int]] = {
    Stage.INIT: (0, 5),
    Stage.METADATA: (5, 25),
    Stage.ANALYTICS: (25, 50),
    Stage.MEDIA: (50, 75),
    Stage.STORE: (75, 95),
    Stage.COMPLETE: (100, 100),
}


#: The words a cancelled import shows: its last update's message and ``payload["reason"]``, its job's
#: ``last_error``, the progress row's label. Code asks :attr:`ProgressUpdate.cancelled` or
#: ``JobStatus.CANCELLED``, never these words.
CANCELLED_MESSAGE = "Cancelled"


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    """One step of one artist's import, as published on the progress bus.

    JSON shape (the public contract): ``{"spotify_id", "stage", "progress", "message", "details",
    "payload", "seq", "ts"}``, plus ``"cancelled": true`` on the last update of a cancelled import.
    ``seq`` is assigned by the bus when published (0 = not yet published).

    A cancelled import ends in ERROR on the wire (the stages end in COMPLETE or ERROR) with ``cancelled``
    set: build it with :meth:`cancellation`.
    """

    spotify_id: str
    stage: Stage
    progress: int
    message: str = ""
    details: str = ""
    payload: dict[str, Any] | None = None
    seq: int = 0
    ts: datetime = field(default_factory=utcnow)
    cancelled: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.progress <= 100:
            raise ValueError(f"progress must be 0-100, got {self.progress}")
        if self.cancelled and self.stage is not Stage.ERROR:
            raise ValueError(f"a cancelled import ends in ERROR, not {self.stage.value}")

    @classmethod
    def cancellation(
        cls, spotify_id: str, progress: int, stage: Stage = Stage.INIT, details: str = ""
    ) -> ProgressUpdate:
        """The last update of an import cancelled in ``stage`` (INIT: before it started) at ``progress``."""
        return cls(
            spotify_id,
            Stage.ERROR,
            progress,
            CANCELLED_MESSAGE,
            details,
            payload={"stage": stage.value, "reason": CANCELLED_MESSAGE},
            cancelled=True,
        )

    def with_seq(self, seq: int) -> ProgressUpdate:
        return replace(self, seq=seq)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stage"] = self.stage.value
        data["ts"] = self.ts.isoformat()
        if not self.cancelled:
            del data["cancelled"]  # the contract's keys, unchanged for every other update
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProgressUpdate:
        ts = data.get("ts")
        return cls(
            spotify_id=str(data["spotify_id"]),
            stage=Stage(data["stage"]),
            progress=int(data["progress"]),
            message=str(data.get("message") or ""),
            details=str(data.get("details") or ""),
            payload=data.get("payload"),
            seq=int(data.get("seq") or 0),
            ts=datetime.fromisoformat(ts) if isinstance(ts, str) else utcnow(),
            cancelled=data.get("cancelled") is True,
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> ProgressUpdate:
        return cls.from_dict(json.loads(raw))


class Platform(enum.StrEnum):
    """A service an artist has an id on (``artist_platform_ids``) or figures from (``artist_metrics``).

    The id each one stores: Spotify's and Deezer's artist ids, MusicBrainz's MBID, Wikidata's item id
    (``Q2831``), the English Wikipedia article's title (``Michael Jackson``, editable by hand), Last.fm's
    artist name as Last.fm spells it. ListenBrainz keys its figures by the MBID: it stores no id of its own.
    """

    SPOTIFY = "spotify"
    DEEZER = "deezer"
    MUSICBRAINZ = "musicbrainz"
    WIKIDATA = "wikidata"
    WIKIPEDIA = "wikipedia"
    LASTFM = "lastfm"
    LISTENBRAINZ = "listenbrainz"

    @property
    def label(self) -> str:
        """The service's name as it writes it: "Last.fm", "ListenBrainz", "MusicBrainz"."""
        return _PLATFORM_LABELS[self]


_PLATFORM_LABELS = {
    Platform.SPOTIFY: "Spotify",
    Platform.DEEZER: "Deezer",
    Platform.MUSICBRAINZ: "MusicBrainz",
    Platform.WIKIDATA: "Wikidata",
    Platform.WIKIPEDIA: "Wikipedia",
    Platform.LASTFM: "Last.fm",
    Platform.LISTENBRAINZ: "ListenBrainz",
}


class MetricType(enum.StrEnum):
    """What a figure counts. ``followers`` on Deezer is its ``nb_fan``; ``pageviews`` are one UTC day's views
    of the English Wikipedia article (all agents' "user" views); ``listeners``/``playcount`` are Last.fm's
    all-time totals; ``listeners``/``listens`` ListenBrainz's ``total_user_count``/``total_listen_count``."""

    FOLLOWERS = "followers"
    POPULARITY = "popularity"
    ALBUMS = "albums"
    PAGEVIEWS = "pageviews"
    LISTENERS = "listeners"
    PLAYCOUNT = "playcount"
    LISTENS = "listens"


class SpotifyAppMode(enum.StrEnum):
    """What the configured Spotify app is allowed (``../shared/api-facts.md``, "two regimes").

    UNKNOWN until the first answer; DEVELOPMENT (every app created since 2026-02-11: search pages of 10,
    no followers/popularity, top tracks and batch endpoints removed); EXTENDED (Extended Quota, or an app
    old enough to keep the full API: artists arrive with followers and popularity).
    """

    UNKNOWN = "unknown"
    DEVELOPMENT = "development"
    EXTENDED = "extended"


#: Search page size Spotify allows a Development Mode app (1..10; larger answers 400 "Invalid limit").
DEVELOPMENT_SEARCH_LIMIT = 10
#: Search page size of the full API (1..50).
EXTENDED_SEARCH_LIMIT = 50


@dataclass(frozen=True, slots=True)
class SpotifyCapabilities:
    """What the configured Spotify client id has shown it can do, remembered across runs.

    ``removed_endpoints`` names endpoints that answered 403 "Forbidden" as removed for this app
    (``"top-tracks"``, ``"several-artists"``): they are never called again. ``premium_ok`` is False after
    Spotify's "Active premium subscription required" answer, True after any successful call.
    """

    mode: SpotifyAppMode = SpotifyAppMode.UNKNOWN
    max_search_limit: int = DEVELOPMENT_SEARCH_LIMIT
    removed_endpoints: frozenset[str] = frozenset()
    premium_ok: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "max_search_limit": self.max_search_limit,
            "removed_endpoints": sorted(self.removed_endpoints),
            "premium_ok": self.premium_ok,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpotifyCapabilities:
        try:
            mode = SpotifyAppMode(data.get("mode", SpotifyAppMode.UNKNOWN.value))
        except ValueError:
            mode = SpotifyAppMode.UNKNOWN
        limit = data.get("max_search_limit")
        premium = data.get("premium_ok")
        return cls(
            mode=mode,
            max_search_limit=limit if isinstance(limit, int) and 1 <= limit <= EXTENDED_SEARCH_LIMIT else 10,
            removed_endpoints=frozenset(str(e) for e in data.get("removed_endpoints") or ()),
            premium_ok=premium if isinstance(premium, bool) else None,
        )


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """One artist to queue: its id, a display name, and (when picked from search results) Spotify's artist
    object as the search answered it, so METADATA needs no Spotify request for it."""

    spotify_id: str
    name: str = ""
    spotify_artist: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        # The one check: ids are read from what people paste where they enter (spotify_id_from_text,
        # parse_artist_lines); past this point an ImportRequest's id is a valid one.
        if not is_spotify_id(self.spotify_id):
            raise ValueError(f"Not a Spotify artist id: {self.spotify_id!r} (22 letters and digits)")

    @classmethod
    def many(cls, items: Iterable[ImportRequest | tuple[str, str]]) -> list[ImportRequest]:
        """Requests for ``items`` (requests, or ``(spotify id, display name)`` pairs), in order.

        Raises ValueError naming every malformed id (``Not Spotify artist ids: abc, 123``).
        """
        requests: list[ImportRequest] = []
        bad: list[str] = []
        for item in items:
            if isinstance(item, ImportRequest):
                requests.append(item)
            elif is_spotify_id(item[0]):
                requests.append(cls(item[0], item[1]))
            else:
                bad.append(item[0])
        if bad:
            raise ValueError("Not Spotify artist ids: " + ", ".join(bad))
        return requests


@dataclass(frozen=True, slots=True)
class ServicePause:
    """A service asked us to stop calling it until ``resume_at`` (UTC): Spotify's daily quota answers 429
    ``QUOTA_EXCEEDED`` with a Retry-After of hours (``../shared/api-facts.md``). Work that needs the service
    waits in the queue and resumes by itself; nothing is marked failed."""

    service: str
    resume_at: datetime
    reason: str = ""

    def is_active(self, now: datetime | None = None) -> bool:
        return self.resume_at > (now or utcnow())

    def local_time(self, now: datetime | None = None) -> str:
        """``14:20`` in the machine's time zone, with the date when it is not today (``Tue 30 Nov 14:20``)."""
        local = self.resume_at.astimezone()
        today = (now or utcnow()).astimezone().date()
        return local.strftime("%H:%M") if local.date() == today else local.strftime("%a %d %b %H:%M")

    def sentence(self, now: datetime | None = None) -> str:
        """ "Spotify available again at 14:20": what the window, the CLI and the queue rows say."""
        return f"{self.service} available again at {self.local_time(now)}"

    def waiting_message(self, now: datetime | None = None) -> str:
        """ "Waiting for Spotify (resumes 14:20)": the message of a queued import held by the pause."""
        return f"Waiting for {self.service} (resumes {self.local_time(now)})"


class JobStatus(enum.StrEnum):
    """An import job in the ledger, and every change of status it may make (``store/jobs.py`` makes them):

    - queued -> running: a worker claims it.
    - queued -> cancelled: cancelled before it started.
    - running -> complete | error | cancelled: the import ended.
    - running -> queued: put back at its old place, when its worker died or stopped, or a service pause
      stopped it.
    - complete | error | cancelled -> queued: queued again at the end (retry, or the artist queued again).

    Any other change (queued -> complete, complete -> error, ...) is refused: :meth:`can_become` says no.
    complete, error and cancelled are final (:attr:`is_final`).
    """

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED)

    def can_become(self, target: JobStatus) -> bool:
        """True when a job in this status may change to ``target`` (the table in the class docstring)."""
        return target in _JOB_TRANSITIONS[self]


_JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    JobStatus.RUNNING: frozenset({JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED, JobStatus.QUEUED}),
    JobStatus.COMPLETE: frozenset({JobStatus.QUEUED}),
    JobStatus.ERROR: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED}),
}


#: The change windows the library shows, in days (Chartmetric's and Soundcharts' 1, 7 and 28 days).
CHANGE_WINDOWS: tuple[int, ...] = (1, 7, 28)
#: How many days a sparkline covers.
SPARKLINE_DAYS = 28


@dataclass(frozen=True, slots=True)
class DailyFigure:
    """One metric's value on one UTC day (the store keeps at most one per artist, platform, metric and day)."""

    day: date
    value: float


@dataclass(frozen=True, slots=True)
class MetricTrend:
    """One metric of one artist as the library shows it: the latest daily figure, its change over each of
    `CHANGE_WINDOWS`, and the figures of the last `SPARKLINE_DAYS` days (oldest first, days without a figure
    left out).

    The change over N days compares the latest figure with the figure of the last day on or before
    ``latest.day - N days``; None when there is no figure that old.
    """

    platform: str
    metric: str
    latest: DailyFigure
    recent: tuple[DailyFigure, ...]
    earlier: dict[int, DailyFigure | None]

    @classmethod
    def of(cls, platform: str, metric: str, figures: list[DailyFigure]) -> MetricTrend:
        """The trend of a non-empty series of daily figures, oldest first."""
        if not figures:
            raise ValueError("a trend needs at least one figure")
        latest = figures[-1]
        earlier: dict[int, DailyFigure | None] = {}
        for days in CHANGE_WINDOWS:
            cutoff = latest.day - timedelta(days=days)
            earlier[days] = next((f for f in reversed(figures) if f.day <= cutoff), None)
        since = latest.day - timedelta(days=SPARKLINE_DAYS - 1)
        return cls(platform, metric, latest, tuple(f for f in figures if f.day >= since), earlier)

    def change(self, days: int) -> float | None:
        """Latest figure minus the figure ``days`` days before (see the class docstring); None without one."""
        before = self.earlier.get(days)
        return None if before is None else self.latest.value - before.value

    def change_percent(self, days: int) -> float | None:
        """The change over ``days`` as a percentage of the earlier figure; None without one or when it was 0."""
        before = self.earlier.get(days)
        if before is None or before.value == 0:
            return None
        return (self.latest.value - before.value) / before.value * 100


@dataclass(frozen=True, slots=True)
class LibraryArtist:
    """One artist of the library: identity, ids on each platform, the cached image and a trend per metric.

    ``trends`` maps ``(platform, metric)`` (e.g. ``("deezer", "followers")``) to that metric's `MetricTrend`;
    metrics the artist has no figure for are absent. ``image_path`` is the artist image in the media cache
    (None when none was ever cached); ``image_url`` where it came from.
    """

    artist_id: int
    name: str
    country: str | None
    image_url: str | None
    image_path: str | None
    updated_at: datetime
    trends: dict[tuple[str, str], MetricTrend] = field(default_factory=dict)
    #: Every id the artist has, by platform value (``{"spotify": "…", "wikipedia": "Nirvana (band)"}``).
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def spotify_id(self) -> str | None:
        return self.ids.get(Platform.SPOTIFY.value)

    @property
    def deezer_id(self) -> str | None:
        return self.ids.get(Platform.DEEZER.value)

    @property
    def musicbrainz_id(self) -> str | None:
        return self.ids.get(Platform.MUSICBRAINZ.value)


@dataclass(frozen=True, slots=True)
class ArtistRecord:
    """An artist as the store writes it (everything optional except the name)."""

    name: str
    slug: str
    gender: str | None = None
    country: str | None = None
    birth_date: str | None = None
    image_url: str | None = None
    genres: list[str] = field(default_factory=list)
    popularity: int | None = None
    followers: int | None = None
    is_complete: bool = False


def slugify(name: str) -> str:
    """A stable, URL-safe slug for an artist name."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "artist"


def normalise_name(name: str) -> str:
    """The form two artist names are compared in (case, accents, punctuation and spacing ignored).

    Never erases a name: one made only of symbols (``!!!``, ``+/-``, ``🍓``) is compared as it is written,
    in NFKC, case-folded, its spaces collapsed (``！！！`` is ``!!!``). Only a blank name gives "".
    """
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", name.casefold())
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = " ".join(re.sub(r"[^\w]+", " ", no_marks).split())
    return words or " ".join(unicodedata.normalize("NFKC", name).casefold().split())
