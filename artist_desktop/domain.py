"""Pure data shared by every layer: stages, progress updates, artists and metrics.

Nothing here imports the rest of the project, Qt, HTTP, SQL or Redis.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

SPOTIFY_ID_RE = re.compile(r"^[0-9A-Za-z]{22}$")


def is_spotify_id(value: str) -> bool:
    """A Spotify id is 22 characters of base 62."""
    return bool(SPOTIFY_ID_RE.fullmatch(value))


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

    @property
    def order(self) -> int:
        """Position in the run; ERROR sorts last with COMPLETE."""
        return _STAGE_ORDER[self]


_STAGE_LABELS = {
    Stage.INIT: "Adding Artist",
    Stage.METADATA: "Processing Metadata",
    Stage.ANALYTICS: "Processing Analytics",
    Stage.MEDIA: "Processing Media",
    Stage.STORE: "Saving Data",
    Stage.COMPLETE: "Complete",
    Stage.ERROR: "Error",
}
_STAGE_ORDER = {stage: i for i, stage in enumerate(Stage)}
_STAGE_ORDER[Stage.ERROR] = _STAGE_ORDER[Stage.COMPLETE]

#: The progress range each working stage covers (DESIGN.md, "Stages, concretely").
STAGE_RANGES: dict[Stage, tuple[int, int]] = {
    Stage.INIT: (0, 5),
    Stage.METADATA: (5, 25),
    Stage.ANALYTICS: (25, 50),
    Stage.MEDIA: (50, 75),
    Stage.STORE: (75, 95),
    Stage.COMPLETE: (100, 100),
}


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    """One step of one artist's import, as published on the progress bus.

    JSON shape (the public contract): ``{"spotify_id", "stage", "progress", "message", "details",
    "payload", "seq", "ts"}``. ``seq`` is assigned by the bus when published (0 = not yet published).
    """

    spotify_id: str
    stage: Stage
    progress: int
    message: str = ""
    details: str = ""
    payload: dict[str, Any] | None = None
    seq: int = 0
    ts: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if not 0 <= self.progress <= 100:
            raise ValueError(f"progress must be 0-100, got {self.progress}")

    def with_seq(self, seq: int) -> ProgressUpdate:
        return replace(self, seq=seq)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stage"] = self.stage.value
        data["ts"] = self.ts.isoformat()
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
        )

    @classmethod
    def from_json(cls, raw: str | bytes) -> ProgressUpdate:
        return cls.from_dict(json.loads(raw))


class Platform(enum.StrEnum):
    SPOTIFY = "spotify"
    DEEZER = "deezer"
    MUSICBRAINZ = "musicbrainz"


class MetricType(enum.StrEnum):
    FOLLOWERS = "followers"
    POPULARITY = "popularity"
    ALBUMS = "albums"


class JobStatus(enum.StrEnum):
    """An import job in the ledger: queued -> running -> complete | error | cancelled.

    error and cancelled go back to queued on retry; a job left running by a crashed process goes
    back to queued on start-up.
    """

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.COMPLETE, JobStatus.ERROR, JobStatus.CANCELLED)


@dataclass(frozen=True, slots=True)
class ArtistRecord:
    """An artist as the store writes it (everything optional except the name)."""

    name: str
    slug: str
    bio: str | None = None
    gender: str | None = None
    country: str | None = None
    birth_date: str | None = None
    image_url: str | None = None
    genres: list[str] = field(default_factory=list)
    popularity: int | None = None
    followers: int | None = None
    is_complete: bool = False


@dataclass(frozen=True, slots=True)
class MetricPoint:
    artist_id: int
    platform: str
    metric_type: str
    value: float
    date: datetime


def slugify(name: str) -> str:
    """A stable, URL-safe slug for an artist name."""
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "artist"


def normalise_name(name: str) -> str:
    """The form two artist names are compared in (case, accents, punctuation and spacing ignored)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", name.casefold())
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", no_marks).split())
