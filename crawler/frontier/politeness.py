"""Politeness news for the shared per-host budget: Retry-After and Crawl-delay.

The frontier spaces the leases of each host by ``FRONTIER_HOST_DELAY`` for all
workers together (see :mod:`crawler.frontier.core`). This middleware tells it
when a host asks for more: a 429 or 503 keeps every worker off the host for
its Retry-After, and a robots.txt Crawl-delay becomes the host's delay.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import signals

from crawler.base.urls import url_host
from crawler.frontier.config import FrontierConfig
from crawler.frontier.core import Frontier
from crawler.base.counters import Stat

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["RetryAfterMiddleware", "parse_retry_after"]

_BACKOFF_STATUSES = {429, 503}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfterMiddleware:
    """Downloader middleware: shared back-off on 429/503, robots.txt Crawl-delay per host."""

    def __init__(self, crawler: Crawler, backoff: float, max_retry_after: float,
                 max_crawl_delay: float, user_agent: str) -> None:
        self.crawler = crawler
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_crawl_delay = max_crawl_delay
        self.user_agent = user_agent
        self.frontier: Frontier | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        config = FrontierConfig.from_settings(s)
        mw = cls(crawler, config.backoff_seconds, config.max_retry_after, config.max_crawl_delay,
                 s.get("ROBOTSTXT_USER_AGENT") or s.get("USER_AGENT"))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.robots_parsed, signal=signals.robots_parsed)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        self.frontier = Frontier.for_crawler(self.crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in _BACKOFF_STATUSES and self.frontier is not None:
            header = response.headers.get("Retry-After")
            pause = parse_retry_after(header.decode("latin-1") if header else None)
            pause = min(self.backoff if pause is None else pause, self.max_retry_after)
            host = url_host(request.url)
            self.frontier.cool(host, pause=pause)
            self.crawler.stats.inc_value(Stat.FRONTIER_BACKOFF)
            logger.info("%s answered %d: every worker stays off it for %.0f s", host, response.status, pause)
        return response

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        # Scrapy's RobotParser interface has no crawl delay; its Protego parser (the default) does.
        protego = getattr(robotparser, "rp", None)
        crawl_delay = getattr(protego, "crawl_delay", None)
        if crawl_delay is None or self.frontier is None:
            return
        delay = crawl_delay(self.user_agent)
        if delay and float(delay) > self.frontier.host_delay:
            delay = min(float(delay), self.max_crawl_delay)
            self.frontier.cool(url_host(request.url), delay=delay)
            logger.info("robots.txt of %s asks for a Crawl-delay of %s s", url_host(request.url), delay)
