"""robots.txt, with every request waiting for it given the parsed rules, read again when old."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from crawler.base.urls import is_http_url, url_host
from crawler.frontier.config import FrontierConfig

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

__all__ = ["RobotsTxtMiddleware"]

# How often (seconds) every expired robots.txt is dropped, not only the one asked for.
_SWEEP_SECONDS = 60.0
# Sitemap: lines of one robots.txt registered as hubs (the first ones).
_MAX_SITEMAPS = 50


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware without its race (Scrapy 2.19, asyncio reactor), and
    with an age limit.

    While a host's robots.txt is being fetched, Scrapy's middleware makes every
    other request for that host await one shared Deferred through
    ``Deferred.asFuture()``. That consumes the Deferred's result: the first
    waiter gets the parser, every later one gets None, which means "no
    robots.txt", and its request is fetched even when robots.txt forbids it.
    Here each waiter awaits a Deferred of its own, chained to the shared one.

    Scrapy keeps a host's robots.txt for the life of the process. Here it is read
    again once older than ``max_age`` (``FRONTIER_HOST_FORGET_SECONDS``): the
    frontier forgets an idle host's Crawl-delay after as long, and reading
    robots.txt again sets it again; a site's new rules are obeyed; and the cache
    holds only the hosts of the last ``max_age`` seconds.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.max_age = FrontierConfig.from_settings(crawler.settings).host_forget_seconds
        self._parsed_at: dict[str, float] = {}
        self._swept_at = time.monotonic()

    def _register_sitemaps(self, request: Request, parser: RobotParser | None) -> None:
        """Register the sitemaps a site's robots.txt names (``Sitemap:`` lines) as hubs,
        each time it is read; those of other sites than the crawl's are ignored."""
        sitemaps = getattr(getattr(parser, "rp", None), "sitemaps", None)  # Protego's parser
        if sitemaps is None or self.crawler is None:
            return
        from crawler.worker.hubs import HubReader

        reader = HubReader.for_crawler(self.crawler)
        try:
            allowed = reader.frontier.hosts()
            urls = [url for url in list(sitemaps)[:_MAX_SITEMAPS]
                    if is_http_url(url) and url_host(url) in allowed]
            if urls:
                reader.discover((url, "sitemap") for url in urls)
        except redis.RedisError as exc:  # read again with robots.txt, after max_age
            logger.warning("Redis unavailable, sitemaps of %s not registered: %s", request.url, exc)

    def forget_old(self, netloc: str, now: float) -> None:
        """Drop the robots.txt of ``netloc`` when older than ``max_age`` (and, once a
        minute, every other one that is)."""
        if now - self._swept_at >= _SWEEP_SECONDS:
            self._swept_at = now
            for other in [n for n, at in self._parsed_at.items() if now - at > self.max_age]:
                self._forget(other)
        parsed_at = self._parsed_at.get(netloc)
        if parsed_at is not None and now - parsed_at > self.max_age:
            self._forget(netloc)

    def _forget(self, netloc: str) -> None:
        if not isinstance(self._parsers.get(netloc), Deferred):  # never one being fetched
            self._parsers.pop(netloc, None)
            self._parsed_at.pop(netloc, None)

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        self.forget_old(netloc, time.monotonic())
        pending = self._parsers.get(netloc)
        if not isinstance(pending, Deferred):
            parser = await super().robot_parser(request)
            if netloc not in self._parsed_at:
                self._parsed_at[netloc] = time.monotonic()
                self._register_sitemaps(request, parser)
            return parser
        mine: Deferred = Deferred()

        def relay(result):
            mine.callback(result)
            return result  # the shared Deferred keeps its result for the next waiter

        pending.addBoth(relay)
        return await maybe_deferred_to_future(mine)
