"""The scheduler on a real redis-server: its one frontier, and acknowledgement by the engine."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import scrapy
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.base.keys import Keys
from crawler.frontier import Scheduler
from crawler.frontier.core import Frontier
from crawler.frontier.scheduler import EngineIncompatible
from tests.support.engine import stand_in_engine

KEYS = Keys("news")


class _Spider(scrapy.Spider):
    name = "news"


@pytest.fixture
def opened(redis_url):
    """A scheduler of a crawler with nothing set but REDIS_URL and no host delay, opened on a
    stand-in engine."""
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0})
    crawler.engine = stand_in_engine()
    scheduler = Scheduler.from_crawler(crawler)
    spider = crawler._create_spider()
    crawler.spider = spider
    scheduler.open(spider)
    yield crawler, scheduler
    if scheduler._maintenance is not None and scheduler._maintenance.running:
        scheduler._maintenance.stop()


def test_one_frontier_per_crawler_built_from_its_settings(redis_url):
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0.25})
    frontier = Frontier.for_crawler(crawler)
    scheduler = Scheduler.from_crawler(crawler)
    assert scheduler.frontier is frontier is Frontier.for_crawler(crawler)
    assert scheduler.server is frontier.client
    assert frontier.host_delay == 0.25 and frontier.config.host_delay == 0.25
    assert frontier.keys == KEYS


def test_open_refuses_an_engine_without_in_progress_requests(redis_url):
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url})
    crawler.engine = SimpleNamespace(_slot=None)
    scheduler = Scheduler.from_crawler(crawler)
    with pytest.raises(EngineIncompatible):
        scheduler.open(crawler._create_spider())


def test_requests_are_acknowledged_only_once_the_engine_is_done_with_them(opened, r):
    crawler, scheduler = opened
    scheduler.enqueue_request(Request("https://a.example/1"))
    request = scheduler.next_request()
    assert request is not None and request.url == "https://a.example/1"
    assert r.zcard(KEYS.inflight) == 1

    crawler.engine._slot.inprogress.add(request)
    scheduler._ack_finished()
    assert r.zcard(KEYS.inflight) == 1  # still in the engine: held

    slot = crawler.engine._slot
    crawler.engine._slot = None  # an engine whose in-progress set cannot be read
    with pytest.raises(EngineIncompatible):
        scheduler._ack_finished()
    assert r.zcard(KEYS.inflight) == 1 and request in scheduler.queue.held  # never acknowledged blindly

    crawler.engine._slot = slot
    slot.inprogress.discard(request)
    scheduler._ack_finished()
    assert r.zcard(KEYS.inflight) == 0 and not scheduler.queue.held


def test_a_lease_lost_in_a_stall_is_counted_logged_and_never_acknowledged(opened, r, caplog):
    crawler, scheduler = opened
    scheduler.enqueue_request(Request("https://a.example/1"))
    request = scheduler.next_request()
    crawler.engine._slot.inprogress.add(request)
    payload = scheduler.queue.held[request]
    # The worker stalls past its lease: the deadline passes, a live worker reaps it and leases it.
    r.zadd(KEYS.inflight, {payload: 0})
    frontier = scheduler.frontier
    assert frontier.reap(max_attempts=3) == [1, 0]
    assert frontier.lease("other-worker", 60).payloads == [payload]

    with caplog.at_level("WARNING", logger="crawler.frontier.scheduler"):
        scheduler.maintain()
    assert "Lost 1 leases" in caplog.text
    assert crawler.stats.get_value("frontier/leases_lost") == 1
    assert r.hget(KEYS.stats, "leases_lost") == "1"
    assert request not in scheduler.queue.held
    crawler.engine._slot.inprogress.discard(request)
    scheduler._ack_finished()  # the engine finished it: nothing of the other worker's is touched
    assert r.hget(KEYS.lease_owner, payload) == "other-worker"
    assert r.zscore(KEYS.inflight, payload) is not None
