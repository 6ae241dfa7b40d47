"""A worker's side of continuous discovery: reading hub visits, registering the hubs it finds.

A *hub* is a page the crawl revisits on a schedule (:mod:`crawler.frontier.hubs`
keeps the schedule in Redis): a site's home page, its section fronts, its RSS
and Atom feeds, its sitemaps and news sitemaps. Articles are fetched once.

:class:`HubReader` is what the spider calls for them:

* :meth:`HubReader.read` turns a hub's response into a :class:`HubReading` (the
  article links it lists, child sitemaps, whether it is a news sitemap), with
  the parsers of :mod:`crawler.discovery`. Entries of other sites are dropped
  and counted (``hubs/entries/offsite``), and so are entries whose date is older
  than ``FRONTIER_MAX_ARTICLE_AGE`` (``hubs/entries/too_old``).
* :meth:`HubReader.visit` queues those links at once (one ``PUSH`` call, seen
  check included, so the number of links the crawl had never seen is known) and
  records the visit: new links shorten the hub's interval, none lengthen it.
* :meth:`HubReader.failed` records a failed visit (backoff, then retirement).
* :meth:`HubReader.discover` registers hubs found on pages (feeds named by
  ``<link rel="alternate">``, section fronts) and in robots.txt (``Sitemap:``).

Both blocking parts (parsing, Redis) run in the spider's reading threads.
"""

from __future__ import annotations

import hashlib
import logging
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import redis
import scrapy

from crawler.base.counters import HUB_KINDS, Stat, hub_visit_stat
from crawler.base.urls import fingerprint, is_http_url, url_host
from crawler.discovery.feeds import FeedError, parse_feed
from crawler.discovery.pages import entry_is_fresh
from crawler.discovery.sitemaps import SitemapError, parse_sitemap
from crawler.frontier.codec import UnserializableRequest, encode_request
from crawler.frontier.config import FrontierConfig
from crawler.frontier.core import Frontier, QueueEntry
from crawler.frontier.hubs import HubRegistry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

__all__ = ["HubReader", "HubReading", "LinkFound"]

#: Sitemap indexes nest at most this deep below the hub (an index listing itself, or
#: indexes nesting without end, stop here).
MAX_SITEMAP_DEPTH = 3
#: Child sitemaps of one index fetched per visit (the newest first, by lastmod).
MAX_CHILD_SITEMAPS = 50
#: Hubs this worker remembers having registered (so a feed named on every page
#: costs one Redis call per worker, not one per page).
_KNOWN_HUBS = 10_000

_by_crawler: weakref.WeakKeyDictionary[Crawler, HubReader] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class LinkFound:
    """An article link a hub lists, with the date the hub gives it (None when it gives none)."""

    url: str
    published: datetime | None = None


@dataclass
class HubReading:
    """What one hub response holds, before anything is queued."""

    kind: str
    links: list[LinkFound] = field(default_factory=list)
    #: Sitemaps an index lists that this visit fetches (URL, lastmod).
    children: list[str] = field(default_factory=list)
    #: Hubs found while reading (URL, kind): a news sitemap, feeds named by a home page.
    hubs: list[tuple[str, str]] = field(default_factory=list)
    #: Why the response could not be read (the visit is an error), or None.
    error: str | None = None
    content_hash: str | None = None


class HubReader:
    """Reads hub responses and records their visits (see the module docstring).

    ``priority`` is the priority of the article links a hub lists: above links
    found on articles, so that new stories are fetched before older pages of
    the same host.
    """

    def __init__(self, frontier: Frontier, registry: HubRegistry, stats: StatsCollector | Crawler, *,
                 max_article_age: float, priority: int, hub_max_bytes: int) -> None:
        self.frontier = frontier
        self.registry = registry
        # A crawler's stats exist only once its crawl started: read through it then.
        self._stats = stats
        self.max_article_age = max_article_age
        self.priority = priority
        self.hub_max_bytes = hub_max_bytes
        self._known: OrderedDict[str, None] = OrderedDict()

    @property
    def stats(self) -> StatsCollector:
        stats = self._stats
        return stats.stats if hasattr(stats, "engine") else stats

    #: ``LINKS_HUB_PRIORITY``: the priority of article links listed by a hub.
    default_priority = 50

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> HubReader:
        """The one hub reader of a crawl (the spider's and the robots.txt middleware's)."""
        reader = _by_crawler.get(crawler)
        if reader is None:
            frontier = Frontier.for_crawler(crawler)
            config = frontier.config or FrontierConfig.from_settings(crawler.settings)
            reader = cls(frontier, HubRegistry.for_frontier(frontier), crawler,
                         max_article_age=config.max_article_age,
                         priority=crawler.settings.getint("LINKS_HUB_PRIORITY", cls.default_priority),
                         hub_max_bytes=crawler.settings.getint("DOWNLOAD_MAXSIZE"))
            _by_crawler[crawler] = reader
        return reader

    # --- reading (pure but for the stats) ------------------------------------------

    def read(self, response: Response, kind: str, *, allowed: set[str],
             html_links: Callable[[], list[str]] | None = None) -> HubReading:
        """The article links and child sitemaps of one hub response.

        ``allowed`` are the crawl's hosts; ``html_links`` lists the links of an
        HTML hub (home page, front) in page order.
        """
        reading = HubReading(kind=kind, content_hash=hashlib.sha1(response.body).hexdigest())
        if reading.content_hash == response.meta.get("hub_hash"):
            return reading  # the same bytes as last time: nothing new, nothing to parse
        if kind == "feed":
            self._read_feed(response, reading)
        elif kind in ("sitemap", "news-sitemap"):
            self._read_sitemap(response, reading)
        elif html_links is not None:
            reading.links = [LinkFound(url) for url in html_links()]
        reading.links = self._keep(reading.links, allowed, exclude=response.url)
        return reading

    def _read_feed(self, response: Response, reading: HubReading) -> None:
        try:
            feed = parse_feed(response.body, response.url)
        except FeedError as exc:
            reading.error = f"not a feed: {exc}"
            self.stats.inc_value(Stat.HUB_PARSE_ERRORS)
            return
        if feed.truncated:
            self.stats.inc_value(Stat.HUB_ENTRIES_TRUNCATED, feed.truncated)
        reading.links = [LinkFound(entry.url, entry.published) for entry in feed.entries]

    def _read_sitemap(self, response: Response, reading: HubReading) -> None:
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except SitemapError as exc:
            reading.error = f"not a sitemap: {exc}"
            self.stats.inc_value(Stat.HUB_PARSE_ERRORS)
            return
        if sitemap.truncated:
            self.stats.inc_value(Stat.HUB_ENTRIES_TRUNCATED, sitemap.truncated)
        if sitemap.kind == "index":
            depth = int(response.meta.get("sitemap_depth", 0))
            if depth >= MAX_SITEMAP_DEPTH:
                logger.warning("Sitemap index %s nests deeper than %d levels: its sitemaps are not read",
                               response.url, MAX_SITEMAP_DEPTH)
                self.stats.inc_value(Stat.HUB_ENTRIES_TRUNCATED, len(sitemap.entries))
                return
            now = datetime.now(timezone.utc)
            fresh = [entry for entry in sitemap.entries if entry.url != response.url
                     and entry_is_fresh(entry.lastmod, now, self.max_article_age)]
            fresh.sort(key=lambda entry: entry.lastmod or now, reverse=True)
            if len(fresh) > MAX_CHILD_SITEMAPS:
                self.stats.inc_value(Stat.HUB_ENTRIES_TRUNCATED, len(fresh) - MAX_CHILD_SITEMAPS)
            reading.children = [entry.url for entry in fresh[:MAX_CHILD_SITEMAPS]]
            return
        if sitemap.news and reading.kind == "sitemap":
            reading.kind = "news-sitemap"
        reading.links = [LinkFound(entry.url, entry.published or entry.lastmod) for entry in sitemap.entries]

    def _keep(self, links: list[LinkFound], allowed: set[str], *, exclude: str) -> list[LinkFound]:
        """``links`` without duplicates, non-HTTP and offsite URLs and entries too old (counted)."""
        now = datetime.now(timezone.utc)
        kept: dict[str, LinkFound] = {}
        for link in links:
            if link.url == exclude or link.url in kept:
                continue
            if not is_http_url(link.url):
                self.stats.inc_value(Stat.LINKS_NOT_HTTP)
            elif url_host(link.url) not in allowed:
                self.stats.inc_value(Stat.HUB_ENTRIES_OFFSITE)
                self.stats.inc_value(Stat.OFFSITE_DROPPED)
            elif not entry_is_fresh(link.published, now, self.max_article_age):
                self.stats.inc_value(Stat.HUB_ENTRIES_TOO_OLD)
            else:
                kept[link.url] = link
        return list(kept.values())

    # --- queueing and recording (Redis: call in a thread) ----------------------------

    def requests(self, response: Response, reading: HubReading, spider: scrapy.Spider) -> list[scrapy.Request]:
        """The requests of a reading: its article links, then its child sitemaps."""
        now = time.time()
        depth = int(response.meta.get("depth", 0)) + 1
        via = reading.kind
        requests = [scrapy.Request(link.url, callback=spider.parse, errback=spider.on_error,
                                   priority=self.priority,
                                   meta={"discovered_at": now, "discovered_via": via, "depth": depth})
                    for link in reading.links]
        sitemap_depth = int(response.meta.get("sitemap_depth", 0)) + 1
        requests += [scrapy.Request(url, callback=spider.parse, errback=spider.on_error,
                                    priority=self.priority, dont_filter=True,
                                    meta={"hub": "sitemap", "hub_child": True, "sitemap_depth": sitemap_depth,
                                          "handle_httpstatus_list": [304],
                                          "download_maxsize": self.hub_max_bytes})
                     for url in reading.children]
        return requests

    def visit(self, response: Response, reading: HubReading, spider: scrapy.Spider) -> list[scrapy.Request]:
        """Queue a reading's links and record the visit; returns the requests it could not queue.

        On a Redis error the requests are returned for the spider to yield (the
        scheduler keeps them until Redis answers) and the visit is not recorded:
        the hub's visit is queued again once its lease times out.
        """
        requests = self.requests(response, reading, spider)
        try:
            entries = [QueueEntry(encode_request(request, spider),
                                  "" if request.dont_filter else fingerprint(request),
                                  request.priority, url_host(request.url))
                       for request in requests]
        except UnserializableRequest as exc:  # pragma: no cover - our own plain requests
            logger.error("Cannot queue the links of hub %s: %s", response.url, exc)
            entries = []
        try:
            queued = self.frontier.push_many(entries) if entries else []
            new_links = sum(queued[:len(reading.links)])
            if reading.hubs:
                self.discover(reading.hubs)
            self._record(response, reading, new_links)
        except redis.RedisError as exc:
            logger.warning("Redis unavailable while recording the visit of hub %s: %s", response.url, exc)
            self.stats.inc_value(Stat.FRONTIER_REDIS_ERRORS)
            return requests
        self.stats.inc_value(Stat.HUB_ENTRIES_QUEUED, new_links)
        return []

    def not_modified(self, response: Response) -> None:
        """A 304: the hub did not change since its last visit; nothing is parsed."""
        if response.meta.get("hub_child"):
            return
        self.registry.record_visit(_hub_url(response.meta, response.url), result="not_modified")
        self.stats.inc_value(hub_visit_stat(_kind(response.meta["hub"]), "not_modified"))

    def _record(self, response: Response, reading: HubReading, new_links: int) -> None:
        if response.meta.get("hub_child"):
            if reading.kind == "news-sitemap":  # a news sitemap of an index: a hub of its own
                self.discover([(response.url, "news-sitemap")])
            return
        url = _hub_url(response.meta, response.url)
        result = "error" if reading.error else "changed" if new_links else "unchanged"
        headers = response.headers
        self.registry.record_visit(
            url, result=result, new_links=new_links, kind=reading.kind,
            etag=_header(headers, b"ETag"), last_modified=_header(headers, b"Last-Modified"),
            content_hash=reading.content_hash)
        self.stats.inc_value(hub_visit_stat(_kind(reading.kind), result))

    def failed(self, request: scrapy.Request, reason: str) -> None:
        """A hub's visit failed for good (HTTP error, no response): back off, then retire."""
        if request.meta.get("hub_child"):
            return
        try:
            self.registry.record_visit(_hub_url(request.meta, request.url), result="error")
        except redis.RedisError as exc:
            logger.warning("Redis unavailable while recording the failed visit of hub %s: %s",
                           request.url, exc)
            return
        self.stats.inc_value(hub_visit_stat(_kind(request.meta.get("hub")), "error"))
        logger.info("Visit of hub %s failed: %s", request.url, reason)

    def discover(self, hubs: Iterable[tuple[str, str]]) -> int:
        """Register hubs this worker has not registered before; returns how many were new to the crawl."""
        todo = [(url, kind) for url, kind in dict(hubs).items() if url not in self._known and kind in HUB_KINDS]
        if not todo:
            return 0
        added = 0
        for url, kind in todo:
            if self.registry.add(url, kind):
                added += 1
                self.stats.inc_value(Stat.HUB_DISCOVERED + kind)
                logger.info("New %s hub: %s", kind, url)
            self._known[url] = None
            if len(self._known) > _KNOWN_HUBS:
                self._known.popitem(last=False)
        return added


def _hub_url(meta: dict, url: str) -> str:
    """The hub's own URL: the first of a redirect chain (the registry knows hubs by it)."""
    redirects = meta.get("redirect_urls")
    return redirects[0] if redirects else url


def _kind(kind: Any) -> str:
    return kind if kind in HUB_KINDS else "front"


def _header(headers: Any, name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value else None
