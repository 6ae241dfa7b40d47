"""The custom collector: a worker's Scrapy stats and the shared frontier, read at scrape time.

Each Scrapy stat that matters is mapped to one metric on purpose (the table
below); the rest of the stats are left out rather than dumped. Every family
carries a constant ``spider`` label (one value per worker), and every labelled
family lists all of its label values, zeros included, so that ``rate()`` and
the alert rules see a series from the first scrape on.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from crawler.base.counters import (
    HUB_KINDS,
    HUB_RESULTS,
    PAGE_STATS,
    PIPELINE_OUTCOMES,
    STAT_FIELDS,
    Field,
    Outcome,
    Stat,
    hub_visit_stat,
    log_count_stat,
    outcome_stat,
)
from crawler.frontier import defaults
from crawler.frontier.backpressure import PAUSE_REASONS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from scrapy.statscollectors import StatsCollector

    from crawler.frontier.core import Frontier, FrontierCounts
    from crawler.frontier.hubstats import HubCounts
    from crawler.store.delivery import DeliveryStatus

logger = logging.getLogger(__name__)

__all__ = ["CrawlCollector", "DOWNLOAD_ERROR_REASONS", "REFUSAL_REASONS", "STATUS_CLASSES",
           "download_error_reason"]

STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
DOWNLOAD_ERROR_REASONS = ("timeout", "dns", "connection_refused", "connection", "tls",
                          "cancelled", "other")
# The ``reason`` of each refusal -> the Scrapy stats it counts: those of the crawl-wide
# refusal counters (REFUSAL_FIELDS), and the depth limit, which has none.
_REFUSALS = {
    "offsite": STAT_FIELDS[Field.OFFSITE_DROPPED],
    "private_network": STAT_FIELDS[Field.REFUSED_PRIVATE],
    "robots": STAT_FIELDS[Field.REFUSED_ROBOTS],
    "scheme": STAT_FIELDS[Field.REFUSED_SCHEME],
    "depth_limit": (Stat.DEPTH_IGNORED,),
}
REFUSAL_REASONS = tuple(_REFUSALS)
_DROPS = {"corrupt": Stat.FRONTIER_CORRUPT, "unserializable": Stat.FRONTIER_UNSERIALIZABLE}
LOG_LEVELS = ("warning", "error", "critical")
# What became of the entries (feed items, sitemap URLs) and links a hub visit found.
_HUB_ENTRIES = {"queued": Stat.HUB_ENTRIES_QUEUED, "too_old": Stat.HUB_ENTRIES_TOO_OLD,
                "offsite": Stat.HUB_ENTRIES_OFFSITE, "truncated": Stat.HUB_ENTRIES_TRUNCATED}

# Exceptions that the downloader stats count but that are refusals, counted
# as such (crawler.worker.netguard.RefusedAddress and RefusedScheme, robots.txt's IgnoreRequest).
_NOT_DOWNLOAD_ERRORS = ("RefusedAddress", "RefusedScheme", "IgnoreRequest")


def download_error_reason(exception_path: str) -> str | None:
    """The ``reason`` label of a ``downloader/exception_type_count/<path>`` stat.

    None for the exceptions that are refusals rather than failed downloads.
    """
    name = exception_path.rsplit(".", 1)[-1]
    if name in _NOT_DOWNLOAD_ERRORS:
        return None
    name = name.lower()
    if "timeout" in name or "timedout" in name:
        return "timeout"
    if "dns" in name or "resolve" in name or "lookup" in name:
        return "dns"
    if "refused" in name:
        return "connection_refused"
    if any(word in exception_path.lower() for word in ("ssl", "tls", "certificate")):
        return "tls"  # OpenSSL.SSL.Error: the module says it
    if "cancel" in name:  # mostly DOWNLOAD_MAXSIZE
        return "cancelled"
    if any(word in name for word in ("connect", "connection", "neverreceived", "dataloss",
                                     "tunnel", "downloadfailed", "partial")):
        return "connection"
    return "other"


def _sum(stats: Mapping[str, object], prefix: str | tuple[str, ...]) -> float:
    return sum(value for key, value in stats.items()
               if key.startswith(prefix) and isinstance(value, (int, float)))


def _labelled(stats: Mapping[str, object]) -> dict[str, tuple[str, str, dict[str, float]]]:
    """Counter families with one label: name -> (help, label name, {label value: count})."""
    classes = dict.fromkeys(STATUS_CLASSES, 0.0)
    errors = dict.fromkeys(DOWNLOAD_ERROR_REASONS, 0.0)
    for key, value in stats.items():
        if key.startswith(Stat.RESPONSE_STATUS):
            code = key.rsplit("/", 1)[-1]
            if code[:1] in "12345":
                classes[f"{code[0]}xx"] += value
        elif key.startswith(STAT_FIELDS[Field.DOWNLOAD_ERRORS]):
            reason = download_error_reason(key.rsplit("/", 1)[-1])
            if reason is not None:
                errors[reason] += value
    return {
        "crawler_responses": ("Responses received, by HTTP status class", "status_class", classes),
        "crawler_download_errors": ("Downloads that failed without a response, by reason",
                                    "reason", errors),
        "crawler_articles": ("Articles through the item pipelines, by outcome", "outcome", {
            outcome: (_sum(stats, Stat.ARTICLES_INVALID) if outcome == Outcome.INVALID
                      else stats.get(outcome_stat(outcome), 0))
            for outcome in PIPELINE_OUTCOMES}),
        "crawler_pages": ("Pages the spider parsed, by kind", "kind", {
            kind: stats.get(stat, 0) for kind, stat in PAGE_STATS.items()}),
        "crawler_requests_refused": ("Requests or links refused by policy, by reason", "reason", {
            reason: _sum(stats, prefixes) for reason, prefixes in _REFUSALS.items()}),
        "crawler_requests_dropped": ("Requests that the frontier could not hold or read, by reason",
                                     "reason", {
            reason: stats.get(stat, 0) for reason, stat in _DROPS.items()}),
        "crawler_log_messages": ("Log records of this worker, by level", "level", {
            level: stats.get(log_count_stat(level), 0) for level in LOG_LEVELS}),
        "crawler_hub_entries": ("Entries and article links of hub visits (feeds, sitemaps, fronts, "
                                "home pages), by outcome: queued (never seen before), too_old "
                                "(FRONTIER_MAX_ARTICLE_AGE), offsite, truncated (past the "
                                "per-hub cap)", "outcome", {
            outcome: stats.get(stat, 0) for outcome, stat in _HUB_ENTRIES.items()}),
        "crawler_hubs_discovered": ("Hubs this worker found and registered, by kind", "kind", {
            kind: stats.get(Stat.HUB_DISCOVERED + kind, 0) for kind in HUB_KINDS}),
    }


# Counter families without a label: name -> (help, value from the stats).
_PLAIN: tuple[tuple[str, str, Callable[[Mapping[str, object]], float]], ...] = (
    ("crawler_response_bytes", "Bytes of responses received (status line, headers, body)",
     lambda s: s.get(Stat.RESPONSE_BYTES, 0)),
    ("crawler_requests_enqueued", "Requests this worker queued in the frontier",
     lambda s: s.get(Stat.SCHEDULER_ENQUEUED, 0)),
    ("crawler_requests_duplicate", "Requests not queued because the frontier had seen them",
     lambda s: s.get(Stat.FRONTIER_DUPLICATE, 0)),
    ("crawler_requests_leased", "Requests this worker leased from the frontier",
     lambda s: s.get(Stat.SCHEDULER_DEQUEUED, 0)),
    ("crawler_requests_retried", "Requests retried: by Scrapy's retry middleware, or queued "
     "again because their articles could not be stored",
     lambda s: s.get(Stat.RETRY_COUNT, 0) + s.get(Stat.FRONTIER_RETRIED, 0)),
    ("crawler_requests_failed", "Requests that failed for good, after their retries",
     lambda s: _sum(s, Stat.PAGES_FAILED)),
    ("crawler_leases_expired", "Expired leases (of any worker) this worker took back",
     lambda s: s.get(Stat.FRONTIER_LEASES_EXPIRED, 0)),
    ("crawler_spider_errors", "Exceptions raised by spider callbacks",
     lambda s: _sum(s, STAT_FIELDS[Field.SPIDER_ERRORS])),
    ("crawler_host_backoffs", "Times a host answered 429 or 503 and every worker kept off it",
     lambda s: s.get(Stat.FRONTIER_BACKOFF, 0)),
    ("crawler_redis_errors", "Frontier operations that failed on Redis and were retried later",
     lambda s: s.get(Stat.FRONTIER_REDIS_ERRORS, 0)),
    ("crawler_requests_given_back", "Requests given back to the queue without counting an "
     "attempt: Redis had no memory for their articles (OOM)",
     lambda s: s.get(Stat.FRONTIER_GIVEN_BACK, 0)),
    ("crawler_hub_parse_errors", "Hub visits whose feed or sitemap could not be read",
     lambda s: s.get(Stat.HUB_PARSE_ERRORS, 0)),
)

# Gauges of the whole crawl, from Redis: name -> (help, FrontierCounts attribute).
_FRONTIER = (
    ("crawler_frontier_queued", "Requests queued in the shared frontier", "queued"),
    ("crawler_frontier_in_flight", "Requests leased by workers and not finished", "in_flight"),
    ("crawler_frontier_seen", "Request fingerprints seen by the frontier", "seen"),
    ("crawler_frontier_dead_letters", "Requests set aside after too many failed leases",
     "dead_letters"),
    ("crawler_workers_alive", "Workers whose heartbeat is recent", "workers_alive"),
)


def _hub_visits(stats: Mapping[str, object], spider: str) -> CounterMetricFamily:
    family = CounterMetricFamily("crawler_hub_visits", "Hub visits by kind of hub and result: "
                                 "changed (new article links), unchanged, not_modified (304), error",
                                 labels=["spider", "kind", "result"])
    for kind in HUB_KINDS:
        for result in HUB_RESULTS:
            family.add_metric([spider, kind, result], stats.get(hub_visit_stat(kind, result), 0))
    return family


def _hub_families(hubs: HubCounts, spider: str) -> Iterator[GaugeMetricFamily]:
    """The crawl's hubs by kind, the retired ones, the revisits due and overdue."""
    by_kind = GaugeMetricFamily("crawler_hubs", "Hubs the crawl revisits (not retired), by kind",
                                labels=["spider", "kind"])
    for kind in HUB_KINDS:
        by_kind.add_metric([spider, kind], hubs.by_kind.get(kind, 0))
    yield by_kind
    for name, help_text, value in (
            ("crawler_hubs_retired", "Hubs retired after too many failed visits in a row", hubs.retired),
            ("crawler_revisits_due", "Hub visits due now, queued or not yet", hubs.due),
            ("crawler_revisits_overdue", "Hub visits due longer ago than FRONTIER_REVISIT_OVERDUE: "
             "the workers are too few for the schedule", hubs.overdue)):
        family = GaugeMetricFamily(name, help_text, labels=["spider"])
        family.add_metric([spider], value)
        yield family


def _delivery_families(delivery: DeliveryStatus, spider: str) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    """The article stream and, per consumer group of ``crawler deliver`` (a label an operator
    names, one per sink), its backlog, the age of its oldest undelivered article and what
    it delivered."""
    family = GaugeMetricFamily("crawler_articles_in_stream", "Articles in the crawl's Redis stream "
                               "(stored, not yet delivered to every consumer group)", labels=["spider"])
    family.add_metric([spider], delivery.length)
    yield family
    backlog = GaugeMetricFamily("crawler_delivery_backlog", "Articles a consumer group of crawler "
                                "deliver has not acknowledged yet", labels=["spider", "group"])
    age = GaugeMetricFamily("crawler_delivery_oldest_age_seconds", "Age of the oldest article a "
                            "consumer group has not acknowledged (0 when none)", labels=["spider", "group"])
    delivered = CounterMetricFamily("crawler_delivered_articles", "Articles a consumer group of "
                                    "crawler deliver acknowledged (stored in its sink)",
                                    labels=["spider", "group"])
    for name, group in sorted(delivery.groups.items()):
        backlog.add_metric([spider, name], group.backlog)
        age.add_metric([spider, name], group.oldest_age_seconds)
        delivered.add_metric([spider, name], group.delivered)
    yield backlog
    yield age
    yield delivered


class CrawlCollector(Collector):
    """Turns one worker's Scrapy stats and its crawl's frontier into metric families.

    ``stats`` is the crawler's stats collector, read on every scrape.
    ``frontier`` is read with one ``Frontier.counts()`` round trip at most
    once per ``cache_seconds``, however many scrapes arrive, and so are
    ``delivery`` when given (the article stream and its consumer groups,
    :func:`crawler.store.delivery.delivery_status`) and ``hubs`` when given
    (:meth:`crawler.frontier.hubstats.HubStats.read`); when Redis does not answer
    those gauges are left out and ``crawler_redis_up`` is 0.
    """

    def __init__(self, stats: StatsCollector, frontier: Frontier, spider: str, *,
                 cache_seconds: float = 1.0, worker_timeout: float = defaults.FRONTIER_WORKER_TIMEOUT,
                 delivery: Callable[[], DeliveryStatus] | None = None,
                 hubs: Callable[[], HubCounts] | None = None) -> None:
        self.stats = stats
        self.frontier = frontier
        self.delivery = delivery
        self.hubs = hubs
        self.spider = spider
        self.cache_seconds = cache_seconds
        self.worker_timeout = worker_timeout
        self._lock = threading.Lock()
        self._counts: FrontierCounts | None = None
        self._delivery: DeliveryStatus | None = None
        self._hubs: HubCounts | None = None
        self._counts_at = float("-inf")

    def frontier_counts(self) -> FrontierCounts | None:
        """The cached snapshot of the frontier, refreshed when older than ``cache_seconds``."""
        with self._lock:  # concurrent scrapes share one round trip
            now = time.monotonic()
            if now - self._counts_at >= self.cache_seconds:
                try:
                    self._counts = self.frontier.counts(worker_timeout=self.worker_timeout, top=1)
                    self._delivery = self.delivery() if self.delivery is not None else None
                    self._hubs = self.hubs() if self.hubs is not None else None
                except Exception as exc:  # noqa: BLE001 - a scrape must still answer
                    logger.warning("Cannot read the frontier for metrics: %s", exc)
                    self._counts = self._delivery = self._hubs = None
                self._counts_at = now
            return self._counts

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        # Scrapes run on the HTTP server's threads while the reactor updates the
        # stats: dict.copy() is one C call under the GIL, iterating is not.
        stats = self.stats.get_stats().copy()
        spider = self.spider
        for name, (help_text, label, values) in _labelled(stats).items():
            family = CounterMetricFamily(name, help_text, labels=["spider", label])
            for value, count in values.items():
                family.add_metric([spider, value], count)
            yield family
        for name, help_text, read in _PLAIN:
            family = CounterMetricFamily(name, help_text, labels=["spider"])
            family.add_metric([spider], read(stats))
            yield family
        yield _hub_visits(stats, spider)
        counts = self.frontier_counts()
        up = GaugeMetricFamily("crawler_redis_up", "1 when the last read of the frontier from "
                               "Redis succeeded", labels=["spider"])
        up.add_metric([spider], 0 if counts is None else 1)
        yield up
        if counts is None:
            return
        for name, help_text, attribute in _FRONTIER:
            family = GaugeMetricFamily(name, help_text, labels=["spider"])
            family.add_metric([spider], getattr(counts, attribute))
            yield family
        paused = GaugeMetricFamily("crawler_crawl_paused", "1 while the workers lease no new "
                                   "requests, by reason: backlog (articles not yet delivered above "
                                   "DELIVER_BACKLOG_MAX) or memory (Redis above "
                                   "REDIS_MEMORY_HIGH_WATERMARK of maxmemory)",
                                   labels=["spider", "reason"])
        for reason in PAUSE_REASONS:
            paused.add_metric([spider, reason], 1 if counts.paused == reason else 0)
        yield paused
        if self._delivery is not None:
            yield from _delivery_families(self._delivery, spider)
        if self._hubs is not None:
            yield from _hub_families(self._hubs, spider)
        if counts.seen_capacity:  # a Bloom filter: past its capacity, false positives climb
            family = GaugeMetricFamily("crawler_frontier_seen_capacity",
                                       "URLs the crawl's Bloom filter was sized for", labels=["spider"])
            family.add_metric([spider], counts.seen_capacity)
            yield family
