"""Hubs on a real redis-server: registration, the shared schedule (HUBS_DUE), recorded visits."""

from __future__ import annotations

import json
import threading

import pytest
import redis
from scrapy.utils.test import get_crawler

from crawler.base.counters import HUB_KINDS
from crawler.base.keys import Keys
from crawler.frontier import Scheduler
from crawler.frontier.codec import decode_request
from crawler.frontier.config import FrontierConfig
from crawler.frontier.core import Frontier
from crawler.frontier.hubs import HUB_MAX_BYTES, HUB_PRIORITY, SITEMAP_MAX_BYTES, HubRegistry, hub_payload, requeue_after
from crawler.frontier.hubstats import hub_kinds
from tests.support.engine import stand_in_engine
from tests.support.spiders import CallbackSpider

KEYS = Keys("news")
CONFIG = FrontierConfig(host_delay=0.0, revisit_min=300.0, revisit_max=86400.0, hub_max_failures=3)
FEED = "http://news.example/feed.xml"


SPIDER = CallbackSpider()


@pytest.fixture
def hubs(r):
    return HubRegistry(r, KEYS, CONFIG)


def _within(value, low, high):
    return low <= value <= high


def test_a_hub_is_registered_once_and_due_at_once(hubs, r):
    assert hubs.add(FEED, "feed") is True
    assert hubs.add(FEED, "front") is False  # registering a hub that exists changes nothing
    hub = hubs.get(FEED)
    assert (hub.url, hub.site, hub.kind, hub.interval, hub.visits, hub.failures, hub.retired_at) == (
        FEED, "news.example", "feed", 300.0, 0, 0, None)
    assert hub.next_due <= hubs.now()
    request = decode_request(hubs.request(FEED), SPIDER)
    assert (request.url, request.priority, request.dont_filter) == (FEED, HUB_PRIORITY, True)
    assert request.callback == SPIDER.parse and request.errback == SPIDER.on_error
    assert request.meta == {"hub": "feed", "handle_httpstatus_list": [304], "download_maxsize": HUB_MAX_BYTES}
    assert not request.headers
    assert hubs.add_many([(FEED, "feed"), ("http://news.example/sitemap.xml", "sitemap"),
                          ("http://news.example/world/", "front")]) == 2
    assert [(h.url, h.kind, h.interval) for h in hubs.all()] == [
        (FEED, "feed", 300.0), ("http://news.example/world/", "front", 1200.0),
        ("http://news.example/sitemap.xml", "sitemap", 1200.0)]
    with pytest.raises(ValueError, match="not a hub kind: 'blog'"):
        hubs.add("http://news.example/blog", "blog")
    with pytest.raises(ValueError, match="not a hub kind: 'blog'"):
        hubs.add_many([("http://news.example/blog", "blog")])
    # URLs found on the web that cannot be hubs are skipped, the others registered
    assert hubs.add_many([("javascript:alert(1)", "feed"), ("http://news.example/" + "a" * 3000, "feed"),
                          ("http://news.example/rss", "feed")]) == 1


def test_a_due_hub_is_queued_once_by_concurrent_workers(redis_url, hubs, r):
    urls = [f"http://site{n % 4}.example/feed{n}.xml" for n in range(40)]
    hubs.add_many((url, "feed") for url in urls)
    barrier = threading.Barrier(8)
    released = []

    def worker():
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        registry = HubRegistry(client, KEYS, CONFIG)  # each worker its own client and registry
        barrier.wait()
        for _ in range(5):
            released.append(registry.release_due(limit=7))
        client.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(released) == 40
    queued = [json.loads(item)["url"] for n in range(4) for item in r.zrange(KEYS.host_queue(f"site{n}.example"), 0, -1)]
    assert sorted(queued) == sorted(urls)
    assert int(r.get(KEYS.queued)) == 40 and r.zcard(KEYS.hubs_queued) == 40
    assert hubs.release_due() == 0  # still queued: not again
    assert hubs.counts().queued == 40 and hubs.counts().due == 40


def test_a_recorded_visit_moves_the_due_time_by_the_rule_and_sends_the_validators(hubs, r):
    frontier = Frontier(r, KEYS, config=CONFIG)
    hubs.add(FEED, "feed")
    assert hubs.release_due() == 1
    lease = frontier.lease("w1", 60, 8)
    assert lease.payloads == [hubs.request(FEED)]
    frontier.ack("w1", lease.payloads)

    before = hubs.now()
    hub = hubs.record_visit(FEED, result="unchanged", etag='"v1"', last_modified="Tue, 05 May 2026 10:00:00 GMT",
                            content_hash="abc")
    after = hubs.now()
    assert (hub.interval, hub.visits, hub.failures, hub.last_result, hub.new_links) == (450.0, 1, 0, "unchanged", 0)
    assert hub.last_change is None and _within(hub.last_visit, before, after)
    due = r.zscore(KEYS.hubs_due, FEED)
    assert _within(due, before + 450 * 0.9, after + 450 * 1.1) and due == hub.next_due
    assert r.zcard(KEYS.hubs_queued) == 0
    assert hubs.release_due() == 0  # not due yet
    request = decode_request(hubs.request(FEED), SPIDER)
    assert request.headers.get("If-None-Match") == b'"v1"'
    assert request.headers.get("If-Modified-Since") == b"Tue, 05 May 2026 10:00:00 GMT"

    # A 304 names no validators: the stored ones stay; a change halves the interval.
    hub = hubs.record_visit(FEED, result="not_modified")
    assert (hub.interval, hub.etag, hub.content_hash) == (675.0, '"v1"', "abc")
    before = hubs.now()
    hub = hubs.record_visit(FEED, result="changed", new_links=7, content_hash="def")
    assert (hub.interval, hub.new_links, hub.total_new_links, hub.visits) == (337.5, 7, 7, 3)
    assert hub.last_change >= before and hub.etag is None  # a 200 without validators drops them
    assert not decode_request(hubs.request(FEED), SPIDER).headers
    assert _within(r.zscore(KEYS.hubs_due, FEED), before + 337.5 * 0.9, hubs.now() + 337.5 * 1.1)
    assert hubs.record_visit("http://news.example/unknown", result="changed") is None
    with pytest.raises(ValueError, match="not a hub visit result"):
        hubs.record_visit(FEED, result="fine")


def test_failures_back_off_then_retire_and_sources_add_reactivates(hubs, r):
    hubs.add(FEED, "feed")
    for failures in (1, 2):
        before = hubs.now()
        hub = hubs.record_visit(FEED, result="error")
        delay = 300.0 * 2 ** failures
        assert hub.failures == failures and hub.interval == 300.0
        assert _within(r.zscore(KEYS.hubs_due, FEED), before + delay * 0.9, hubs.now() + delay * 1.1)
    hub = hubs.record_visit(FEED, result="error")  # FRONTIER_HUB_MAX_FAILURES = 3
    assert hub.failures == 3 and hub.retired_at is not None and hub.next_due is None
    assert r.zscore(KEYS.hubs_due, FEED) is None
    assert [h.retired for h in hubs.all()] == [True]
    counts = hubs.counts()
    assert (counts.retired, counts.active, counts.by_kind["feed"]) == (1, 0, 0)
    assert hubs.add(FEED, "feed") is False  # registering again does not bring it back
    assert hubs.add(FEED, "feed", reactivate=True) is True
    hub = hubs.get(FEED)
    assert (hub.failures, hub.retired_at) == (0, None) and hub.next_due <= hubs.now()
    # A success resets the failures.
    hubs.record_visit(FEED, result="error")
    assert hubs.record_visit(FEED, result="unchanged").failures == 0


def test_a_lost_visit_is_queued_again_after_the_timeout(hubs, r):
    hubs.add(FEED, "feed")
    assert hubs.release_due() == 1
    now = hubs.now()
    timeout = requeue_after(CONFIG)
    assert timeout == 600.0
    assert _within(r.zscore(KEYS.hubs_due, FEED), now, now + timeout + 1)  # moved out of the window
    r.zadd(KEYS.hubs_due, {FEED: now - 1})
    assert hubs.release_due() == 0  # queued 1 s ago: its visit is not lost
    r.zadd(KEYS.hubs_queued, {FEED: now - timeout - 1})
    r.zadd(KEYS.hubs_due, {FEED: now - 1})
    assert hubs.release_due() == 1
    assert r.zscore(KEYS.hubs_queued, FEED) >= now


def test_counts_by_kind_due_overdue_queued(hubs, r):
    hubs.add("http://a.example/", "home")
    hubs.add("http://a.example/feed", "feed")
    hubs.add("http://a.example/world/", "front", delay=1000)
    hubs.add("http://b.example/news.xml", "news-sitemap")
    now = hubs.now()
    r.zadd(KEYS.hubs_due, {"http://a.example/feed": now - 301})  # overdue (FRONTIER_REVISIT_OVERDUE 300)
    counts = hubs.counts()
    assert counts.by_kind == {"home": 1, "front": 1, "feed": 1, "sitemap": 0, "news-sitemap": 1}
    assert (counts.due, counts.overdue, counts.queued, counts.retired) == (3, 1, 0, 0)
    assert _within(counts.next_due, now + 990, now + 1010)
    assert hubs.remove("http://a.example/world/") is True and hubs.remove("http://a.example/world/") is False
    assert r.hget(KEYS.hub_requests, "http://a.example/world/") is None
    assert hubs.counts().as_dict()["next_due_in"] is None


def test_hub_payload_drops_validators_unfit_for_a_header():
    payload = json.loads(hub_payload(FEED, "news-sitemap", etag='"a"\r\nX-Injected: 1',
                                     last_modified="x" * 600))
    assert payload["headers"] == {}
    assert payload["meta"]["download_maxsize"] == SITEMAP_MAX_BYTES
    assert json.loads(hub_payload(FEED, "feed", etag='W/"1"'))["headers"] == {"If-None-Match": ['W/"1"']}


@pytest.fixture
def scheduler(redis_url):
    crawler = get_crawler(CallbackSpider, settings_dict={"REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0})
    crawler.engine = stand_in_engine()
    scheduler = Scheduler.from_crawler(crawler)
    crawler.spider = crawler._create_spider()
    scheduler.open(crawler.spider)
    yield scheduler
    if scheduler._maintenance.running:
        scheduler._maintenance.stop()
    scheduler.close("finished")


def test_the_scheduler_heartbeat_releases_due_hubs_and_hubs_not_due_are_no_pending_work(scheduler, r):
    hubs = HubRegistry.for_frontier(scheduler.frontier)
    hubs.add("http://news.example/later.xml", "feed", delay=3600)
    assert scheduler.next_request() is None
    assert not scheduler.has_pending_requests()  # a hub not yet due is not queued work
    hubs.add(FEED, "feed")
    scheduler.maintain()
    assert scheduler.has_pending_requests()
    request = scheduler.next_request()
    assert request.url == FEED and request.meta["hub"] == "feed"
    assert r.zcard(KEYS.hubs_queued) == 1


def test_automatic_registration_caps_section_fronts_per_site(r):
    hubs = HubRegistry(r, KEYS, FrontierConfig(max_fronts_per_site=3))
    assert hubs.add_many([(f"http://a.example/s{n}/", "front") for n in range(2)]) == 2
    assert hubs.add_many([*((f"http://a.example/t{n}/", "front") for n in range(3)),
                          ("http://a.example/feed", "feed"), ("http://b.example/s/", "front")]) == 3
    assert sorted(h.url for h in hubs.all() if h.kind == "front" and h.site == "a.example") == [
        "http://a.example/s0/", "http://a.example/s1/", "http://a.example/t0/"]
    assert hubs.add("http://a.example/by-hand/", "front") is True  # crawler sources add is not capped
    assert r.hgetall(KEYS.hub_fronts) == {"a.example": "4", "b.example": "1"}


def test_the_front_cap_holds_for_workers_registering_at_once(redis_url, r):
    barrier = threading.Barrier(8)
    added = []

    def worker(n):
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        registry = HubRegistry(client, KEYS, FrontierConfig(max_fronts_per_site=5))
        barrier.wait()
        for batch in range(4):  # each worker finds other sections of the same site
            added.append(registry.add_many([(f"http://a.example/w{n}/b{batch}/s{k}/", "front") for k in range(2)]))
        client.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(added) == 5
    assert sum(1 for raw in r.hvals(KEYS.hubs) if json.loads(raw)["kind"] == "front") == 5
    assert r.hget(KEYS.hub_fronts, "a.example") == "5"


def test_a_front_removed_or_no_longer_a_front_frees_its_place(r):
    hubs = HubRegistry(r, KEYS, FrontierConfig(max_fronts_per_site=2))
    assert hubs.add_many([("http://a.example/s0/", "front"), ("http://a.example/s1/", "front")]) == 2
    assert hubs.add_many([("http://a.example/s2/", "front")]) == 0  # full
    assert hubs.remove("http://a.example/s0/") is True
    assert hubs.remove("http://a.example/s0/") is False  # counted down once
    assert hubs.add_many([("http://a.example/s2/", "front"), ("http://a.example/s3/", "front")]) == 1
    # A visit that finds a feed where a front was: no longer a front of the site.
    hubs.record_visit("http://a.example/s1/", result="changed", kind="feed")
    assert r.hget(KEYS.hub_fronts, "a.example") == "1"
    assert hubs.add_many([("http://a.example/s3/", "front")]) == 1
    assert sorted(h.url for h in hubs.all() if h.kind == "front") == ["http://a.example/s2/", "http://a.example/s3/"]


def test_a_crawl_begun_before_the_counts_is_counted_once_by_the_first_write(r):
    hubs = HubRegistry(r, KEYS, FrontierConfig(max_fronts_per_site=3))
    hubs.add_many([("http://a.example/s0/", "front"), ("http://a.example/s1/", "front"),
                   ("http://b.example/s0/", "front"), ("http://a.example/feed", "feed")])
    r.delete(KEYS.hub_kinds, KEYS.hub_fronts)  # as an older version left the crawl
    r.hset(KEYS.hubs, "http://junk.example/", "not json")  # counted nowhere
    assert hub_kinds(r, KEYS) == ({**dict.fromkeys(HUB_KINDS, 0), "front": 3, "feed": 1}, 0)  # by a scan
    assert hubs.add_many([(f"http://a.example/t{n}/", "front") for n in range(3)]) == 1
    assert r.hgetall(KEYS.hub_fronts) == {"a.example": "3", "b.example": "1"}
    assert r.hgetall(KEYS.hub_kinds) == {"front": "4", "feed": "1", "retired": "0"}


def test_the_kind_counts_follow_every_write(r):
    hubs = HubRegistry(r, KEYS, FrontierConfig(hub_max_failures=1))
    hubs.add_many([("http://a.example/feed", "feed"), ("http://a.example/", "home"),
                   ("http://a.example/s/", "front")])
    hubs.add("http://a.example/sitemap.xml", "sitemap")
    assert hub_kinds(r, KEYS) == ({**dict.fromkeys(HUB_KINDS, 0), "feed": 1, "home": 1, "front": 1, "sitemap": 1}, 0)
    hubs.record_visit("http://a.example/feed", result="error")  # retired after one failure
    hubs.record_visit("http://a.example/s/", result="changed", kind="feed")  # a feed after all
    assert hub_kinds(r, KEYS) == ({**dict.fromkeys(HUB_KINDS, 0), "feed": 1, "home": 1, "sitemap": 1}, 1)
    assert hubs.add("http://a.example/feed", "feed", reactivate=True) is True
    assert hubs.remove("http://a.example/") is True
    assert hub_kinds(r, KEYS) == ({**dict.fromkeys(HUB_KINDS, 0), "feed": 2, "sitemap": 1}, 0)
    # The counts agree with a scan of every state.
    r.delete(KEYS.hub_kinds)
    assert hub_kinds(r, KEYS) == ({**dict.fromkeys(HUB_KINDS, 0), "feed": 2, "sitemap": 1}, 0)


def test_no_automatic_fronts_with_a_cap_of_zero(r):
    hubs = HubRegistry(r, KEYS, FrontierConfig(max_fronts_per_site=0))
    assert hubs.add_many([("http://a.example/s0/", "front"), ("http://a.example/feed", "feed")]) == 1
    assert [h.kind for h in hubs.all()] == ["feed"]
    assert hubs.add("http://a.example/by-hand/", "front") is True  # an operator's own choice
