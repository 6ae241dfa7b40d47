"""The delivery gauges of the worker's metrics: per consumer group, from a stand-in read."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from crawler.frontier.core import FrontierCounts
from crawler.metrics import CrawlCollector
from crawler.store.delivery import DeliveryStatus, GroupBacklog
from tests.support.metrics import crawler_samples, metrics_crawler


class _Frontier:
    def counts(self, worker_timeout: float = 30.0, top: int = 10) -> FrontierCounts:
        return FrontierCounts(queued=0, in_flight=0, seen=0, articles=9, dead_letters=0,
                              workers_alive=1, stats={}, top_hosts=[])


def _samples(delivery) -> dict:
    registry = CollectorRegistry()
    registry.register(CrawlCollector(metrics_crawler().stats, _Frontier(), "news", delivery=delivery))
    return {key: value for key, value in crawler_samples(registry).items()
            if key[0].startswith(("crawler_delivery", "crawler_delivered", "crawler_articles_in"))}


def test_each_group_has_its_backlog_oldest_age_and_delivered_count():
    status = DeliveryStatus(length=7, groups={
        "files": GroupBacklog("files", backlog=7, oldest_age_seconds=12.5, pending=2, consumers=1, delivered=3),
        "db": GroupBacklog("db", backlog=0, oldest_age_seconds=0.0, pending=0, consumers=2, delivered=10),
    })
    news = ("spider", "news")
    assert _samples(lambda: status) == {
        ("crawler_articles_in_stream", (news,)): 7,
        ("crawler_delivery_backlog", (("group", "db"), news)): 0,
        ("crawler_delivery_backlog", (("group", "files"), news)): 7,
        ("crawler_delivery_oldest_age_seconds", (("group", "db"), news)): 0,
        ("crawler_delivery_oldest_age_seconds", (("group", "files"), news)): 12.5,
        ("crawler_delivered_articles_total", (("group", "db"), news)): 10,
        ("crawler_delivered_articles_total", (("group", "files"), news)): 3,
    }


def test_without_a_group_only_the_stream_length():
    assert _samples(lambda: DeliveryStatus(length=4)) == {
        ("crawler_articles_in_stream", (("spider", "news"),)): 4}


def test_without_a_delivery_reader_nothing():
    assert _samples(None) == {}
