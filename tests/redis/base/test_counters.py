"""The heartbeat's counters and the metrics, read from one Redis, count the same errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from scrapy.utils.test import get_crawler

from crawler.base.counters import ERROR_FIELDS, REFUSAL_FIELDS
from crawler.base.keys import Keys
from crawler.frontier.core import Frontier
from crawler.metrics.collector import DOWNLOAD_ERROR_REASONS, CrawlCollector
from crawler.worker.heartbeat import crawl_counts

KEYS = Keys("news")


def test_the_metrics_count_the_errors_and_refusals_the_heartbeat_sends(r):
    stats = {
        "downloader/response_status_count/200": 40,
        "downloader/response_status_count/301": 1,
        "downloader/response_status_count/404": 3,
        "downloader/response_status_count/503": 2,
        "downloader/exception_type_count/twisted.internet.error.TimeoutError": 4,
        "downloader/exception_type_count/crawler.worker.netguard.RefusedAddress": 2,
        "downloader/exception_type_count/scrapy.exceptions.IgnoreRequest": 5,
        "downloader/exception_type_count/crawler.worker.netguard.RefusedScheme": 1,
        # Scrapy counts each spider exception twice: in the total and by class.
        "spider_exceptions/count": 3,
        "spider_exceptions/ValueError": 2,
        "spider_exceptions/KeyError": 1,
        "netguard/refused": 2,
        "robotstxt/forbidden": 5,
        "offsite/dropped": 7,
        "links/not_http": 4,
        "netguard/not_http": 1,
        "depth/request_ignored_count": 9,
    }
    sent = crawl_counts(stats)
    assert {field: sent[field] for field in (*ERROR_FIELDS, *REFUSAL_FIELDS)} == {
        "download_errors": 4, "http_errors": 5, "spider_errors": 3,
        "refused_private": 2, "refused_robots": 5, "offsite_dropped": 7, "refused_scheme": 5}

    crawler = get_crawler()
    for name, value in stats.items():
        crawler.stats.set_value(name, value)
    registry = CollectorRegistry()
    registry.register(CrawlCollector(crawler.stats, Frontier(r, KEYS), "news"))

    def metric(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, {"spider": "news", **labels})

    exported = {
        "download_errors": sum(metric("crawler_download_errors_total", reason=reason)
                               for reason in DOWNLOAD_ERROR_REASONS),
        "http_errors": sum(metric("crawler_responses_total", status_class=status_class)
                           for status_class in ("4xx", "5xx")),
        "spider_errors": metric("crawler_spider_errors_total"),
        "refused_private": metric("crawler_requests_refused_total", reason="private_network"),
        "refused_robots": metric("crawler_requests_refused_total", reason="robots"),
        "offsite_dropped": metric("crawler_requests_refused_total", reason="offsite"),
        "refused_scheme": metric("crawler_requests_refused_total", reason="scheme"),
    }
    assert exported == {field: sent[field] for field in exported}
