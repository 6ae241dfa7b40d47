"""The item pipelines: normalize, validate, then deduplicate and store.

Order (``ITEM_PIPELINES``): :class:`NormalizePipeline` turns the extracted dict
into the stored article, :class:`ValidatePipeline` drops what is not an article,
:class:`DedupeStorePipeline` appends new articles to the crawl's Redis stream.

Redis calls run in a worker thread so they never block the reactor. A Redis
error is logged and re-raised: the article is not dropped as if it were a
duplicate, Scrapy reports the item error (``item_error`` signal).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, TypeVar

import redis
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.asyncio import is_asyncio_available
from twisted.internet.threads import deferToThread

from crawler.store.dedupe import NEAR_THRESHOLD, ArticleStore
from crawler.base.connection import connect
from crawler.base.keys import Keys
from crawler.article.normalize import normalize_article
from crawler.article.text import count_words

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

__all__ = ["DedupeStorePipeline", "NormalizePipeline", "ValidatePipeline"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


async def _in_thread(func: Callable[..., _T], *args: Any) -> _T:
    """``func(*args)`` in a worker thread, awaited from the reactor."""
    if is_asyncio_available():
        return await asyncio.to_thread(func, *args)
    return await deferToThread(func, *args)


def _spider_name(crawler: Crawler) -> str:
    if crawler.spider is None:
        raise RuntimeError("the crawler has no spider: pipelines are built for a running crawl")
    return crawler.spider.name


class NormalizePipeline:
    """Replaces each extracted item by its normalized article
    (:func:`crawler.article.normalize.normalize_article`). An item without a URL is
    dropped (stats ``articles/invalid/no_url``)."""

    def __init__(self, spider_name: str, stats: StatsCollector | None = None) -> None:
        self.spider_name = spider_name
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(_spider_name(crawler), crawler.stats)

    def process_item(self, item: Any) -> dict[str, Any]:
        try:
            return normalize_article(item, spider=self.spider_name)
        except ValueError as exc:
            if self.stats is not None:
                self.stats.inc_value("articles/invalid/no_url")
            raise DropItem(f"invalid article: {exc}", log_level="INFO") from exc


class ValidatePipeline:
    """Drops articles without a title or with fewer than ``min_words`` words
    of body (``EXTRACT_MIN_WORDS``), counted as extraction counts them
    (:func:`crawler.article.text.count_words`: a CJK character is a word).

    Each drop raises :class:`DropItem` and counts in the Scrapy stats
    (``articles/invalid/no_title``, ``articles/invalid/too_short``) and in the
    crawl's Redis stats hash (field ``articles_invalid``). Valid articles are
    returned unchanged.
    """

    def __init__(
        self, min_words: int, redis_url: str, keys: Keys, stats: StatsCollector | None = None
    ) -> None:
        self.min_words = min_words
        self.redis_url = redis_url
        self.keys = keys
        self.stats = stats
        self.client: redis.Redis | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        min_words = settings.getint("EXTRACT_MIN_WORDS")
        if min_words < 0:
            raise NotConfigured(f"EXTRACT_MIN_WORDS must be 0 or more, got {min_words}")
        redis_url = settings.get("REDIS_URL")
        if not redis_url:
            raise NotConfigured("REDIS_URL is not set")
        return cls(min_words, redis_url, Keys(_spider_name(crawler)), crawler.stats)

    def open_spider(self) -> None:
        self.client = connect(self.redis_url)

    def close_spider(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _invalid(self) -> None:
        assert self.client is not None, "open_spider() was not called"
        self.client.hincrby(self.keys.stats, "articles_invalid", 1)

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        if not item.get("title"):
            reason, message = "no_title", "article has no title"
        else:
            words = count_words(item.get("body") or "")
            if words >= self.min_words:
                return item
            reason = "too_short"
            message = f"article body has {words} words, fewer than {self.min_words}"
        if self.stats is not None:
            self.stats.inc_value(f"articles/invalid/{reason}")
        await _in_thread(self._invalid)
        raise DropItem(f"{reason}: {message}: {item.get('url')}", log_level="INFO")


class DedupeStorePipeline:
    """Stores each article once in the crawl's Redis stream (:class:`ArticleStore`).

    Outcome ``stored`` counts ``articles/stored`` and returns the item; a
    duplicate counts ``dedupe/<outcome>`` and raises
    ``DropItem("<outcome>: <url>")``. With ``DEDUPE_ENABLED`` false every
    article is stored. ``DEDUPE_NEAR_THRESHOLD`` (in ``(0, 1]``) is the
    smallest estimated Jaccard similarity of a near-duplicate; another value
    raises :class:`ValueError` in :meth:`from_crawler`.

    A Redis error is logged and re-raised, never taken for a duplicate.
    """

    def __init__(
        self,
        redis_url: str,
        keys: Keys,
        *,
        threshold: float = NEAR_THRESHOLD,
        enabled: bool = True,
        stats: StatsCollector | None = None,
    ) -> None:
        self.redis_url = redis_url
        self.keys = keys
        self.threshold = threshold
        self.enabled = enabled
        self.stats = stats
        self.client: redis.Redis | None = None
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        threshold = settings.getfloat("DEDUPE_NEAR_THRESHOLD")
        if not 0 < threshold <= 1:  # also rejects NaN
            # ValueError, not NotConfigured: Scrapy answers NotConfigured by
            # leaving the pipeline out, and the crawl would run storing nothing.
            raise ValueError(f"DEDUPE_NEAR_THRESHOLD must be in (0, 1], got {threshold}")
        redis_url = settings.get("REDIS_URL")
        if not redis_url:
            raise NotConfigured("REDIS_URL is not set")
        return cls(
            redis_url,
            Keys(_spider_name(crawler)),
            threshold=threshold,
            enabled=settings.getbool("DEDUPE_ENABLED"),
            stats=crawler.stats,
        )

    def open_spider(self) -> None:
        self.client = connect(self.redis_url)
        self.store = ArticleStore(
            self.client, self.keys, threshold=self.threshold, check_duplicates=self.enabled
        )

    def close_spider(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
            self.store = None

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        assert self.store is not None, "open_spider() was not called"
        try:
            outcome = await _in_thread(self.store.store, item)
        except redis.RedisError as exc:
            logger.error(
                "Could not store article %s in %s, it is not saved (%s: %s)",
                item.get("url"), self.keys.articles, type(exc).__name__, exc,
            )
            raise
        if outcome == "stored":
            if self.stats is not None:
                self.stats.inc_value("articles/stored")
            return item
        if self.stats is not None:
            self.stats.inc_value(f"dedupe/{outcome}")
        # Duplicates are routine: keep them (and their bodies) out of the log.
        raise DropItem(f"{outcome}: {item.get('url')}", log_level="DEBUG")
