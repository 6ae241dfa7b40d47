"""The ``news`` spider: articles and the "More <Section>" blocks under them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from crawler.article.extract import extract_article
from crawler.base.urls import is_http_url, url_host
from crawler.frontier.core import Frontier
from crawler.base.counters import Stat, failed_stat

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure
    from typing_extensions import Self

_HOSTS_REFRESH_SECONDS = 5.0
_HTML_TYPES = ("text/html", "application/xhtml+xml")


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
    ``ftp:``); ``DEPTH_LIMIT`` bounds the rest.
    """

    name = "news"
    #: ``LINKS_RELATED_PRIORITY``: added to links of "More <Section>" blocks so they are fetched first.
    default_related_priority = 10
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
        spider.links = LinkExtractor(
            deny=settings.getlist("LINKS_DENY_PATTERNS", list(cls.default_deny_patterns)), unique=True)
        spider.frontier = Frontier.for_crawler(crawler)
        spider._hosts: set[str] = set()
        spider._hosts_read_at = float("-inf")
        return spider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing: seeds come from Redis

    def parse(self, response: scrapy.http.Response) -> Iterator[Any]:
        content_type = html_content_type(response)
        if content_type is None:
            self.crawler.stats.inc_value(Stat.PAGES_NON_HTML)
            return
        article = extract_article(response.body, response.url, content_type=content_type)
        related: list[str] = []
        if article is None:
            self.crawler.stats.inc_value(Stat.PAGES_LISTING)
        else:
            self.crawler.stats.inc_value(Stat.PAGES_ARTICLE)
            related = [entry["url"] for entry in article["related"]]
            yield article
        yield from self._follow(response, related)

    def _follow(self, response: TextResponse, related: list[str]) -> Iterator[scrapy.Request]:
        allowed = self._allowed_hosts()
        stats = self.crawler.stats
        boosted = set(related)
        urls = related + [link.url for link in self.links.extract_links(response)
                          if link.url not in boosted]
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
            )

    def on_error(self, failure: Failure) -> None:
        """Count a request that failed for good (after retries); the crawl goes on."""
        self.crawler.stats.inc_value(failed_stat(failure.type.__name__))

    def _allowed_hosts(self) -> set[str]:
        now = time.monotonic()
        if now - self._hosts_read_at > _HOSTS_REFRESH_SECONDS:
            self._hosts = self.frontier.hosts()
            self._hosts_read_at = now
        return self._hosts
