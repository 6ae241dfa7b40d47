"""The worker's metrics: the stats mapping, the frontier gauges, /metrics and /healthz."""

from __future__ import annotations

import json
import re
import socket
import time
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import redis
import scrapy
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.frontier.core import Frontier, FrontierCounts
from crawler.frontier.seen import SeenFilter
from crawler.base.keys import Keys
from crawler.metrics import (
    CrawlCollector,
    HealthCheck,
    MetricsConfig,
    MetricsExporter,
    download_error_reason,
)
from crawler.frontier.seeding import seed
from tests.conftest import free_port, start_redis_server

CLI = [sys.executable, "-m", "crawler"]
PROJECT = {name: getattr(project_settings, name) for name in dir(project_settings)
           if name.startswith(("METRICS_", "FRONTIER_"))}


class _Spider(scrapy.Spider):
    name = "news"


def _crawler(**settings):
    return get_crawler(_Spider, settings_dict={**PROJECT, **settings})


def _samples(registry: CollectorRegistry) -> dict[tuple, float]:
    """Every sample of ``registry``: (name, sorted labels) -> value, process metrics left out."""
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("crawler_") and not sample.name.endswith("_created")
    }


class _FakeFrontier:
    def __init__(self, counts: FrontierCounts | Exception) -> None:
        self.result = counts
        self.calls = []

    def counts(self, worker_timeout: float = 30.0, top: int = 10) -> FrontierCounts:
        self.calls.append((worker_timeout, top))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


GAUGES = {"crawler_frontier_queued", "crawler_frontier_in_flight", "crawler_frontier_seen",
          "crawler_frontier_dead_letters", "crawler_workers_alive", "crawler_redis_up"}
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
    "log_count/WARNING": 11,
    "log_count/ERROR": 4,
    "log_count/INFO": 1000,  # not mapped
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
    for reason, value in (("offsite", 17), ("private_network", 6), ("robots", 9), ("depth_limit", 8)):
        want[key("crawler_requests_refused_total", reason=reason)] = value
    for reason, value in (("corrupt", 1), ("unserializable", 0)):
        want[key("crawler_requests_dropped_total", reason=reason)] = value
    for level, value in (("warning", 11), ("error", 4), ("critical", 0)):
        want[key("crawler_log_messages_total", level=level)] = value
    for name, value in (("crawler_response_bytes_total", 123456), ("crawler_requests_enqueued_total", 80),
                        ("crawler_requests_duplicate_total", 300), ("crawler_requests_leased_total", 66),
                        ("crawler_requests_retried_total", 7), ("crawler_requests_failed_total", 5),
                        ("crawler_leases_expired_total", 2), ("crawler_spider_errors_total", 3),
                        ("crawler_host_backoffs_total", 4), ("crawler_redis_errors_total", 13),
                        ("crawler_redis_up", 1), ("crawler_frontier_queued", 7),
                        ("crawler_frontier_in_flight", 3), ("crawler_frontier_seen", 120),
                        ("crawler_frontier_dead_letters", 2), ("crawler_workers_alive", 4)):
        want[key(name)] = value
    return want


def _collector(counts=COUNTS, stats=STATS, **kwargs) -> tuple[CrawlCollector, _FakeFrontier]:
    crawler = _crawler()
    for name, value in stats.items():
        crawler.stats.set_value(name, value)
    frontier = _FakeFrontier(counts)
    return CrawlCollector(crawler.stats, frontier, "news", **kwargs), frontier


def test_every_mapped_stat_has_its_exact_metric_and_nothing_else():
    collector, frontier = _collector(worker_timeout=12.5)
    registry = CollectorRegistry()
    registry.register(collector)
    assert _samples(registry) == _expected()
    assert frontier.calls == [(12.5, 1)]


def test_labelled_families_are_pre_created_with_zeros():
    collector, _ = _collector(stats={})
    registry = CollectorRegistry()
    registry.register(collector)
    samples = _samples(registry)
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
    samples = _samples(registry)
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


def test_frontier_gauges_from_a_real_redis(redis_url, r):
    frontier = Frontier(redis.Redis.from_url(redis_url, decode_responses=True), Keys("news"))
    report = seed(frontier, ["https://a.example/1", "https://a.example/2", "https://b.example/1"])
    assert report.accepted == 3
    frontier.heartbeat("w1")
    frontier.heartbeat("w2")
    r.lpush(Keys("news").deadletter, json.dumps({"reason": "test", "request": "{}"}))
    crawler = _crawler()
    registry = CollectorRegistry()
    registry.register(CrawlCollector(crawler.stats, frontier, "news"))
    samples = _samples(registry)
    gauges = {name: value for (name, _), value in samples.items() if name in GAUGES}
    assert gauges == {"crawler_frontier_queued": 3, "crawler_frontier_in_flight": 0,
                      "crawler_frontier_seen": 3, "crawler_frontier_dead_letters": 1,
                      "crawler_workers_alive": 2, "crawler_redis_up": 1}


def test_a_bloom_crawl_exports_its_capacity(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    bloom = SeenFilter.bloom(1000, 0.001)
    bloom.check(client, Keys("news"))
    frontier = Frontier(client, Keys("news"), seen=bloom)
    seed(frontier, [f"https://a.example/{n}" for n in range(5)])
    registry = CollectorRegistry()
    registry.register(CrawlCollector(_crawler().stats, frontier, "news"))
    samples = _samples(registry)
    assert samples[("crawler_frontier_seen", (("spider", "news"),))] == 5
    assert samples[("crawler_frontier_seen_capacity", (("spider", "news"),))] == 1000


@pytest.mark.parametrize("settings, message", [
    ({"METRICS_PORT": "abc"}, "METRICS_PORT must be a port number"),
    ({"METRICS_PORT": 70000}, "METRICS_PORT must be between 0 and 65535"),
    ({"METRICS_LATENCY_BUCKETS": [1, 0.5]}, "METRICS_LATENCY_BUCKETS must be increasing"),
    ({"METRICS_LATENCY_BUCKETS": [0, 1]}, "METRICS_LATENCY_BUCKETS must be increasing"),
    ({"METRICS_LATENCY_BUCKETS": "0.1,fast"}, "METRICS_LATENCY_BUCKETS must be numbers"),
    ({"METRICS_CACHE_SECONDS": -1}, "METRICS_CACHE_SECONDS must be 0 or more"),
    ({"METRICS_HEALTHZ_STALL_SECONDS": 1}, "METRICS_HEALTHZ_STALL_SECONDS must be more than 1"),
])
def test_config_rejects_values_that_cannot_work(settings, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MetricsConfig.from_settings(_crawler(**settings).settings)


def test_config_defaults_and_off():
    config = MetricsConfig.from_settings(_crawler().settings)
    assert (config.port, config.host, config.cache_seconds, config.healthz_stall_seconds) == (
        9410, "127.0.0.1", 1.0, 10.0)
    assert config.latency_buckets == (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
    assert MetricsConfig.from_settings(_crawler(METRICS_PORT="").settings).port is None
    assert MetricsConfig.from_settings(_crawler(METRICS_LATENCY_BUCKETS="0.5,2").settings
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


def _get(url: str, **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def exporters(redis_url):
    started = []

    def start(spider_cls=_Spider, **settings):
        crawler = get_crawler(spider_cls, settings_dict={
            **PROJECT, "METRICS_PORT": 0, "METRICS_HOST": "127.0.0.1", "REDIS_URL": redis_url,
            **settings})
        exporter = MetricsExporter.from_crawler(crawler)
        exporter.start()
        started.append(exporter)
        return crawler, exporter

    yield start
    for exporter in started:
        exporter.stop()


def test_endpoint_serves_metrics_openmetrics_and_health(exporters):
    crawler, exporter = exporters()
    base = f"http://127.0.0.1:{exporter.port}"
    request = Request("http://example.com/a", meta={"download_latency": 0.3})
    for latency in (0.3, 0.02, 45.0):
        request.meta["download_latency"] = latency
        response = HtmlResponse("http://example.com/a", body=b"<html></html>", request=request)
        crawler.signals.send_catch_log(scrapy.signals.response_received, response=response,
                                       request=request, spider=None)
    crawler.stats.set_value("downloader/response_status_count/200", 3)

    status, headers, body = _get(base + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {family.name: family for family in text_string_to_metric_families(body.decode())}
    buckets = {sample.labels["le"]: sample.value
               for sample in families["crawler_download_latency_seconds"].samples
               if sample.name.endswith("_bucket")}
    assert buckets == {"0.01": 0, "0.025": 1, "0.05": 1, "0.1": 1, "0.25": 1, "0.5": 2, "1.0": 2,
                       "2.5": 2, "5.0": 2, "10.0": 2, "30.0": 2, "+Inf": 3}
    assert all(sample.labels["spider"] == "news"
               for sample in families["crawler_download_latency_seconds"].samples)
    assert "process_cpu_seconds" in families  # the process metrics are there too
    assert ("crawler_responses_total", "2xx", 3.0) in {
        (s.name, s.labels.get("status_class"), s.value) for s in families["crawler_responses"].samples}

    status, headers, body = _get(base + "/metrics", Accept="application/openmetrics-text; version=1.0.0")
    assert status == 200 and headers["Content-Type"].startswith("application/openmetrics-text")
    assert body.endswith(b"# EOF\n")

    status, headers, body = _get(base + "/healthz")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body)["status"] == "ok"
    assert _get(base + "/nothing")[0] == 404


def test_healthz_is_503_once_redis_goes_away(exporters, tmp_path):
    port = free_port()
    server = start_redis_server(port, str(tmp_path))
    try:
        _crawler, exporter = exporters(REDIS_URL=f"redis://127.0.0.1:{port}/0")
        assert _get(f"http://127.0.0.1:{exporter.port}/healthz")[0] == 200
    finally:
        server.terminate()
        server.wait(10)
    deadline = time.monotonic() + 10  # health and gauges are cached for a second
    while True:
        status, _headers, body = _get(f"http://127.0.0.1:{exporter.port}/healthz")
        if status == 503 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    time.sleep(1.1)
    assert status == 503
    assert json.loads(body) == {"status": "unhealthy", "redis": False, "reactor": True,
                                "reactor_lag_seconds": json.loads(body)["reactor_lag_seconds"]}
    samples = _get(f"http://127.0.0.1:{exporter.port}/metrics")[2].decode()
    assert 'crawler_redis_up{spider="news"} 0.0' in samples
    assert "crawler_frontier_queued" not in samples


def test_two_workers_in_one_process_never_collide(exporters):
    class _Blogs(scrapy.Spider):
        name = "blogs"

    first_crawler, first = exporters()
    second_crawler, second = exporters(_Blogs)
    assert first.port != second.port and first.registry is not second.registry
    first_crawler.stats.set_value("articles/stored", 5)
    second_crawler.stats.set_value("articles/stored", 9)
    for exporter, spider, stored in ((first, "news", 5), (second, "blogs", 9)):
        text = _get(f"http://127.0.0.1:{exporter.port}/metrics")[2].decode()
        assert f'crawler_articles_total{{outcome="stored",spider="{spider}"}} {stored}.0' in text


def test_metrics_off_with_an_empty_port():
    with pytest.raises(NotConfigured, match="METRICS_PORT is not set"):
        MetricsExporter.from_crawler(_crawler(METRICS_PORT=""))


def test_a_worker_whose_port_is_taken_stops_with_one_clear_error(redis_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            CLI + ["--redis-url", redis_url, "worker", "--metrics-port", str(port),
                   "-s", "METRICS_HOST=127.0.0.1", "--until-idle", "30"],
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "] ERROR: " in line]
    assert len(errors) == 2, result.stderr[-3000:]
    assert f"Cannot serve metrics on 127.0.0.1:{port}: Address already in use" in errors[0]
    assert "Worker stopped: metrics_port_unavailable" in errors[1]
