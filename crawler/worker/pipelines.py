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

from crawler.store.dedupe import NEAR_THRESHOLD, WINDOW_DAYS, ArticleStore
from crawler.article.normalize import normalize_article
from crawler.article.text import count_words
from crawler.base.connection import is_out_of_memory
from crawler.base.counters import Field, Outcome, invalid_stat, outcome_stat
from crawler.frontier.core import Frontier

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

__all__ = ["DedupeStorePipeline", "NormalizePipeline", "ValidatePipeline", "invalid_reason"]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


async def _in_thread(func: Callable[..., _T], *args: Any) -> _T:
    """``func(*args)`` in a worker thread, awaited from the reactor."""
    if is_asyncio_available():
        return await asyncio.to_thread(func, *args)
    return await deferToThread(func, *args)


class NormalizePipeline:
    """Replaces each extracted item by its normalized article
    (:func:`crawler.article.normalize.normalize_article`). An item without a URL is
    dropped (stats ``articles/invalid/no_url``)."""

    def __init__(self, spider_name: str, stats: StatsCollector | None = None) -> None:
        self.spider_name = spider_name
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.spidercls.name, crawler.stats)

    def process_item(self, item: Any) -> dict[str, Any]:
        try:
            return normalize_article(item, spider=self.spider_name)
        except ValueError as exc:
            if self.stats is not None:
                self.stats.inc_value(invalid_stat("no_url"))
            raise DropItem(f"invalid article: {exc}", log_level="INFO") from exc


def invalid_reason(item: dict[str, Any], min_words: int) -> tuple[str, str] | None:
    """Why :class:`ValidatePipeline` drops ``item``: ``(reason, message)``, or None when it is valid."""
    if not item.get("title"):
        return "no_title", "article has no title"
    words = count_words(item.get("body") or "")
    if words >= min_words:
        return None
    return "too_short", f"article body has {words} words, fewer than {min_words}"


class ValidatePipeline:
    """Drops articles without a title or with fewer than ``min_words`` words
    of body (``EXTRACT_MIN_WORDS``), counted as extraction counts them
    (:func:`crawler.article.text.count_words`: a CJK character is a word).

    Each drop raises :class:`DropItem` and counts in the Scrapy stats
    (``articles/invalid/no_title``, ``articles/invalid/too_short``) and in the
    crawl's Redis stats hash (field ``articles_invalid``). Valid articles are
    returned unchanged.
    """

    #: ``EXTRACT_MIN_WORDS`` when the settings do not name it.
    default_min_words = 40

    def __init__(self, min_words: int, frontier: Frontier, stats: StatsCollector | None = None) -> None:
        self.min_words = min_words
        self.client = frontier.client
        self.keys = frontier.keys
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        min_words = crawler.settings.getint("EXTRACT_MIN_WORDS", cls.default_min_words)
        if min_words < 0:
            raise NotConfigured(f"EXTRACT_MIN_WORDS must be 0 or more, got {min_words}")
        return cls(min_words, Frontier.for_crawler(crawler), crawler.stats)

    def _invalid(self) -> None:
        self.client.hincrby(self.keys.stats, Field.ARTICLES_INVALID, 1)

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        invalid = invalid_reason(item, self.min_words)
        if invalid is None:
            return item
        reason, message = invalid
        if self.stats is not None:
            self.stats.inc_value(invalid_stat(reason))
        await _in_thread(self._invalid)
        raise DropItem(f"{reason}: {message}: {item.get('url')}", log_level="INFO")


class DedupeStorePipeline:
    """Stores each article once in the crawl's Redis stream (:class:`ArticleStore`).

    Outcome ``stored`` counts ``articles/stored`` and returns the item; a
    duplicate counts ``dedupe/<outcome>`` and raises
    ``DropItem("<outcome>: <url>")``. With ``DEDUPE_ENABLED`` false every
    article is stored. ``DEDUPE_NEAR_THRESHOLD`` (in ``(0, 1]``) is the
    smallest estimated Jaccard similarity of a near-duplicate, and
    ``DEDUPE_WINDOW_DAYS`` (at least 1) how many days an article is
    remembered; another value raises :class:`ValueError` in :meth:`from_crawler`.

    A Redis error is logged and re-raised, never taken for a duplicate.
    """

    def __init__(
        self,
        frontier: Frontier,
        *,
        threshold: float = NEAR_THRESHOLD,
        enabled: bool = True,
        window_days: int = WINDOW_DAYS,
        stats: StatsCollector | None = None,
    ) -> None:
        self.keys = frontier.keys
        self.threshold = threshold
        self.enabled = enabled
        self.stats = stats
        self.store = ArticleStore(frontier.client, frontier.keys, threshold=threshold,
                                  check_duplicates=enabled, window_days=window_days)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        threshold = settings.getfloat("DEDUPE_NEAR_THRESHOLD", NEAR_THRESHOLD)
        if not 0 < threshold <= 1:  # also rejects NaN
            # ValueError, not NotConfigured: Scrapy answers NotConfigured by
            # leaving the pipeline out, and the crawl would run storing nothing.
            raise ValueError(f"DEDUPE_NEAR_THRESHOLD must be in (0, 1], got {threshold}")
        try:
            window_days = settings.getint("DEDUPE_WINDOW_DAYS", WINDOW_DAYS)
        except ValueError:
            window_days = 0
        if window_days < 1:
            raise ValueError(f"DEDUPE_WINDOW_DAYS must be a whole number of days, at least 1, "
                             f"got {settings.get('DEDUPE_WINDOW_DAYS')!r}")
        return cls(
            Frontier.for_crawler(crawler),
            threshold=threshold,
            enabled=settings.getbool("DEDUPE_ENABLED", True),
            window_days=window_days,
            stats=crawler.stats,
        )

    async def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        try:
            outcome = await _in_thread(self.store.store, item)
        except redis.RedisError as exc:
            if is_out_of_memory(exc):
                # Not the article's fault: the scheduler gives its request back (no attempt).
                logger.warning("Redis is full (OOM): article %s not stored now, its request goes "
                               "back to the queue", item.get("url"))
            else:
                logger.error(
                    "Could not store article %s in %s, it is not saved (%s: %s)",
                    item.get("url"), self.keys.articles, type(exc).__name__, exc,
                )
            raise
        if self.stats is not None:
            self.stats.inc_value(outcome_stat(outcome))
        if outcome == Outcome.STORED:
            return item
        # Duplicates are routine: keep them (and their bodies) out of the log.
        raise DropItem(f"{outcome}: {item.get('url')}", log_level="DEBUG")
