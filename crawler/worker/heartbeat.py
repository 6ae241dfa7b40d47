"""The worker's heartbeat: crawl-wide counters in Redis, recent errors, idle exit."""

from __future__ import annotations

import collections
import json
import logging
import os
import socket
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.base.connection import pipeline
from crawler.frontier.config import FrontierConfig
from crawler.frontier.core import Frontier
from crawler.metrics.collector import download_error_reason
from crawler.base.counters import STAT_FIELDS, Stat

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["ERRORS_KEPT", "WorkerHeartbeat", "crawl_counts"]

# Recent errors kept in Redis (``Keys.errors``) for ``crawler top``, all workers together.
ERRORS_KEPT = 50


class _RecentErrors(logging.Handler):
    """Keeps this worker's ERROR log records (one line each) until the heartbeat sends them."""

    def __init__(self, worker: str) -> None:
        super().__init__(level=logging.ERROR)
        self.worker = worker
        self.pending: collections.deque[str] = collections.deque(maxlen=ERRORS_KEPT)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = (record.getMessage().strip().splitlines() or [""])[0][:500]
        except Exception:  # noqa: BLE001 - a bad log call must not break the worker
            self.handleError(record)
            return
        self.pending.append(json.dumps({"time": record.created, "worker": self.worker,
                                        "logger": record.name, "message": message}))

    def drain(self) -> list[str]:
        return [self.pending.popleft() for _ in range(len(self.pending))]


class WorkerHeartbeat:
    """Extension run by every worker.

    Every second it adds this worker's new counts to the crawl-wide counters
    that ``crawler status`` and ``crawler crawl`` show and, with ``until_idle``
    > 0 (``FRONTIER_UNTIL_IDLE``, ``crawler worker --until-idle``), closes the
    spider once the whole frontier has had nothing queued and nothing in
    flight, across all workers, for that many seconds. Without it the worker
    waits for new seeds forever. It also sends the worker's ERROR log lines to
    the crawl's recent errors (``Keys.errors``, newest first, ``ERRORS_KEPT``
    of them), best effort: those of a flush that fails are lost.
    """

    interval = 1.0

    def __init__(self, crawler: Crawler, until_idle: float) -> None:
        self.crawler = crawler
        self.until_idle = until_idle
        self._flushed: dict[str, int] = {}
        self._idle_since: float | None = None
        self._closing = False
        self._loop: task.LoopingCall | None = None
        self.frontier: Frontier | None = None
        self._errors = _RecentErrors(f"{socket.gethostname()}:{os.getpid()}")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler, FrontierConfig.from_settings(crawler.settings).until_idle)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.frontier = Frontier.for_crawler(self.crawler)
        logging.getLogger().addHandler(self._errors)
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(self.interval, now=False).addErrback(
            lambda failure: logger.error("Worker heartbeat stopped: %s", failure.getErrorMessage()))

    def spider_idle(self, spider: Spider) -> None:
        if not self._closing:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        logging.getLogger().removeHandler(self._errors)
        self.flush()

    def tick(self) -> None:
        try:
            self.flush()
            if self.until_idle <= 0 or self._closing:
                return
            counts = self.frontier.counts()
        except Exception as exc:  # noqa: BLE001 - Redis going away must not kill the loop
            logger.warning("Cannot reach Redis for the heartbeat: %s", exc)
            return
        if not counts.idle:
            self._idle_since = None
            return
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since >= self.until_idle:
            self._closing = True
            logger.info("Frontier idle for %.0f s across all workers: closing", self.until_idle)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="finished"))

    def flush(self) -> None:
        """Add what changed in this worker's Scrapy stats to the crawl-wide counters; send new errors."""
        if self.frontier is None:
            return
        current = self._crawl_counts()
        delta = {name: value - self._flushed.get(name, 0) for name, value in current.items()}
        delta = {name: value for name, value in delta.items() if value}
        errors = self._errors.drain()
        if not delta and not errors:
            return
        with pipeline(self.frontier.client) as pipe:
            for name, value in delta.items():
                pipe.hincrby(self.frontier.keys.stats, name, value)
            if errors:
                pipe.lpush(self.frontier.keys.errors, *errors)
                pipe.ltrim(self.frontier.keys.errors, 0, ERRORS_KEPT - 1)
            pipe.execute()
        self._flushed = current

    def _crawl_counts(self) -> dict[str, int]:
        return crawl_counts(self.crawler.stats.get_stats())


def crawl_counts(stats: Mapping[str, object]) -> dict[str, int]:
    """This worker's share of each crawl-wide counter of :data:`~crawler.base.counters.STAT_FIELDS`
    (every field, zeros included), from its Scrapy ``stats``."""
    counts = {}
    for field, prefixes in STAT_FIELDS.items():
        counts[field] = sum(
            value for key, value in stats.items()
            if isinstance(value, int) and key.startswith(prefixes) and not _is_refusal(key)
        )
    return counts


def _is_refusal(stat: str) -> bool:
    """A refused request (robots.txt, private network) that Scrapy counts as a download exception."""
    return (stat.startswith(Stat.DOWNLOAD_EXCEPTION)
            and download_error_reason(stat.rsplit("/", 1)[-1]) is None)
