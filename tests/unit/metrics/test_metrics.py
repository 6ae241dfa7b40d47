"""The worker's metrics without Redis: the stats mapping, the gauges of a stand-in frontier,
the settings, the health check."""

from __future__ import annotations

import re

import pytest
import redis
from prometheus_client import CollectorRegistry, generate_latest
from scrapy.exceptions import NotConfigured

from crawler.frontier.core import FrontierCounts
from crawler.metrics import (
    CrawlCollector,
    HealthCheck,
    MetricsConfig,
    MetricsExporter,
    download_error_reason,
)
from tests.support.metrics import GAUGES, crawler_samples, metrics_crawler


class _FakeFrontier:
    def __init__(self, counts: FrontierCounts | Exception) -> None:
        self.result = counts
        self.calls = []

    def counts(self, worker_timeout: float = 30.0, top: int = 10) -> FrontierCounts:
        self.calls.append((worker_timeout, top))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


COUNTS = FrontierCounts(queued=7, in_flight=3, seen=120, articles=40, dead_letters=2,
                        workers_alive=4, stats={}, top_hosts=[])

STATS = {
    "downloader/response_status_count/200": 50,
    "downloader/response_status_count/206": 1,
    "downloader/response_status_count/301": 4,
    "downloader/response_status_count/404": 3,
    "downloader/response_status_count/500": 2,
    "downloader/response_status_count/503": 1,
    "downloader/exception_type_count/scrapy.exceptions.DownloadTimeoutError": 5,
    "downloader/exception_type_count/twisted.internet.error.TimeoutError": 1,
    "downloader/exception_type_count/scrapy.exceptions.CannotResolveHostError": 2,
    "downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError": 1,
    "downloader/exception_type_count/crawler.worker.netguard.RefusedAddress": 6,
    "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 9,
    "downloader/response_bytes": 123456,
    "articles/stored": 30,
    "dedupe/duplicate_url": 4,
    "dedupe/duplicate_content": 3,
    "dedupe/near_duplicate": 2,
    "articles/invalid/too_short": 5,
    "articles/invalid/no_title": 1,
    "pages/article": 39,
    "pages/listing": 12,
    "pages/non_html": 2,
    "pages/failed/HttpError": 3,
    "pages/failed/DownloadTimeoutError": 2,
    "scheduler/enqueued/redis": 80,
    "scheduler/dequeued/redis": 66,
    "frontier/duplicate": 300,
    "retry/count": 6,
    "frontier/retried": 1,
    "offsite/dropped": 17,
    "netguard/refused": 6,
    "robotstxt/forbidden": 9,
    "depth/request_ignored_count": 8,
    "frontier/corrupt": 1,
    "frontier/leases_expired": 2,
    "spider_exceptions/count": 3,
    "spider_exceptions/ValueError": 3,
    "frontier/backoff": 4,
    "frontier/redis_errors": 13,
    "frontier/given_back": 5,
    "log_count/WARNING": 11,
    "log_count/ERROR": 4,
    "log_count/INFO": 1000,  # not mapped
    "hubs/visits/feed/changed": 6,
    "hubs/visits/feed/not_modified": 9,
    "hubs/visits/home/unchanged": 4,
    "hubs/visits/news-sitemap/error": 2,
    "hubs/discovered/feed": 3,
    "hubs/discovered/front": 5,
    "hubs/entries/queued": 70,
    "hubs/entries/too_old": 12,
    "hubs/entries/offsite": 3,
    "hubs/entries/truncated": 1,
    "hubs/parse_errors": 2,
    "memusage/max": 10**8,  # not mapped: the process metrics have it
}


def _expected(spider: str = "news") -> dict[tuple, float]:
    def key(name, **labels):
        return (name, tuple(sorted({"spider": spider, **labels}.items())))

    want = {}
    for status_class, value in (("1xx", 0), ("2xx", 51), ("3xx", 4), ("4xx", 3), ("5xx", 3)):
        want[key("crawler_responses_total", status_class=status_class)] = value
    for reason, value in (("timeout", 6), ("dns", 2), ("connection_refused", 0), ("connection", 0),
                          ("tls", 0), ("cancelled", 1), ("other", 0)):
        want[key("crawler_download_errors_total", reason=reason)] = value
    for outcome, value in (("stored", 30), ("duplicate_url", 4), ("duplicate_content", 3),
                           ("near_duplicate", 2), ("invalid", 6)):
        want[key("crawler_articles_total", outcome=outcome)] = value
    for kind, value in (("article", 39), ("listing", 12), ("non_html", 2)):
        want[key("crawler_pages_total", kind=kind)] = value
    for reason, value in (("offsite", 17), ("private_network", 6), ("robots", 9), ("depth_limit", 8),
                          ("scheme", 0)):
        want[key("crawler_requests_refused_total", reason=reason)] = value
    for reason, value in (("corrupt", 1), ("unserializable", 0)):
        want[key("crawler_requests_dropped_total", reason=reason)] = value
    for level, value in (("warning", 11), ("error", 4), ("critical", 0)):
        want[key("crawler_log_messages_total", level=level)] = value
    for reason in ("backlog", "memory"):
        want[key("crawler_crawl_paused", reason=reason)] = 0
    visits = {("feed", "changed"): 6, ("feed", "not_modified"): 9, ("home", "unchanged"): 4,
              ("news-sitemap", "error"): 2}
    for kind in ("home", "front", "feed", "sitemap", "news-sitemap"):
        for result in ("changed", "unchanged", "not_modified", "error"):
            want[key("crawler_hub_visits_total", kind=kind, result=result)] = visits.get((kind, result), 0)
        want[key("crawler_hubs_discovered_total", kind=kind)] = {"feed": 3, "front": 5}.get(kind, 0)
    for outcome, value in (("queued", 70), ("too_old", 12), ("offsite", 3), ("truncated", 1)):
        want[key("crawler_hub_entries_total", outcome=outcome)] = value
    for name, value in (("crawler_response_bytes_total", 123456), ("crawler_requests_enqueued_total", 80),
                        ("crawler_requests_duplicate_total", 300), ("crawler_requests_leased_total", 66),
                        ("crawler_requests_retried_total", 7), ("crawler_requests_failed_total", 5),
                        ("crawler_leases_expired_total", 2), ("crawler_spider_errors_total", 3),
                        ("crawler_host_backoffs_total", 4), ("crawler_redis_errors_total", 13),
                        ("crawler_requests_given_back_total", 5), ("crawler_hub_parse_errors_total", 2),
                        ("crawler_redis_up", 1), ("crawler_frontier_queued", 7),
                        ("crawler_frontier_in_flight", 3), ("crawler_frontier_seen", 120),
                        ("crawler_frontier_dead_letters", 2), ("crawler_workers_alive", 4)):
        want[key(name)] = value
    return want


def _collector(counts=COUNTS, stats=STATS, **kwargs) -> tuple[CrawlCollector, _FakeFrontier]:
    crawler = metrics_crawler()
    for name, value in stats.items():
        crawler.stats.set_value(name, value)
    frontier = _FakeFrontier(counts)
    return CrawlCollector(crawler.stats, frontier, "news", **kwargs), frontier


def test_every_mapped_stat_has_its_exact_metric_and_nothing_else():
    collector, frontier = _collector(worker_timeout=12.5)
    registry = CollectorRegistry()
    registry.register(collector)
    assert crawler_samples(registry) == _expected()
    assert frontier.calls == [(12.5, 1)]


def test_labelled_families_are_pre_created_with_zeros():
    collector, _ = _collector(stats={})
    registry = CollectorRegistry()
    registry.register(collector)
    samples = crawler_samples(registry)
    zeros = {key: value for key, value in _expected().items() if key[0] not in GAUGES}
    assert {key: samples[key] for key in zeros} == dict.fromkeys(zeros, 0)


def test_frontier_is_read_once_per_cache_period():
    collector, frontier = _collector(cache_seconds=60)
    registry = CollectorRegistry()
    registry.register(collector)
    for _ in range(3):
        generate_latest(registry)
    assert len(frontier.calls) == 1
    collector.cache_seconds = 0
    generate_latest(registry)
    assert len(frontier.calls) == 2


def test_unreachable_redis_leaves_the_gauges_out_and_says_so():
    collector, _ = _collector(counts=redis.ConnectionError("gone"))
    registry = CollectorRegistry()
    registry.register(collector)
    samples = crawler_samples(registry)
    assert samples[("crawler_redis_up", (("spider", "news"),))] == 0
    assert not [name for name, _ in samples if name in GAUGES - {"crawler_redis_up"}]
    assert samples[("crawler_responses_total", (("spider", "news"), ("status_class", "2xx")))] == 51


@pytest.mark.parametrize("path, reason", [
    ("scrapy.exceptions.DownloadTimeoutError", "timeout"),
    ("twisted.internet.error.TCPTimedOutError", "timeout"),
    ("scrapy.exceptions.CannotResolveHostError", "dns"),
    ("twisted.internet.error.DNSLookupError", "dns"),
    ("scrapy.exceptions.DownloadConnectionRefusedError", "connection_refused"),
    ("twisted.internet.error.ConnectionRefusedError", "connection_refused"),
    ("twisted.web._newclient.ResponseNeverReceived", "connection"),
    ("twisted.internet.error.ConnectionLost", "connection"),
    ("scrapy.exceptions.ResponseDataLossError", "connection"),
    ("scrapy.core.downloader.handlers.http11.TunnelError", "connection"),
    ("OpenSSL.SSL.Error", "tls"),
    ("scrapy.exceptions.DownloadCancelledError", "cancelled"),
    ("builtins.ValueError", "other"),
    ("crawler.worker.netguard.RefusedAddress", None),
    ("scrapy.exceptions.IgnoreRequest", None),
])
def test_download_error_reasons(path, reason):
    assert download_error_reason(path) == reason


@pytest.mark.parametrize("settings, message", [
    ({"METRICS_PORT": "abc"}, "METRICS_PORT must be a port number"),
    ({"METRICS_PORT": 70000}, "METRICS_PORT must be between 0 and 65535"),
    ({"METRICS_LATENCY_BUCKETS": [1, 0.5]}, "METRICS_LATENCY_BUCKETS must be increasing"),
    ({"METRICS_LATENCY_BUCKETS": [0, 1]}, "METRICS_LATENCY_BUCKETS must be increasing"),
    ({"METRICS_LATENCY_BUCKETS": "0.1,fast"}, "METRICS_LATENCY_BUCKETS must be numbers"),
    ({"METRICS_CACHE_SECONDS": -1}, "METRICS_CACHE_SECONDS must be 0 or more"),
    ({"METRICS_HEALTHZ_STALL_SECONDS": 1}, "METRICS_HEALTHZ_STALL_SECONDS must be more than 1"),
    ({"METRICS_CAPTURE_DELAY_BUCKETS": [60, 30]}, "METRICS_CAPTURE_DELAY_BUCKETS must be increasing"),
    ({"METRICS_CAPTURE_DELAY_BUCKETS": "30,soon"}, "METRICS_CAPTURE_DELAY_BUCKETS must be numbers"),
    ({"METRICS_CAPTURE_LAG_SECONDS": 0}, "METRICS_CAPTURE_LAG_SECONDS must be more than 0"),
    ({"METRICS_HUBS_CACHE_SECONDS": -1}, "METRICS_HUBS_CACHE_SECONDS must be 0 or more"),
])
def test_config_rejects_values_that_cannot_work(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MetricsConfig.from_settings(metrics_crawler(**settings).settings)


def test_config_defaults_and_off():
    config = MetricsConfig.from_settings(metrics_crawler().settings)
    assert (config.port, config.host, config.cache_seconds, config.healthz_stall_seconds) == (
        9410, "127.0.0.1", 1.0, 10.0)
    assert config.latency_buckets == (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
    assert (config.capture_delay_buckets[0], config.capture_delay_buckets[-1]) == (30.0, 172800.0)
    assert (config.capture_lag_seconds, config.hubs_cache_seconds) == (3600.0, 30.0)
    assert MetricsConfig.from_settings(metrics_crawler(METRICS_PORT="").settings).port is None
    assert MetricsConfig.from_settings(metrics_crawler(METRICS_LATENCY_BUCKETS="0.5,2").settings
                                       ).latency_buckets == (0.5, 2.0)


def test_health_check_needs_a_turning_reactor_and_redis():
    now = [100.0]
    pings = []

    def ping():
        pings.append(now[0])
        if now[0] >= 130:
            raise redis.ConnectionError("gone")

    health = HealthCheck(ping, stall_seconds=10, clock=lambda: now[0])
    assert health.check() == (False, {"status": "unhealthy", "redis": True, "reactor": False,
                                      "reactor_lag_seconds": None})
    health.beat()
    now[0] = 109.5
    assert health.check() == (True, {"status": "ok", "redis": True, "reactor": True,
                                     "reactor_lag_seconds": 9.5})
    now[0] = 110.5  # the reactor has not beaten for 10.5 s
    assert health.check()[1]["reactor"] is False
    health.beat()
    assert health.check()[0] is True
    assert pings == [100.0, 109.5, 110.5]  # at most one PING a second
    now[0] = 130.0
    assert health.check() == (False, {"status": "unhealthy", "redis": False, "reactor": False,
                                      "reactor_lag_seconds": 19.5})


def test_metrics_off_with_an_empty_port():
    with pytest.raises(NotConfigured, match="METRICS_PORT is not set"):
        MetricsExporter.from_crawler(metrics_crawler(METRICS_PORT=""))


@pytest.mark.parametrize("reason", ["backlog", "memory"])
def test_a_paused_crawl_says_why(reason):
    """crawler_crawl_paused{reason} is 1 for the reason the workers wrote in Redis, 0 for
    the others; a record with a reason of its own shows in none."""
    paused = FrontierCounts(**{**COUNTS.__dict__, "paused": reason, "paused_since": 1.0})
    collector, _ = _collector(counts=paused)
    registry = CollectorRegistry()
    registry.register(collector)
    samples = crawler_samples(registry)
    assert {labels: value for (name, labels), value in samples.items() if name == "crawler_crawl_paused"} == {
        (("reason", other), ("spider", "news")): float(other == reason) for other in ("backlog", "memory")}
