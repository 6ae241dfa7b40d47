"""The hub metrics of a worker: the gauges from a stand-in hub count, and the
capture delay of stored articles."""

from __future__ import annotations

import pytest
import redis
from prometheus_client import CollectorRegistry

from crawler.frontier.core import FrontierCounts
from crawler.frontier.hubstats import HubCounts
from crawler.metrics import CrawlCollector
from crawler.metrics.capture import CaptureDelays
from crawler.store.freshness import capture_delay
from tests.support.metrics import crawler_samples, metrics_crawler

NEWS = ("spider", "news")


class _Frontier:
    def counts(self, worker_timeout: float = 30.0, top: int = 10) -> FrontierCounts:
        return FrontierCounts(queued=0, in_flight=0, seen=0, articles=0, dead_letters=0,
                              workers_alive=1, stats={}, top_hosts=[])


def _hub_samples(hubs) -> dict:
    registry = CollectorRegistry()
    registry.register(CrawlCollector(metrics_crawler().stats, _Frontier(), "news", hubs=hubs))
    return {key: value for key, value in crawler_samples(registry).items()
            if key[0].startswith(("crawler_hubs", "crawler_revisits", "crawler_redis_up"))
            and not key[0].startswith("crawler_hubs_discovered")}


def test_hubs_by_kind_retired_and_revisits_due_and_overdue():
    counts = HubCounts(by_kind={"home": 2, "front": 7, "feed": 3, "sitemap": 1, "news-sitemap": 0},
                       retired=4, due=5, overdue=1)
    assert _hub_samples(lambda: counts) == {
        ("crawler_redis_up", (NEWS,)): 1,
        **{("crawler_hubs", (("kind", kind), NEWS)): value for kind, value in
           (("home", 2), ("front", 7), ("feed", 3), ("sitemap", 1), ("news-sitemap", 0))},
        ("crawler_hubs_retired", (NEWS,)): 4,
        ("crawler_revisits_due", (NEWS,)): 5,
        ("crawler_revisits_overdue", (NEWS,)): 1,
    }


def test_no_hub_gauges_when_redis_does_not_answer_or_no_reader():
    def down():
        raise redis.ConnectionError("gone")

    assert _hub_samples(down) == {("crawler_redis_up", (NEWS,)): 0}
    assert _hub_samples(None) == {("crawler_redis_up", (NEWS,)): 1}


@pytest.mark.parametrize("published, crawled_at, delay", [
    ("2025-03-01T10:00:00+00:00", "2025-03-01T10:02:30+00:00", 150.0),
    ("2025-03-01T11:00:00+01:00", "2025-03-01T10:00:45+00:00", 45.0),   # zones differ
    ("2025-03-01T09:59:00+00:00", "2025-03-01T10:00:00+00:00", 60.0),
    ("2025-03-01T10:05:00+00:00", "2025-03-01T10:00:00+00:00", -300.0),  # published later
    ("2025-03-01T00:00:00+00:00", "2025-03-01T10:00:00+00:00", None),    # a date alone
    ("2025-03-01T00:00:00+02:00", "2025-03-01T10:00:00+00:00", 43200.0),  # midnight elsewhere: a time
    (None, "2025-03-01T10:00:00+00:00", None),
    ("2025-03-01T10:00:00", "2025-03-01T10:00:00+00:00", None),          # no zone: not as written
    ("yesterday", "2025-03-01T10:00:00+00:00", None),
    ("2025-03-01T10:00:00+00:00", None, None),
])
def test_capture_delay(published, crawled_at, delay):
    assert capture_delay({"published": published, "crawled_at": crawled_at}) == delay


def _article(published, crawled_at="2025-03-01T12:00:00+00:00") -> dict:
    return {"url": "https://s.example/a", "published": published, "crawled_at": crawled_at}


def test_each_stored_article_is_observed_once_or_counted_with_its_reason():
    registry = CollectorRegistry()
    captures = CaptureDelays(registry, "news", buckets=(60.0, 3600.0, 172800.0))
    reasons = [captures.observe(article) for article in (
        _article("2025-03-01T11:59:30+00:00"),   # 30 s
        _article("2025-03-01T11:00:00+00:00"),   # 1 h: in the 3600 bucket (le)
        _article("2025-03-01T09:00:00+00:00"),   # 3 h
        _article("2025-02-27T12:00:00+00:00"),   # exactly 2 days: still news
        _article("2025-02-27T11:59:59+00:00"),   # older: the archive
        _article("2025-03-01T00:00:00+00:00"),   # a date alone
        _article(None),
        _article("2025-03-01T12:00:01+00:00"),   # a second in the future
        "not an article",
    )]
    assert reasons == [None, None, None, None, "archive", "no_time", "no_time", "future", "no_time"]
    samples = {(name, dict(labels).get("le") or dict(labels).get("reason")): value
               for (name, labels), value in crawler_samples(registry).items()}
    assert samples == {
        ("crawler_capture_delay_seconds_bucket", "60.0"): 1,
        ("crawler_capture_delay_seconds_bucket", "3600.0"): 2,
        ("crawler_capture_delay_seconds_bucket", "172800.0"): 4,
        ("crawler_capture_delay_seconds_bucket", "+Inf"): 4,
        ("crawler_capture_delay_seconds_count", None): 4,
        ("crawler_capture_delay_seconds_sum", None): 30 + 3600 + 3 * 3600 + 172800,
        ("crawler_capture_delay_skipped_total", "no_time"): 3,
        ("crawler_capture_delay_skipped_total", "future"): 1,
        ("crawler_capture_delay_skipped_total", "archive"): 1,
    }
