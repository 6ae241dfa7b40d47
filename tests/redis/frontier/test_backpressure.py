"""Backpressure and a full Redis (issue 12), on the session's real redis-server: workers stop
leasing while articles wait to be delivered or Redis is nearly full, say so, resume when it
drains; and a request whose articles Redis refused for lack of memory (OOM) costs no attempt
and never becomes a dead letter.

``maxmemory`` is set on the session's server for a test and always set back to 0.
"""

from __future__ import annotations

import logging

import pytest
import redis
import scrapy
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.base.keys import Keys
from crawler.frontier import Scheduler
from crawler.frontier.backpressure import Backpressure
from crawler.frontier.config import FrontierConfig
from crawler.frontier.core import Frontier
from crawler.store.dedupe import ArticleStore
from crawler.store.delivery import undelivered_backlog
from tests.support.engine import stand_in_engine

KEYS = Keys("news")


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def maxmemory(r):
    """Sets the server's maxmemory (bytes) for one test; back to none afterwards."""
    def set_to(value: int) -> None:
        r.config_set("maxmemory", value)
    yield set_to
    r.config_set("maxmemory", 0)


def _articles(r, n: int) -> list[str]:
    return [r.xadd(KEYS.articles, {"article": "{}"}) for _ in range(n)]


def _deliver(r, group: str, count: int) -> None:
    """What a consumer group does: read ``count`` entries and acknowledge them."""
    entries = r.xreadgroup(group, "c1", {KEYS.articles: ">"}, count=count)
    r.xack(KEYS.articles, group, *[entry_id for entry_id, _ in entries[0][1]])


def test_undelivered_backlog(r):
    assert undelivered_backlog(r, KEYS) == 0  # no stream
    _articles(r, 5)
    assert undelivered_backlog(r, KEYS) == 5  # no group: nothing is delivered
    r.xgroup_create(KEYS.articles, "files", id="0")
    r.xgroup_create(KEYS.articles, "postgres", id="0")
    _deliver(r, "files", 3)
    r.xreadgroup("postgres", "c1", {KEYS.articles: ">"}, count=1)  # read, not acknowledged
    assert undelivered_backlog(r, KEYS) == 5  # postgres: 4 unread + 1 pending
    _deliver(r, "postgres", 4)
    r.xack(KEYS.articles, "postgres", *[i for i, _ in r.xrange(KEYS.articles)])
    assert undelivered_backlog(r, KEYS) == 2  # files is now the furthest behind


def test_the_backlog_pauses_the_crawl_until_it_drains(r, caplog):
    clock = _Clock()
    backpressure = Backpressure(r, KEYS, backlog_max=10, memory_high=0.8, clock=clock)
    frontier = Frontier(r, KEYS)
    _articles(r, 10)
    assert backpressure.paused() is None
    assert frontier.counts().paused == ""
    _articles(r, 1)
    assert backpressure.paused() is None  # read at most once a second
    clock.now += 1
    with caplog.at_level(logging.INFO, logger="crawler.frontier.backpressure"):
        assert backpressure.paused() == "backlog"
        counts = frontier.counts()
        assert (counts.paused, counts.paused_detail) == (
            "backlog", "11 articles not yet delivered, above DELIVER_BACKLOG_MAX (10)")
        assert 0 < r.ttl(KEYS.paused) <= 30
        r.xgroup_create(KEYS.articles, "files", id="0")
        _deliver(r, "files", 1)  # 10 left: not above the limit, above 90% of it: still paused
        clock.now += 1
        assert backpressure.paused() == "backlog"
        _deliver(r, "files", 2)  # 8 left
        clock.now += 1
        assert backpressure.paused() is None
    assert r.exists(KEYS.paused) == 0
    assert frontier.counts().paused == ""
    assert [record.getMessage() for record in caplog.records] == [
        "Crawl paused, leasing no new requests: 11 articles not yet delivered, above "
        "DELIVER_BACKLOG_MAX (10)",
        "Crawl resumed: backlog is back below its limit",
    ]


def test_no_backlog_limit_when_it_is_0(r):
    _articles(r, 50)
    assert Backpressure(r, KEYS, backlog_max=0, memory_high=0.8).paused() is None


def test_memory_above_the_watermark_pauses_the_crawl(r, maxmemory):
    clock = _Clock()
    backpressure = Backpressure(r, KEYS, backlog_max=0, memory_high=0.8, clock=clock)
    assert backpressure.paused() is None  # no maxmemory: no memory rule
    used = r.info("memory")["used_memory"]
    maxmemory(int(used / 0.85))
    clock.now += 1
    assert backpressure.paused() == "memory"
    assert Frontier(r, KEYS).counts().paused == "memory"
    maxmemory(int(used / 0.78))  # below 80%, not yet below 75%: still paused
    clock.now += 1
    assert backpressure.paused() == "memory"
    maxmemory(int(used / 0.6))
    clock.now += 1
    assert backpressure.paused() is None


def test_config_reads_the_settings():
    config = FrontierConfig()
    assert (config.backlog_max, config.memory_high_watermark) == (100_000, 0.8)
    with pytest.raises(ValueError, match="DELIVER_BACKLOG_MAX must be 0"):
        FrontierConfig(backlog_max=-1)
    for wrong in (0, 1.5, -0.2):
        with pytest.raises(ValueError, match="REDIS_MEMORY_HIGH_WATERMARK must be a share"):
            FrontierConfig(memory_high_watermark=wrong)


# --- the scheduler ----------------------------------------------------------------


class _Spider(scrapy.Spider):
    name = "news"


@pytest.fixture
def opened(redis_url):
    crawler = get_crawler(_Spider, settings_dict={
        "REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0, "DELIVER_BACKLOG_MAX": 2,
        "FRONTIER_MAX_ATTEMPTS": 1})
    crawler.engine = stand_in_engine()
    scheduler = Scheduler.from_crawler(crawler)
    spider = crawler._create_spider()
    crawler.spider = spider
    scheduler.open(spider)
    scheduler.backpressure.clock = _Clock()
    yield crawler, scheduler
    if scheduler._maintenance is not None and scheduler._maintenance.running:
        scheduler._maintenance.stop()


def test_a_paused_scheduler_leases_nothing(opened, r):
    crawler, scheduler = opened
    for n in range(3):
        scheduler.enqueue_request(Request(f"https://a.example/{n}"))
    _articles(r, 3)  # 3 undelivered articles, above DELIVER_BACKLOG_MAX=2
    assert scheduler.next_request() is None
    assert (r.zcard(KEYS.inflight), r.get(KEYS.queued)) == (0, "3")
    assert scheduler.has_pending_requests()  # the engine keeps asking
    r.xgroup_create(KEYS.articles, "files", id="0")
    _deliver(r, "files", 3)
    scheduler.backpressure.clock.now += 1
    assert scheduler.next_request().url == "https://a.example/0"


def _response(request: Request) -> HtmlResponse:
    return HtmlResponse(request.url, body=b"<html></html>", request=request)


def test_a_request_whose_articles_redis_refused_is_given_back_without_an_attempt(opened, r, maxmemory):
    """Redis full (noeviction): the store fails with OOM. With FRONTIER_MAX_ATTEMPTS=1 a
    counted attempt would make the request a dead letter at once: it must not."""
    crawler, scheduler = opened
    scheduler.enqueue_request(Request("https://a.example/story"))
    request = scheduler.next_request()
    crawler.engine._slot.inprogress.add(request)
    maxmemory(1)
    store = ArticleStore(r, KEYS)
    item = {"canonical_url": request.url, "content_hash": "h", "simhash": "0" * 16, "body": "a story"}
    with pytest.raises(redis.exceptions.OutOfMemoryError) as refused:
        store.store(item)
    scheduler.item_error(item, _response(request), Failure(refused.value))
    assert scheduler.backpressure.reason == "memory"  # and leasing pauses at once
    # While Redis is full the worker still renews its lease...
    deadline = r.zscore(KEYS.inflight, scheduler.queue.held[request])
    scheduler.frontier.renew(scheduler.worker_id, [scheduler.queue.held[request]], 300)
    assert r.zscore(KEYS.inflight, scheduler.queue.held[request]) > deadline
    # ...and once the engine is done with it, gives it back: no attempt, no dead letter.
    crawler.engine._slot.inprogress.discard(request)
    scheduler._ack_finished()
    maxmemory(0)
    assert r.hgetall(KEYS.attempts) == {}
    assert r.llen(KEYS.deadletter) == 0
    assert (r.zcard(KEYS.inflight), r.get(KEYS.queued)) == (0, "1")
    assert crawler.stats.get_value("frontier/given_back") == 1
    assert not r.hgetall(KEYS.stats).get("dead_letters")
    scheduler.backpressure.clock.now += 1
    assert scheduler.next_request().url == "https://a.example/story"  # fetched again


def test_the_heartbeat_and_lease_renewals_run_when_redis_is_full(opened, r, maxmemory):
    crawler, scheduler = opened
    scheduler.enqueue_request(Request("https://a.example/1"))
    request = scheduler.next_request()
    crawler.engine._slot.inprogress.add(request)
    payload = scheduler.queue.held[request]
    r.zadd(KEYS.inflight, {payload: 1})  # an old deadline
    scheduler.enqueue_request(Request("https://a.example/2"))  # a link waiting to be pushed
    maxmemory(1)
    scheduler.maintain()  # the push is refused...
    maxmemory(0)
    assert r.zscore(KEYS.inflight, payload) > 1000  # ...the lease renewed all the same, not reaped
    assert r.hgetall(KEYS.attempts) == {} and r.llen(KEYS.deadletter) == 0
    assert scheduler.backpressure.reason == "memory"
    assert crawler.stats.get_value("frontier/redis_errors") == 1
    assert scheduler.queue.pending == 1  # the link is kept for the next push
