"""The worker's metrics against a real redis-server: the frontier gauges, /metrics and /healthz."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
import redis
import scrapy
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from crawler.base.keys import Keys
from crawler.frontier.core import Frontier
from crawler.frontier.seeding import seed
from crawler.frontier.seen import SeenFilter
from crawler.metrics import CrawlCollector, MetricsExporter
from tests.support.metrics import GAUGES, PROJECT, NewsSpider, crawler_samples, metrics_crawler
from tests.support.redis import free_port, start_redis_server


def test_frontier_gauges_from_a_real_redis(redis_url, r):
    frontier = Frontier(redis.Redis.from_url(redis_url, decode_responses=True), Keys("news"))
    report = seed(frontier, ["https://a.example/1", "https://a.example/2", "https://b.example/1"])
    assert report.accepted == 3
    frontier.heartbeat("w1")
    frontier.heartbeat("w2")
    r.lpush(Keys("news").deadletter, json.dumps({"reason": "test", "request": "{}"}))
    r.hset(Keys("news").paused, mapping={"reason": "backlog", "since": "1700000000.5", "detail": "x"})
    crawler = metrics_crawler()
    registry = CollectorRegistry()
    registry.register(CrawlCollector(crawler.stats, frontier, "news"))
    samples = crawler_samples(registry)
    gauges = {(name, dict(labels).get("reason")): value for (name, labels), value in samples.items()
              if name in GAUGES}
    assert gauges == {("crawler_frontier_queued", None): 3, ("crawler_frontier_in_flight", None): 0,
                      ("crawler_frontier_seen", None): 3, ("crawler_frontier_dead_letters", None): 1,
                      ("crawler_workers_alive", None): 2, ("crawler_redis_up", None): 1,
                      ("crawler_crawl_paused", "backlog"): 1, ("crawler_crawl_paused", "memory"): 0}


def test_a_bloom_crawl_exports_its_capacity(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    bloom = SeenFilter.bloom(1000, 0.001)
    bloom.check(client, Keys("news"))
    frontier = Frontier(client, Keys("news"), seen=bloom)
    seed(frontier, [f"https://a.example/{n}" for n in range(5)])
    registry = CollectorRegistry()
    registry.register(CrawlCollector(metrics_crawler().stats, frontier, "news"))
    samples = crawler_samples(registry)
    assert samples[("crawler_frontier_seen", (("spider", "news"),))] == 5
    assert samples[("crawler_frontier_seen_capacity", (("spider", "news"),))] == 1000


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

    def start(spider_cls=NewsSpider, **settings):
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


def test_stored_articles_feed_the_capture_delay_and_redis_the_hub_gauges(exporters, r):
    """Each article through the pipelines (item_scraped) is observed once; the hubs in
    Redis are counted with FRONTIER_REVISIT_OVERDUE; the lag threshold is the setting."""
    keys = Keys("news")
    seconds, _ = r.time()
    for url, kind, due in (("https://s.example/", "home", seconds - 61),
                           ("https://s.example/feed", "feed", seconds - 5),
                           ("https://s.example/world/", "front", seconds + 300)):
        r.hset(keys.hubs, url, json.dumps({"url": url, "kind": kind, "retired_at": None}))
        r.zadd(keys.hubs_due, {url: due})
    r.hset(keys.hubs, "https://s.example/gone.xml", json.dumps({"kind": "sitemap", "retired_at": seconds}))
    # Written first: the registry is collected once when the exporter is built (and the
    # hub kinds then cached for METRICS_HUBS_CACHE_SECONDS).
    crawler, exporter = exporters(METRICS_CAPTURE_LAG_SECONDS=900, FRONTIER_REVISIT_OVERDUE=60)
    response = HtmlResponse("http://example.com/a", body=b"<html></html>")
    for published in ("2025-03-01T11:58:00+00:00", "2025-03-01T00:00:00+00:00"):
        crawler.signals.send_catch_log(scrapy.signals.item_scraped, response=response, spider=None,
                                       item={"published": published, "crawled_at": "2025-03-01T12:00:00+00:00"})

    text = _get(f"http://127.0.0.1:{exporter.port}/metrics")[2].decode()
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples}
    news = ("spider", "news")
    assert samples[("crawler_capture_delay_seconds_count", (news,))] == 1
    assert samples[("crawler_capture_delay_seconds_sum", (news,))] == 120
    assert samples[("crawler_capture_delay_seconds_bucket", (("le", "60.0"), news))] == 0
    assert samples[("crawler_capture_delay_seconds_bucket", (("le", "120.0"), news))] == 1
    assert samples[("crawler_capture_delay_skipped_total", (("reason", "no_time"), news))] == 1
    assert samples[("crawler_capture_lag_threshold_seconds", (news,))] == 900
    assert {kind: samples[("crawler_hubs", (("kind", kind), news))]
            for kind in ("home", "front", "feed", "sitemap", "news-sitemap")} == {
        "home": 1, "front": 1, "feed": 1, "sitemap": 0, "news-sitemap": 0}
    assert [samples[(name, (news,))] for name in (
        "crawler_hubs_retired", "crawler_revisits_due", "crawler_revisits_overdue")] == [1, 2, 1]
