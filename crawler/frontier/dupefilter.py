"""The shared "seen" set, as a scrapy-redis dupefilter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.frontier.connection import redis_from_settings
from crawler.keys import Keys
from crawler.urls import fingerprint

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

__all__ = ["DupeFilter"]


class DupeFilter(RFPDupeFilter):
    """scrapy-redis' dupefilter with this service's fingerprints and keys.

    Differences from the stock one, on purpose: fingerprints come from
    canonical URLs (:mod:`crawler.urls`), the key is the crawl's shared
    ``seen`` set (``crawler:{<spider>}:seen``) instead of one per timestamp, and
    closing a worker never deletes it: other workers are still using it.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # Works with Scrapy's own scheduler too: the spider class is known here.
        return cls._for_spider_name(crawler.settings, crawler.spidercls.name)

    @classmethod
    def from_spider(cls, spider: Spider) -> Self:
        return cls._for_spider_name(spider.settings, spider.name)

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:  # pragma: no cover - legacy entry point
        raise TypeError("crawler.frontier.DupeFilter needs a spider name: use from_crawler()")

    @classmethod
    def _for_spider_name(cls, settings: BaseSettings, name: str) -> Self:
        return cls(redis_from_settings(settings), key=Keys(name).seen,
                   debug=settings.getbool("DUPEFILTER_DEBUG"))

    def request_fingerprint(self, request: Request) -> str:
        return fingerprint(request)

    def close(self, reason: str = "") -> None:
        """Keep the shared set: closing one worker must not forget what all have seen."""
