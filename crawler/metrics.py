"""Prometheus metrics of one worker, read at scrape time.

Counters come from the worker's Scrapy stats, mapped on purpose (not every
stats key is dumped); the frontier gauges come from Redis in one round trip,
cached for a second. Each worker has a registry of its own, so several
workers (or tests) in one host or process never collide.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.frontier.connection import redis_from_settings
from crawler.frontier.core import Frontier
from crawler.keys import Keys

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["CrawlCollector", "MetricsExporter"]

STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
ERROR_REASONS = ("timeout", "dns", "connection", "refused", "other")
OUTCOMES = ("stored", "duplicate_url", "duplicate_content", "near_duplicate", "invalid")
REFUSALS = ("offsite", "private_network", "robots")


def _error_reason(exception_path: str) -> str:
    name = exception_path.rsplit(".", 1)[-1].lower()
    if "timeout" in name:
        return "timeout"
    if "dns" in name or "lookup" in name:
        return "dns"
    if "refused" in name:
        return "refused"
    if "connect" in name or "connection" in name or "responseneverreceived" in name:
        return "connection"
    return "other"


class CrawlCollector(Collector):
    """Turns a worker's Scrapy stats and the shared frontier into Prometheus metrics."""

    def __init__(self, stats, frontier: Frontier, cache_seconds: float = 1.0) -> None:
        self.stats = stats
        self.frontier = frontier
        self.cache_seconds = cache_seconds
        self._counts = None
        self._counts_at = float("-inf")

    def _frontier_counts(self):
        now = time.monotonic()
        if now - self._counts_at >= self.cache_seconds:
            try:
                self._counts = self.frontier.counts()
            except Exception as exc:  # noqa: BLE001 - a scrape must still answer
                logger.warning("Cannot read the frontier for metrics: %s", exc)
                self._counts = None
            self._counts_at = now
        return self._counts

    def collect(self) -> Iterator:
        stats = self.stats.get_stats()
        responses = CounterMetricFamily("crawler_responses", "Responses received, by status class",
                                        labels=["status_class"])
        by_class = dict.fromkeys(STATUS_CLASSES, 0)
        errors = dict.fromkeys(ERROR_REASONS, 0)
        for key, value in stats.items():
            if key.startswith("downloader/response_status_count/"):
                code = key.rsplit("/", 1)[-1]
                if code[:1] in "12345":
                    by_class[f"{code[0]}xx"] += value
            elif key.startswith("downloader/exception_type_count/"):
                errors[_error_reason(key.rsplit("/", 1)[-1])] += value
        for status_class, value in by_class.items():
            responses.add_metric([status_class], value)
        yield responses
        download_errors = CounterMetricFamily("crawler_download_errors", "Failed downloads, by reason",
                                              labels=["reason"])
        for reason, value in errors.items():
            download_errors.add_metric([reason], value)
        yield download_errors
        yield CounterMetricFamily("crawler_response_bytes", "Bytes of responses received",
                                  value=stats.get("downloader/response_bytes", 0))
        articles = CounterMetricFamily("crawler_articles", "Articles by outcome", labels=["outcome"])
        outcome_values = {
            "stored": stats.get("articles/stored", 0),
            "duplicate_url": stats.get("dedupe/duplicate_url", 0),
            "duplicate_content": stats.get("dedupe/duplicate_content", 0),
            "near_duplicate": stats.get("dedupe/near_duplicate", 0),
            "invalid": sum(v for k, v in stats.items() if k.startswith("articles/invalid/")),
        }
        for outcome in OUTCOMES:
            articles.add_metric([outcome], outcome_values[outcome])
        yield articles
        yield CounterMetricFamily("crawler_requests_enqueued", "Requests queued in the frontier",
                                  value=stats.get("scheduler/enqueued/redis", 0))
        yield CounterMetricFamily("crawler_requests_retried", "Requests retried",
                                  value=stats.get("retry/count", 0))
        refused = CounterMetricFamily("crawler_requests_refused", "Requests or links refused, by reason",
                                      labels=["reason"])
        refused.add_metric(["offsite"], stats.get("offsite/dropped", 0))
        refused.add_metric(["private_network"], stats.get("netguard/refused", 0))
        refused.add_metric(["robots"], stats.get("robotstxt/forbidden", 0))
        yield refused
        yield CounterMetricFamily("crawler_leases_expired", "Expired leases this worker took back",
                                  value=stats.get("frontier/leases_expired", 0))
        counts = self._frontier_counts()
        if counts is not None:
            for name, help_text, value in (
                ("crawler_frontier_queued", "Requests queued in the shared frontier", counts.queued),
                ("crawler_frontier_in_flight", "Requests leased by workers", counts.in_flight),
                ("crawler_frontier_seen", "Request fingerprints seen", counts.seen),
                ("crawler_frontier_dead_letters", "Requests set aside", counts.dead_letters),
                ("crawler_workers_alive", "Workers with a recent heartbeat", counts.workers_alive),
            ):
                yield GaugeMetricFamily(name, help_text, value=value)


class MetricsExporter:
    """Serves ``/metrics`` on ``METRICS_PORT`` (0: a free port, logged) from a fresh registry."""

    def __init__(self, crawler: Crawler, port: int, host: str) -> None:
        self.crawler = crawler
        self.port = port
        self.host = host
        self.registry = CollectorRegistry(auto_describe=True)
        self.server = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        port = crawler.settings.get("METRICS_PORT")
        if port in (None, ""):
            raise NotConfigured("METRICS_PORT is not set")
        ext = cls(crawler, int(port), crawler.settings.get("METRICS_HOST"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        frontier = Frontier(redis_from_settings(self.crawler.settings), Keys(spider.name))
        self.registry.register(CrawlCollector(self.crawler.stats, frontier))
        self.server, _thread = start_http_server(self.port, addr=self.host, registry=self.registry)
        self.port = self.server.server_port
        logger.info("Serving metrics on http://%s:%d/metrics", self.host, self.port)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
