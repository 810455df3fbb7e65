"""The Wikipedia source: each artist's daily user views of its English Wikipedia article (``pageviews``).

The way from an artist to its figures (issue 19; shapes and limits in ``../shared/api-facts.md``, "Wikimedia
pageviews and Wikidata" and "MusicBrainz"):

1. **The article's title.** A stored title wins (it may have been set by hand); else the stored Wikidata item;
   else MusicBrainz's ``url-rels`` of the MBID give the item (``type: "wikidata"``, one request per artist at
   MusicBrainz's 1 request/s). No such relation: not found, :data:`NO_WIKIDATA`. The items' English titles come
   from Wikidata's ``wbgetentities``, 50 items per request (a batch is sent when full, the rest when every
   MusicBrainz lookup is done); an item without an English article: not found, :data:`NO_ARTICLE`.
2. **The days.** Views of ``max(last_day + 1, today - 90)`` .. ``today - 1`` (UTC; day D is complete on D+1) in
   one request per artist: a first collection backfills :data:`BACKFILL_DAYS` days, a later one fetches the
   days missing, and an artist with none missing is reported updated with no figures and no request.
   Wikimedia leaves out the days nobody read the article: they are stored as 0, except the days after the last
   one it listed when they are younger than :data:`SETTLED_DAYS` (a day not yet complete looks the same: it is
   fetched again next time). A 404 (no data in the range) on a first collection is not found
   (:data:`NO_PAGEVIEWS`: a wrong title, or an article nobody reads); on a later one, days without views.

Ids learnt on the way are reported in :attr:`~artist_desktop.sources.base.ArtistFigures.resolved_ids`
(``{Platform.WIKIDATA: "Q2831", Platform.WIKIPEDIA: "Michael Jackson"}``), with a failure too, so the next run
starts from them. A service error is that artist's failure (its message as the reason); Wikimedia, Wikidata or
MusicBrainz refusing the User-Agent (403) or a missing contact raises
:class:`~artist_desktop.sources.base.SourceFailed`: every request would be refused the same way.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import date, timedelta

from artist_desktop.domain import MetricType, Platform
from artist_desktop.services.errors import AuthenticationError, NotFoundError, ServiceError
from artist_desktop.services.musicbrainz import MusicBrainzClient
from artist_desktop.services.wikimedia import ITEM_ID, MAX_IDS, WikidataClient, WikimediaClient
from artist_desktop.sources.base import ArtistFigures, Figure, FigureOutcome, Report, SourceArtist, SourceFailed

#: Days a first collection fetches (the days before today), in one request per artist.
BACKFILL_DAYS = 90
#: A day this many days before the run's day is complete at Wikimedia whatever the hour (day D is complete
#: early on D+1 UTC): a day it left out is then surely a day without views.
SETTLED_DAYS = 2
#: Requests in flight per service; the services' gates (200/min, MusicBrainz 1/s) are the real limit.
DEFAULT_CONCURRENCY = 8

NO_CONTACT = "no contact set (Settings: Contact)"
NO_WIKIDATA = "No Wikidata link on MusicBrainz"
NO_ARTICLE = "No English Wikipedia article"
NO_IDS = "No MusicBrainz id, Wikidata item or Wikipedia title"
NO_PAGEVIEWS = "No pageviews on English Wikipedia for {title!r} in the last {days} days (check the title)"

_ITEM_URL = re.compile(r"/(Q[1-9][0-9]*)/?$")


def wikidata_item(url: str) -> str | None:
    """The item id of a Wikidata URL (``https://www.wikidata.org/wiki/Q2831`` -> ``Q2831``), None for another."""
    match = _ITEM_URL.search(url.strip())
    return match[1] if match else None


def _refused(exc: AuthenticationError) -> SourceFailed:
    return SourceFailed(str(exc))


class WikipediaSource:
    """English Wikipedia pageviews of artists with an MBID, a Wikidata item or an article title."""

    name = Platform.WIKIPEDIA
    label = "Wikipedia pageviews"
    metrics = (MetricType.PAGEVIEWS,)
    headline = MetricType.PAGEVIEWS

    def __init__(
        self,
        musicbrainz: MusicBrainzClient,
        wikidata: WikidataClient,
        wikimedia: WikimediaClient,
        contact: str,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._musicbrainz = musicbrainz
        self._wikidata = wikidata
        self._wikimedia = wikimedia
        self._contact = contact
        self._concurrency = max(1, concurrency)

    def skip_reason(self) -> str | None:
        """:data:`NO_CONTACT` when the contact setting is empty (Wikimedia blocks anonymous User-Agents)."""
        return NO_CONTACT if not self._contact.strip() else None

    def serves(self, artist: SourceArtist) -> bool:
        """An artist with an MBID, a Wikidata item or a stored title."""
        return bool(artist.mbid or artist.wikidata_id or artist.platform_id)

    async def collect(self, artists: Sequence[SourceArtist], today: date, report: Report) -> None:
        """Resolve, batch and fetch as the module docstring says, reporting each artist once as its result comes.

        Raises :class:`SourceFailed` when the contact is empty or a service refuses the User-Agent.
        """
        reason = self.skip_reason()
        if reason is not None:
            raise SourceFailed(reason)
        mb_slots = asyncio.Semaphore(self._concurrency)
        wd_slots = asyncio.Semaphore(self._concurrency)
        wm_slots = asyncio.Semaphore(self._concurrency)
        #: Items waiting for a Wikidata batch: (artist, item, whether the item was resolved in this run).
        waiting: list[tuple[SourceArtist, str, bool]] = []

        async def views(artist: SourceArtist, title: str, resolved: dict[Platform, str]) -> None:
            async with wm_slots:
                outcome = await self._views(artist, title, today, resolved)
            await report(outcome)

        async def titles(batch: list[tuple[SourceArtist, str, bool]], group: asyncio.TaskGroup) -> None:
            try:
                async with wd_slots:
                    found = await self._wikidata.enwiki_titles(qid for _, qid, _ in batch)
            except AuthenticationError as exc:
                raise _refused(exc) from exc
            except ServiceError as exc:
                for artist, qid, new in batch:
                    await report(_failed(artist, str(exc), {Platform.WIKIDATA: qid} if new else {}))
                return
            for artist, qid, new in batch:
                resolved = {Platform.WIKIDATA: qid} if new else {}
                title = found.get(qid)
                if title is None:
                    await report(ArtistFigures.not_found(artist.artist_id, NO_ARTICLE, resolved))
                else:
                    group.create_task(views(artist, title, {**resolved, Platform.WIKIPEDIA: title}))

        def send(batch: list[tuple[SourceArtist, str, bool]], group: asyncio.TaskGroup) -> None:
            group.create_task(titles(batch, group))

        def enqueue(artist: SourceArtist, qid: str, new: bool, group: asyncio.TaskGroup) -> None:
            """Wait for a full batch of 50 items (sent at once) or for :func:`flush`."""
            waiting.append((artist, qid, new))
            if len(waiting) >= MAX_IDS:
                send(waiting[:MAX_IDS], group)
                del waiting[:MAX_IDS]

        def flush(group: asyncio.TaskGroup) -> None:
            while waiting:
                send(waiting[:MAX_IDS], group)
                del waiting[:MAX_IDS]

        async def link(artist: SourceArtist, group: asyncio.TaskGroup) -> None:
            """The artist's item from MusicBrainz, queued for Wikidata; or its outcome reported."""
            assert artist.mbid is not None
            try:
                async with mb_slots:
                    relations = await self._musicbrainz.url_relations(artist.mbid)
            except AuthenticationError as exc:
                raise _refused(exc) from exc
            except NotFoundError as exc:
                await report(ArtistFigures.not_found(artist.artist_id, str(exc)))
                return
            except ServiceError as exc:
                await report(ArtistFigures.failed(artist.artist_id, str(exc)))
                return
            qid = wikidata_item(relations.get("wikidata", ""))
            if qid is None:
                await report(ArtistFigures.not_found(artist.artist_id, NO_WIKIDATA))
            else:
                enqueue(artist, qid, True, group)

        async def resolve_all(lookups: list[SourceArtist], group: asyncio.TaskGroup) -> None:
            """Every MusicBrainz lookup, then the last partial batch of items."""
            async with asyncio.TaskGroup() as links:
                for artist in lookups:
                    links.create_task(link(artist, group))
            flush(group)

        try:
            async with asyncio.TaskGroup() as group:
                lookups: list[SourceArtist] = []
                for artist in artists:
                    if artist.platform_id and artist.platform_id.strip():
                        group.create_task(views(artist, artist.platform_id.strip(), {}))
                    elif artist.wikidata_id:
                        qid = artist.wikidata_id.strip().upper()
                        if ITEM_ID.match(qid):
                            enqueue(artist, qid, False, group)
                        else:
                            reason = f"The stored Wikidata id {artist.wikidata_id!r} is no item id (Q and a number)"
                            await report(ArtistFigures.not_found(artist.artist_id, reason))
                    elif artist.mbid:
                        lookups.append(artist)
                    else:
                        await report(ArtistFigures.not_found(artist.artist_id, NO_IDS))
                group.create_task(resolve_all(lookups, group))
        except BaseExceptionGroup as group_error:
            # The tasks' errors as the caller would see them from one coroutine: a refusal of the User-Agent
            # first, else the first error (the report callback's own, say), never the group around it.
            failed, _ = group_error.split(SourceFailed)
            raise _first_leaf(failed if failed is not None else group_error) from None

    async def _views(
        self, artist: SourceArtist, title: str, today: date, resolved: dict[Platform, str]
    ) -> ArtistFigures:
        """One artist's missing days (see the module docstring)."""
        first = today - timedelta(days=BACKFILL_DAYS)
        if artist.last_day is not None:
            first = max(first, artist.last_day + timedelta(days=1))
        last = today - timedelta(days=1)
        if first > last:
            return ArtistFigures.updated(artist.artist_id, [], resolved)
        try:
            series = await self._wikimedia.pageviews(title, first, last)
        except AuthenticationError as exc:
            raise _refused(exc) from exc
        except NotFoundError:
            if artist.last_day is None:
                reason = NO_PAGEVIEWS.format(title=title, days=BACKFILL_DAYS)
                return ArtistFigures.not_found(artist.artist_id, reason, resolved)
            counts = {first + timedelta(days=n): 0 for n in range((last - first).days + 1)}
            reported = None
        except ServiceError as exc:
            return _failed(artist, str(exc), resolved)
        else:
            counts, reported = series.views, series.reported
        settled = today - timedelta(days=SETTLED_DAYS)
        if reported is not None and reported > settled:
            settled = reported
        figures = [Figure(MetricType.PAGEVIEWS, day, count) for day, count in counts.items() if day <= settled]
        return ArtistFigures.updated(artist.artist_id, figures, resolved)


def _failed(artist: SourceArtist, reason: str, resolved: dict[Platform, str]) -> ArtistFigures:
    """A failure that keeps the ids learnt before it (the next run starts from them)."""
    return ArtistFigures(artist.artist_id, FigureOutcome.FAILED, (), reason, dict(resolved))


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first


__all__ = [
    "BACKFILL_DAYS",
    "DEFAULT_CONCURRENCY",
    "NO_ARTICLE",
    "NO_CONTACT",
    "NO_IDS",
    "NO_PAGEVIEWS",
    "NO_WIKIDATA",
    "SETTLED_DAYS",
    "WikipediaSource",
    "wikidata_item",
]
