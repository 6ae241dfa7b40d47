"""The scheduler's contract with Scrapy: its settings, its one frontier, and acknowledgement."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import scrapy
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.base.keys import Keys
from crawler.frontier import FrontierConfig, Scheduler, defaults
from crawler.frontier.core import Frontier
from crawler.frontier.scheduler import EngineIncompatible, engine_in_progress

KEYS = Keys("news")


class _Spider(scrapy.Spider):
    name = "news"


def _engine(in_progress: set | None = None):
    """What the scheduler reads of Scrapy's engine: its slot's in-progress set (and nextcall)."""
    slot = SimpleNamespace(inprogress=set() if in_progress is None else in_progress,
                           nextcall=SimpleNamespace(schedule=lambda: None))
    return SimpleNamespace(_slot=slot)


@pytest.fixture
def opened(redis_url):
    """A scheduler of a crawler with nothing set but REDIS_URL and no host delay, opened on a
    stand-in engine."""
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0})
    crawler.engine = _engine()
    scheduler = Scheduler.from_crawler(crawler)
    spider = crawler._create_spider()
    crawler.spider = spider
    scheduler.open(spider)
    yield crawler, scheduler
    if scheduler._maintenance is not None and scheduler._maintenance.running:
        scheduler._maintenance.stop()


def test_config_defaults_come_from_the_frontier_not_the_project():
    config = FrontierConfig.from_settings(get_crawler(_Spider, settings_dict={}).settings)
    assert config == FrontierConfig()
    assert (config.redis_url, config.heartbeat_seconds, config.lease_seconds, config.host_delay) == (
        defaults.REDIS_URL, defaults.FRONTIER_HEARTBEAT_SECONDS, defaults.FRONTIER_LEASE_SECONDS,
        defaults.FRONTIER_HOST_DELAY)


@pytest.mark.parametrize(("settings", "message"), [
    ({"FRONTIER_HEARTBEAT_SECONDS": 0}, "FRONTIER_HEARTBEAT_SECONDS must be positive"),
    ({"FRONTIER_LEASE_SECONDS": 3}, "at least twice FRONTIER_HEARTBEAT_SECONDS"),
    ({"FRONTIER_HOST_DELAY": -1}, "FRONTIER_HOST_DELAY must be 0 or more"),
    ({"FRONTIER_SEEN": "cuckoo"}, "FRONTIER_SEEN must be 'set' or 'bloom'"),
    ({"FRONTIER_LEASE_BATCH": "many"}, "FRONTIER_LEASE_BATCH must be a number, got 'many'"),
    ({"FRONTIER_UNTIL_IDLE": -5}, "FRONTIER_UNTIL_IDLE must be 0"),
    ({"REDIS_URL": ""}, "REDIS_URL is empty"),
])
def test_config_rejects_bad_values_naming_the_setting(settings, message):
    with pytest.raises(ValueError, match=message):
        FrontierConfig.from_settings(get_crawler(_Spider, settings_dict=settings).settings)


def test_one_frontier_per_crawler_built_from_its_settings(redis_url):
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0.25})
    frontier = Frontier.for_crawler(crawler)
    scheduler = Scheduler.from_crawler(crawler)
    assert scheduler.frontier is frontier is Frontier.for_crawler(crawler)
    assert scheduler.server is frontier.client
    assert frontier.host_delay == 0.25 and frontier.config.host_delay == 0.25
    assert frontier.keys == KEYS


def test_engine_in_progress_fails_loudly_naming_the_scrapy_version():
    with pytest.raises(EngineIncompatible, match=rf"Scrapy {scrapy.__version__}'s engine has no "
                                                 r"_slot.inprogress"):
        engine_in_progress(SimpleNamespace())
    with pytest.raises(EngineIncompatible):
        engine_in_progress(SimpleNamespace(_slot=SimpleNamespace()))
    in_progress = {Request("https://a.example/")}
    assert engine_in_progress(_engine(in_progress)) is in_progress


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
