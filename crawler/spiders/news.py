"""The ``news`` spider: articles and the "More <Section>" blocks under them."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

import redis
import scrapy
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.asyncio import is_asyncio_available
from twisted.internet.threads import deferToThread

from crawler.article.dates import warm_up
from crawler.article.extract import extract_article
from crawler.base.counters import Stat, failed_stat
from crawler.base.urls import is_http_url, url_host
from crawler.discovery.pages import feed_links, is_front
from crawler.frontier.core import Frontier
from crawler.frontier.scheduler import wake_engine
from crawler.worker.hubs import HubReader, HubReading

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure
    from typing_extensions import Self

logger = logging.getLogger(__name__)

_HOSTS_REFRESH_SECONDS = 5.0
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_T = TypeVar("_T")


def html_content_type(response: scrapy.http.Response) -> str | None:
    """The Content-Type header of ``response`` ("" when there is none) if the spider
    extracts from it, None if it is not an HTML page with a body (``crawler reextract``
    applies the same rule to archived responses)."""
    content_type = response.headers.get("Content-Type", b"").decode("latin-1")
    declared = content_type.split(";", 1)[0].strip().lower()
    # Scrapy sniffs the body when the declared type is unknown (a PDF can
    # pass for text): trust the declaration when there is one.
    if (not isinstance(response, TextResponse) or not response.body
            or (declared and declared not in _HTML_TYPES)):
        return None
    return content_type


class NewsSpider(scrapy.Spider):
    """Reads news articles and follows links on the sites it was seeded with.

    Seeds are not read here: ``crawler seed`` puts them in the shared frontier,
    and the Redis scheduler hands them to whichever worker asks first, at any
    time during the crawl. Links of "More <Section>" blocks are followed
    first (``LINKS_RELATED_PRIORITY``); links to other sites are counted
    (``offsite/dropped``) and dropped, and so are links matching
    ``LINKS_DENY_PATTERNS`` (crawler traps) and links that are not http or
    https (``links/not_http``: Scrapy's link extractor keeps ``file:`` and
    ``ftp:``); ``DEPTH_LIMIT`` bounds the rest, and ``LINKS_MAX_PER_PAGE`` the
    links read from one page.

    A page is read (its article extracted, its links listed) in a thread of
    the spider's own pool (``EXTRACT_THREADS``), never on the reactor's: however
    long one page takes, the worker keeps renewing its leases, sending its
    heartbeat, answering ``/healthz`` and fetching other pages meanwhile.
    """

    name = "news"
    #: ``LINKS_RELATED_PRIORITY``: added to links of "More <Section>" blocks so they are fetched first.
    default_related_priority = 10
    #: ``LINKS_MAX_PER_PAGE``: links read from one page, in page order (real pages have hundreds).
    default_max_links = 2000
    #: ``EXTRACT_THREADS``: pages read at once, each in a thread off the reactor.
    default_extract_threads = 2
    #: ``EXTRACT_WARM_UP``: build the date parser's tables (about 2 s of CPU) in the
    #: extraction pool as the spider starts, not on the first page that needs them.
    default_extract_warm_up = True
    #: ``LINKS_DENY_PATTERNS``: crawler traps (endless calendars, session ids,
    #: sort orders, print/share views, login pages).
    default_deny_patterns = (
        r"/calendar(/|$|\?)",
        r"[?&](date|day|month|year|week)=",
        r"/\d{4}/\d{1,2}/\d{1,2}/?$",
        r"[?&;](sid|sessionid|session_id|jsessionid|phpsessid)=",
        r";jsessionid=",
        r"[?&](sort|order|orderby|sort_by|sortorder)=",
        r"[?&](print|share|replytocom)=",
        r"/(login|signin|signup|register|subscribe|account|cart)(/|$|\?)",
    )

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.related_priority = settings.getint("LINKS_RELATED_PRIORITY", cls.default_related_priority)
        max_links = settings.getint("LINKS_MAX_PER_PAGE", cls.default_max_links)
        threads = settings.getint("EXTRACT_THREADS", cls.default_extract_threads)
        if max_links < 1 or threads < 1:
            raise ValueError(f"LINKS_MAX_PER_PAGE ({max_links}) and EXTRACT_THREADS ({threads}) "
                             f"must be at least 1")
        spider.links = LinkExtractor(
            deny=settings.getlist("LINKS_DENY_PATTERNS", list(cls.default_deny_patterns)), unique=True,
            # The first links of the page, as one node set: a union ("//a | //area") is quadratic in libxml2.
            restrict_xpaths=f"(//*[self::a or self::area])[position() <= {max_links}]")
        spider._readers = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="extract")
        if settings.getbool("EXTRACT_WARM_UP", cls.default_extract_warm_up):
            spider._readers.submit(warm_up)
        spider.frontier = Frontier.for_crawler(crawler)
        spider.hubs = HubReader.for_crawler(crawler)
        spider._hosts: set[str] = set()
        spider._hosts_read_at = float("-inf")
        return spider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing: seeds come from Redis

    async def parse(self, response: scrapy.http.Response) -> AsyncIterator[Any]:
        hub = response.meta.get("hub")
        if hub:
            for request in await self._visit(response, hub):
                yield request
            return
        content_type = html_content_type(response)
        if content_type is None:
            self.crawler.stats.inc_value(Stat.PAGES_NON_HTML)
            return
        allowed = self._allowed_hosts()
        article, links, front = await self._in_thread(self._read, response, content_type, allowed)
        related: list[str] = []
        if article is None:
            self.crawler.stats.inc_value(Stat.PAGES_LISTING)
        else:
            self.crawler.stats.inc_value(Stat.PAGES_ARTICLE)
            related = [entry["url"] for entry in article["related"]]
            article["discovered_at"] = response.meta.get("discovered_at")
            article["discovered_via"] = response.meta.get("discovered_via", "seed")
            yield article
        for request in self._follow(response, related, links, via="front" if front else "link"):
            yield request

    def _read(self, response: TextResponse, content_type: str,
              allowed: set[str]) -> tuple[dict | None, list[str], bool]:
        """The page's article (or None), the URLs of its links, and whether it is a section
        front: the slow part, run in a thread.

        Registers the hubs the page names: its feeds, and the page itself when it is a
        section front (a listing linked from a home page or front)."""
        article = extract_article(response.body, response.url, content_type=content_type)
        links = self.links.extract_links(response)
        hubs = self._feeds(response, allowed)
        front = (article is None and response.meta.get("discovered_via") in ("home", "front")
                 and is_front(response.url, [(link.url, link.text) for link in links], is_article=False))
        if front:
            hubs.append((response.url, "front"))
        if hubs:
            try:
                self.hubs.discover(hubs)
            except redis.RedisError as exc:  # found again on a later page
                logger.warning("Redis unavailable, hubs of %s not registered: %s", response.url, exc)
        return article, [link.url for link in links], front

    async def _visit(self, response: scrapy.http.Response, hub: str) -> list[scrapy.Request]:
        """Read a hub's response and record the visit; returns requests left to yield."""
        if response.status == 304:
            await self._in_thread(self.hubs.not_modified, response)
            return []
        allowed = self._allowed_hosts()
        html_links = None
        if hub in ("home", "front"):
            if html_content_type(response) is None:
                reading = HubReading(kind=hub, error="not an HTML page")
                return await self._in_thread(self.hubs.visit, response, reading, self)
            html_links = functools.partial(self._hub_links, response, allowed)
        read = functools.partial(self.hubs.read, response, hub, allowed=allowed, html_links=html_links)
        try:
            reading = await self._in_thread(read)
            unqueued = await self._in_thread(self.hubs.visit, response, reading, self)
        except Exception as exc:  # a bug, not the hub's fault: still reschedule the hub
            self.hubs.failed(response.request, f"{type(exc).__name__}: {exc}")
            raise
        if reading.links or reading.children:
            wake_engine(self.crawler)  # they were queued in Redis, not through the scheduler
        return unqueued

    @staticmethod
    def _feeds(response: TextResponse, allowed: set[str]) -> list[tuple[str, str]]:
        """The feeds a page names on the crawl's sites, as hubs to register."""
        return [(url, "feed") for url in feed_links(response.selector.root, response.url)
                if url_host(url) in allowed]

    def _hub_links(self, response: TextResponse, allowed: set[str]) -> list[str]:
        """The links of an HTML hub (feeds it names are registered as hubs on the way)."""
        feeds = self._feeds(response, allowed)
        if feeds:
            self.hubs.discover(feeds)
        return [link.url for link in self.links.extract_links(response)]

    async def _in_thread(self, func: Callable[..., _T], *args: Any) -> _T:
        """``func(*args)`` in the spider's reading pool, awaited from the reactor."""
        if is_asyncio_available():
            return await asyncio.wrap_future(self._readers.submit(func, *args))
        return await deferToThread(func, *args)  # a Twisted reactor without asyncio: its thread pool

    def closed(self, reason: str) -> None:
        self._readers.shutdown(wait=False)

    def _follow(self, response: TextResponse, related: list[str], links: list[str], *,
                via: str = "link") -> Iterator[scrapy.Request]:
        allowed = self._allowed_hosts()
        stats = self.crawler.stats
        boosted = set(related)
        now = time.time()
        urls = related + [url for url in links if url not in boosted]
        for url in dict.fromkeys(urls):
            if not is_http_url(url):
                stats.inc_value(Stat.LINKS_NOT_HTTP)
                continue
            if url_host(url) not in allowed:
                stats.inc_value(Stat.OFFSITE_DROPPED)
                continue
            if url in boosted and not self.links.matches(url):
                stats.inc_value(Stat.LINKS_DENIED)
                continue
            yield response.follow(
                url, callback=self.parse, errback=self.on_error,
                priority=self.related_priority if url in boosted else 0,
                meta={"discovered_at": now, "discovered_via": "more" if url in boosted else via},
            )

    def on_error(self, failure: Failure) -> None:
        """Count a request that failed for good (after retries); the crawl goes on.
        A hub's failed visit is recorded (it backs off, and is retired after
        ``FRONTIER_HUB_MAX_FAILURES`` in a row)."""
        self.crawler.stats.inc_value(failed_stat(failure.type.__name__))
        request = getattr(failure, "request", None)
        if request is not None and request.meta.get("hub"):
            self.hubs.failed(request, f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def _allowed_hosts(self) -> set[str]:
        now = time.monotonic()
        if now - self._hosts_read_at > _HOSTS_REFRESH_SECONDS:
            self._hosts = self.frontier.hosts()
            self._hosts_read_at = now
        return self._hosts
