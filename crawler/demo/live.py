"""The live demo site: stories go live on a schedule, hubs answer conditional GETs,
and every fetch that matters is recorded as ground truth.

:class:`LiveSite` answers each request from the stories live at that instant
(:class:`~crawler.demo.stories.Schedule`): a story not yet live is a 404, and
each hub (home, section fronts, feeds, sitemaps) lists what it lists *now*.
Hubs carry an ETag (a digest of the body) and a Last-Modified (the instant
their listing last changed) and answer 304 to a matching ``If-None-Match``, or,
without one, to an ``If-Modified-Since`` not older than Last-Modified.

The site records, under a lock, the first successful fetch of every path and
every hub fetch (time, path, kind, status); :meth:`LiveSite.truth` returns it
with the schedule, and :data:`~crawler.demo.livepages.TRUTH_PATH` serves it as
JSON. The recorded times are unix seconds (``time.time()``), comparable with
the stories' ``live_at``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from email.utils import formatdate, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.demo.livepages import (
    NEWS_SITEMAP_PATH,
    SITEMAP_INDEX_PATH,
    SITEMAP_PATH,
    TRUTH_PATH,
    archive_sitemap,
    atom_feed,
    live_front,
    live_home,
    news_sitemap,
    robots_txt,
    rss_feed,
    sitemap_index,
    story_page,
)
from crawler.demo.pages import not_found_page
from crawler.demo.response import Response
from crawler.demo.stories import FEEDS, LIVE_SECTIONS

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from crawler.demo.stories import LiveStory, Schedule

__all__ = ["FEED_LATEST", "FRONT_LATEST", "HOME_LATEST", "MORE_LATEST", "NEWS_MAX_AGE", "LiveSite"]

#: How many stories the home page, each front and each feed, and a "More" block list.
HOME_LATEST = 10
FRONT_LATEST = 20
FEED_LATEST = 20
MORE_LATEST = 4
#: The news sitemap lists the stories of the last two days only (Google's rule).
NEWS_MAX_AGE = 2 * 86400.0

_XML = "application/xml; charset=utf-8"
_FEED_CONTENT_TYPES = {"rss": "application/rss+xml; charset=utf-8",
                       "atom": "application/atom+xml; charset=utf-8"}


def _newest(stories: Sequence[LiveStory], count: int) -> list[LiveStory]:
    return sorted(stories, key=lambda s: s.live_at, reverse=True)[:count]


class _Listing:
    """What every hub lists at one instant (``now``), and when each listing last changed."""

    def __init__(self, live: list[LiveStory], now: float) -> None:
        self.now = now
        self.live = live
        self.by_path = {s.path: s for s in live}
        self.by_number = {s.number: s for s in live}
        self.ordinary = [s for s in live if not s.only]

    def home(self) -> list[LiveStory]:
        return _newest(self.ordinary, HOME_LATEST)

    def front(self, section: str) -> list[LiveStory]:
        return _newest([s for s in self.live if s.section == section and s.only in (None, "front")],
                       FRONT_LATEST)

    def feed(self, section: str) -> list[LiveStory]:
        return _newest([s for s in self.ordinary if s.section == section], FEED_LATEST)

    def news(self) -> tuple[list[LiveStory], float]:
        listed = [s for s in self.live if s.only in (None, "news-sitemap")]
        fresh = [s for s in listed if s.live_at >= self.now - NEWS_MAX_AGE]
        # The listing also changes when a story ages out of it.
        aged_out = [s.live_at + NEWS_MAX_AGE for s in listed if s.live_at < self.now - NEWS_MAX_AGE]
        return _newest(fresh, len(fresh)), max([s.live_at for s in fresh] + aged_out, default=0.0)

    def archive(self) -> list[LiveStory]:
        return _newest(self.ordinary, len(self.ordinary))

    def more(self, story: LiveStory) -> list[LiveStory]:
        """The "More" block of ``story``: the "more" story it hosts, if any, then the
        newest earlier ordinary stories of its section."""
        hosted = [s for s in self.live if s.linked_from == story.number]
        earlier = [s for s in self.ordinary if s.section == story.section and s.number < story.number]
        return hosted + _newest(earlier, MORE_LATEST)


def _changed(stories: Sequence[LiveStory]) -> float:
    return max((s.live_at for s in stories), default=0.0)


class LiveSite:
    """Routes, conditional GETs and the record of one live site at ``base_url``.

    ``clock`` gives the current unix time (``time.time`` by default; tests pass
    a clock they move by hand). Thread-safe: the server calls :meth:`respond`
    from one thread per connection.
    """

    def __init__(self, base_url: str, schedule: Schedule, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url
        self.schedule = schedule
        self.clock = clock
        self.hubs: dict[str, str] = {"/": "home", SITEMAP_INDEX_PATH: "sitemap",
                                     SITEMAP_PATH: "sitemap", NEWS_SITEMAP_PATH: "news-sitemap"}
        for section in LIVE_SECTIONS:
            self.hubs[f"/{section}/"] = "front"
            for _kind, path in FEEDS[section]:
                self.hubs[path] = "feed"
        self._lock = threading.Lock()
        self._first_fetch: dict[str, float] = {}
        self._hub_fetches: list[tuple[float, str, str, int]] = []

    # --- Serving --------------------------------------------------------------------

    def respond(self, target: str, headers: Mapping[str, str] | None = None) -> Response:
        """The response to a GET of ``target`` sent with request ``headers``; recorded."""
        now = self.clock()
        path = urlsplit(target).path
        if path == TRUTH_PATH:
            return Response(200, json.dumps(self.truth(now)).encode(), "application/json")
        response = self._route(path, _Listing(self.schedule.live(now), now), headers or {})
        with self._lock:
            if response.status == 200:
                self._first_fetch.setdefault(path, now)
            kind = self.hubs.get(path)
            if kind is not None:
                self._hub_fetches.append((now, path, kind, response.status))
        return response

    def _route(self, path: str, listing: _Listing, headers: Mapping[str, str]) -> Response:
        base = self.base_url
        if path == "/robots.txt":
            return Response(200, robots_txt(base), "text/plain; charset=utf-8")
        if path == "/":
            home = listing.home()
            return _hub(live_home(home).encode(), _changed(home), headers)
        section = path.strip("/")
        if path == f"/{section}/" and section in LIVE_SECTIONS:
            front = listing.front(section)
            return _hub(live_front(section, front).encode(), _changed(front), headers)
        for section, feeds in FEEDS.items():
            for kind, feed_path in feeds:
                if path == feed_path:
                    items = listing.feed(section)
                    changed = _changed(items)
                    render = rss_feed if kind == "rss" else atom_feed
                    return _hub(render(section, items, base, changed), changed, headers,
                                _FEED_CONTENT_TYPES[kind])
        if path == NEWS_SITEMAP_PATH:
            stories, changed = listing.news()
            return _hub(news_sitemap(stories, base), changed, headers, _XML)
        if path == SITEMAP_PATH:
            archive = listing.archive()
            return _hub(archive_sitemap(archive, base), _changed(archive), headers, _XML)
        if path == SITEMAP_INDEX_PATH:
            lastmods = {NEWS_SITEMAP_PATH: listing.news()[1], SITEMAP_PATH: _changed(listing.archive())}
            return _hub(sitemap_index(base, lastmods), max(lastmods.values()), headers, _XML)
        story = listing.by_path.get(path)
        if story is None:
            return Response(404, not_found_page().encode())
        return Response(200, story_page(story, listing.more(story), base).encode())

    # --- The record -----------------------------------------------------------------

    def first_fetches(self) -> dict[str, float]:
        """Path -> when it was first answered with a 200 (a copy)."""
        with self._lock:
            return dict(self._first_fetch)

    def hub_fetches(self) -> list[tuple[float, str, str, int]]:
        """Every hub fetch as (time, path, kind, status 200 or 304), in order (a copy)."""
        with self._lock:
            return list(self._hub_fetches)

    def truth(self, now: float | None = None) -> dict[str, Any]:
        """The site's ground truth at ``now`` (default: the clock), JSON-ready.

        ``stories``: every story live at ``now``, oldest first, each with
        ``number``, ``url``, ``path``, ``section``, ``headline``, ``published``
        (ISO 8601 with the site's offset), ``live_at``, ``linked_at`` (when the
        first page linking it went live: a "more" story's host's ``live_at``),
        ``only`` (its one path, or None), ``paths`` (the ``discovered_via``
        values that lead to it), ``backlog`` and ``first_fetched`` (None
        until fetched). ``hub_fetches``: every hub fetch ``{"at", "path",
        "kind", "status"}``; ``hub_fetch_counts``: kind -> {"200": n, "304": n}.
        """
        now = self.clock() if now is None else now
        live = self.schedule.live(now)
        by_number = {s.number: s for s in live}
        first, fetches = self.first_fetches(), self.hub_fetches()
        counts: dict[str, Counter[str]] = {kind: Counter() for kind in sorted(set(self.hubs.values()))}
        for _at, _path, kind, status in fetches:
            counts[kind][str(status)] += 1
        stories = []
        for s in live:
            host = by_number.get(s.linked_from) if s.linked_from is not None else None
            linked_at = (None if s.linked_from is not None and host is None
                         else host.live_at if host is not None else s.live_at)
            stories.append({
                "number": s.number, "url": self.base_url + s.path, "path": s.path,
                "section": s.section, "headline": s.headline, "published": s.published,
                "live_at": s.live_at, "linked_at": linked_at, "only": s.only,
                "paths": sorted(s.paths), "backlog": s.backlog, "first_fetched": first.get(s.path),
            })
        return {
            "base_url": self.base_url, "seed": self.schedule.seed, "start": self.schedule.start,
            "publish_every": self.schedule.publish_every, "now": now, "stories": stories,
            "hub_fetches": [{"at": at, "path": path, "kind": kind, "status": status}
                            for at, path, kind, status in fetches],
            "hub_fetch_counts": {kind: {"200": c["200"], "304": c["304"]} for kind, c in counts.items()},
        }


def _hub(body: bytes, changed: float, headers: Mapping[str, str], content_type: str = "") -> Response:
    """A hub's 200, or a 304 when the request's validators match."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    validators = (("ETag", etag), ("Last-Modified", formatdate(int(changed), usegmt=True)),
                  ("Cache-Control", "no-cache"))
    if _not_modified(headers, etag, int(changed)):
        return Response(304, b"", content_type or "text/html; charset=utf-8", headers=validators)
    return Response(200, body, content_type or "text/html; charset=utf-8", headers=validators)


def _not_modified(headers: Mapping[str, str], etag: str, changed: int) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError):
        return False
    return since >= changed
