"""The ``MetricsExporter`` extension: one worker's ``/metrics`` and ``/healthz``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Gauge, Histogram, ProcessCollector
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from crawler.frontier import defaults
from crawler.frontier.config import FrontierConfig
from crawler.frontier.revisit import requeue_after
from crawler.store.delivery import delivery_status
from crawler.frontier.core import Frontier
from crawler.frontier.hubstats import HubStats
from crawler.metrics.capture import CAPTURE_DELAY_BUCKETS, CaptureDelays
from crawler.metrics.collector import CrawlCollector
from crawler.metrics.http import HealthCheck, MetricsServer, make_app

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector
    from typing_extensions import Self

logger = logging.getLogger(__name__)

__all__ = ["MetricsConfig", "MetricsExporter"]


def _buckets(settings: BaseSettings, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    try:
        buckets = tuple(float(bound) for bound in settings.getlist(name, list(default)))
    except ValueError:
        raise ValueError(f"{name} must be numbers of seconds") from None
    if not buckets or buckets[0] <= 0 or list(buckets) != sorted(set(buckets)):
        raise ValueError(f"{name} must be increasing positive numbers of seconds")
    return buckets


@dataclass(frozen=True)
class MetricsConfig:
    """The ``METRICS_*`` settings, checked together. ``port`` None: no endpoint.

    The field defaults are the settings' defaults, used where a project does not set them.
    """

    #: ``METRICS_PORT``: the worker's /metrics and /healthz (None or "": off; 0: a free port, logged).
    port: int | None = 9410
    #: ``METRICS_HOST``: the address to listen on. Loopback: only this machine (``crawler crawl``,
    #: ``crawler demo``); the worker image sets ``0.0.0.0`` for Prometheus to reach it.
    host: str = "127.0.0.1"
    #: ``METRICS_CACHE_SECONDS``: the frontier gauges are read from Redis at most once per this.
    cache_seconds: float = 1.0
    #: ``METRICS_LATENCY_BUCKETS``: upper bounds of crawler_download_latency_seconds.
    latency_buckets: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
    #: ``METRICS_HEALTHZ_STALL_SECONDS``: /healthz answers 503 once the reactor has not turned this long.
    healthz_stall_seconds: float = 10.0
    #: ``METRICS_READ_TIMEOUT``: seconds a client has to send its whole request, then it is cut off.
    read_timeout: float = 5.0
    #: ``METRICS_MAX_CONNECTIONS``: connections served at once (a thread each); past it, the
    #: slowest request still arriving is cut off to make room, so probes keep being answered.
    max_connections: int = 32
    #: ``METRICS_CAPTURE_DELAY_BUCKETS``: upper bounds of crawler_capture_delay_seconds; a story
    #: older than the last one when stored is counted as ``archive``, not observed.
    capture_delay_buckets: tuple[float, ...] = CAPTURE_DELAY_BUCKETS
    #: ``METRICS_CAPTURE_LAG_SECONDS``: exported as crawler_capture_lag_threshold_seconds, the
    #: 90th percentile capture delay above which the CrawlCaptureLagging alert fires (after 15 min).
    capture_lag_seconds: float = 3600.0
    #: ``METRICS_HUBS_CACHE_SECONDS``: crawler_hubs{kind} is read (the counts the hub scripts
    #: keep, or a scan of every hub for a crawl begun before them) at most once per this;
    #: revisits due and overdue are read with the other gauges.
    hubs_cache_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """Raises ValueError, naming the setting, for a value that cannot work."""
        raw_port = settings.get("METRICS_PORT", cls.port)
        port = None
        if raw_port not in (None, ""):
            try:
                port = int(raw_port)
            except (TypeError, ValueError):
                raise ValueError(f"METRICS_PORT must be a port number, got {raw_port!r}") from None
            if not 0 <= port <= 65535:
                raise ValueError(f"METRICS_PORT must be between 0 and 65535, got {port}")
        config = cls(
            port=port,
            host=settings.get("METRICS_HOST", cls.host),
            cache_seconds=settings.getfloat("METRICS_CACHE_SECONDS", cls.cache_seconds),
            latency_buckets=_buckets(settings, "METRICS_LATENCY_BUCKETS", cls.latency_buckets),
            capture_delay_buckets=_buckets(settings, "METRICS_CAPTURE_DELAY_BUCKETS",
                                           cls.capture_delay_buckets),
            capture_lag_seconds=settings.getfloat("METRICS_CAPTURE_LAG_SECONDS", cls.capture_lag_seconds),
            hubs_cache_seconds=settings.getfloat("METRICS_HUBS_CACHE_SECONDS", cls.hubs_cache_seconds),
            healthz_stall_seconds=settings.getfloat("METRICS_HEALTHZ_STALL_SECONDS", cls.healthz_stall_seconds),
            read_timeout=settings.getfloat("METRICS_READ_TIMEOUT", cls.read_timeout),
            max_connections=settings.getint("METRICS_MAX_CONNECTIONS", cls.max_connections),
        )
        if not config.read_timeout > 0:
            raise ValueError("METRICS_READ_TIMEOUT must be more than 0 seconds")
        if config.max_connections < 2:
            raise ValueError("METRICS_MAX_CONNECTIONS must be at least 2 (a scrape and a probe)")
        if config.cache_seconds < 0:
            raise ValueError("METRICS_CACHE_SECONDS must be 0 or more")
        if config.hubs_cache_seconds < 0:
            raise ValueError("METRICS_HUBS_CACHE_SECONDS must be 0 or more")
        if not config.capture_lag_seconds > 0:
            raise ValueError("METRICS_CAPTURE_LAG_SECONDS must be more than 0 seconds")
        if config.healthz_stall_seconds <= MetricsExporter.beat_seconds:
            raise ValueError(f"METRICS_HEALTHZ_STALL_SECONDS must be more than "
                             f"{MetricsExporter.beat_seconds:g} (how often the reactor beats)")
        return config


class MetricsExporter:
    """Serves ``/metrics`` and ``/healthz`` of one worker on ``METRICS_PORT``.

    The registry is the exporter's own (never prometheus_client's global one),
    so several workers or tests in one process never collide. It holds the
    download latency histogram (observed on ``response_received`` from
    ``response.meta["download_latency"]``), the capture delay histogram
    (observed on ``item_scraped``: once per stored article,
    :class:`~crawler.metrics.capture.CaptureDelays`), the :class:`CrawlCollector`
    (Scrapy stats, the frontier and the hubs, read at scrape time) and the
    process metrics. Port 0 picks a free port; the port is logged either way.
    """

    beat_seconds = 1.0

    def __init__(self, config: MetricsConfig, stats: StatsCollector, frontier: Frontier,
                 *, worker_timeout: float = defaults.FRONTIER_WORKER_TIMEOUT,
                 revisit_overdue: float = defaults.FRONTIER_REVISIT_OVERDUE,
                 hub_requeue_after: float = requeue_after(FrontierConfig())) -> None:
        self.config = config
        self.registry = CollectorRegistry(auto_describe=True)
        spider = frontier.keys.spider
        hubs = HubStats(frontier.client, frontier.keys, overdue_seconds=revisit_overdue,
                        requeue_after=hub_requeue_after,
                        kinds_seconds=config.hubs_cache_seconds)
        self.collector = CrawlCollector(stats, frontier, spider,
                                        cache_seconds=config.cache_seconds,
                                        worker_timeout=worker_timeout,
                                        delivery=partial(delivery_status, frontier.client, frontier.keys),
                                        hubs=hubs.read)
        self.registry.register(self.collector)
        ProcessCollector(registry=self.registry)
        self.latency = Histogram(
            "crawler_download_latency_seconds", "Time from sending a request to its response",
            ["spider"], buckets=config.latency_buckets, registry=self.registry,
        ).labels(spider)
        self.captures = CaptureDelays(self.registry, spider, config.capture_delay_buckets)
        Gauge("crawler_capture_lag_threshold_seconds", "METRICS_CAPTURE_LAG_SECONDS: the 90th "
              "percentile capture delay above which CrawlCaptureLagging fires", ["spider"],
              registry=self.registry).labels(spider).set(config.capture_lag_seconds)
        self.health = HealthCheck(frontier.client.ping, stall_seconds=config.healthz_stall_seconds)
        self.server = MetricsServer(make_app(self.registry, self.health), config.host,
                                    config.port or 0, read_timeout=config.read_timeout,
                                    max_connections=config.max_connections)
        self._beat: task.LoopingCall | None = None
        self.crawler: Crawler | None = None

    @property
    def port(self) -> int:
        return self.server.port

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        config = MetricsConfig.from_settings(settings)
        if config.port is None:
            raise NotConfigured("METRICS_PORT is not set")
        frontier = Frontier.for_crawler(crawler)
        ext = cls(config, crawler.stats, frontier, worker_timeout=frontier.config.worker_timeout,
                  revisit_overdue=frontier.config.revisit_overdue,
                  hub_requeue_after=requeue_after(frontier.config))
        ext.crawler = crawler
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.response_received, signal=signals.response_received)
        crawler.signals.connect(ext.item_scraped, signal=signals.item_scraped)
        return ext

    def start(self) -> int:
        """Start beating and serving; returns the port. Raises OSError when it cannot bind."""
        port = self.server.start()
        self._beat = task.LoopingCall(self.health.beat)
        self._beat.start(self.beat_seconds, now=True)
        logger.info("Serving metrics on http://%s:%d/metrics (health: /healthz)",
                    self.config.host, port)
        return port

    def stop(self) -> None:
        if self._beat is not None and self._beat.running:
            self._beat.stop()
        self.server.stop()

    def spider_opened(self, spider: Spider) -> None:
        try:
            self.start()
        except OSError as exc:
            # Monitoring that silently is not there is worse than a worker that will not start.
            logger.error("Cannot serve metrics on %s:%d: %s. Give each worker on a host its own "
                         "--metrics-port (0 picks a free one).",
                         self.config.host, self.config.port, exc.strerror or exc)
            if self.crawler is not None and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(
                    reason="metrics_port_unavailable"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.stop()

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        latency = response.meta.get("download_latency")
        if isinstance(latency, (int, float)) and latency >= 0:
            self.latency.observe(latency)

    def item_scraped(self, item: Any, response: Response, spider: Spider) -> None:
        """An article went through every item pipeline: it is stored (duplicates and invalid
        articles are dropped before this signal)."""
        self.captures.observe(item)
