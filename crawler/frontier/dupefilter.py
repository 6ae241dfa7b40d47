"""The shared "seen" filter, as a scrapy-redis dupefilter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.frontier.core import Frontier, QueueEntry
from crawler.base.urls import fingerprint

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

__all__ = ["DupeFilter"]


class DupeFilter(RFPDupeFilter):
    """scrapy-redis' dupefilter with this service's fingerprints and seen filter.

    Differences from the stock one, on purpose: fingerprints come from
    canonical URLs (:mod:`crawler.base.urls`); "seen" is the crawl's shared filter
    (an exact set or a Bloom filter, ``FRONTIER_SEEN``) under the crawl's keys
    instead of one set per timestamp; and closing a worker never deletes it:
    other workers are still using it.
    """

    def __init__(self, frontier: Frontier, debug: bool = False) -> None:
        super().__init__(frontier.client, key=frontier.keys.seen, debug=debug)
        self.frontier = frontier

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # Works with Scrapy's own scheduler too: the crawl's frontier is the crawler's.
        return cls(Frontier.for_crawler(crawler), debug=crawler.settings.getbool("DUPEFILTER_DEBUG"))

    @classmethod
    def from_spider(cls, spider: Spider) -> Self:
        return cls.from_crawler(spider.crawler)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:  # pragma: no cover - legacy entry point
        raise TypeError("crawler.frontier.DupeFilter needs a spider name: use from_crawler()")

    def request_seen(self, request: Request) -> bool:
        entry = QueueEntry("", self.request_fingerprint(request), 0, "")
        return not self.frontier.push(entry)

    def request_fingerprint(self, request: Request) -> str:
        return fingerprint(request)

    def clear(self) -> None:
        """Never used: a worker must not forget what all workers have seen."""
        raise NotImplementedError("the shared seen filter is not cleared by a worker")

    def close(self, reason: str = "") -> None:
        """Keep the shared filter: closing one worker must not forget what all have seen."""
