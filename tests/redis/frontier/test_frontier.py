"""The frontier against a real redis-server: leases, acks, reaping, the seen filter, corrupt data."""

from __future__ import annotations

import json
import pickle
import time

import pytest
from scrapy import Request

from crawler.frontier.codec import encode_request
from crawler.base.connection import connect
from crawler.frontier.core import Frontier, QueueEntry
from crawler.frontier.queue import LeasedQueue
from crawler.base.keys import Keys
from crawler.base.urls import fingerprint, url_host
from tests.support.spiders import CallbackSpider


def _entry(url: str, priority: int = 0) -> QueueEntry:
    request = Request(url, priority=priority)
    return QueueEntry(encode_request(request), fingerprint(request), priority, url_host(url))


@pytest.fixture
def frontier(redis_url):
    return Frontier(connect(redis_url), Keys("news"))


def _queued(r, frontier) -> int:
    return int(r.get(frontier.keys.queued) or 0)


def test_push_lease_ack(frontier, r):
    assert frontier.push_many([_entry("https://example.com/low"), _entry("https://example.com/high", 5)]) == [True, True]
    assert frontier.push(_entry("https://example.com/low")) is False
    assert r.zscore(frontier.keys.host_backlog, "example.com") == 2
    lease = frontier.lease("w1", 30)
    assert lease.wait == 0 and json.loads(lease.payloads[0])["url"] == "https://example.com/high"
    assert r.zcard(frontier.keys.inflight) == 1 and _queued(r, frontier) == 1
    assert r.hget(frontier.keys.lease_owner, lease.payloads[0]) == "w1"
    assert frontier.ack("w2", lease.payloads) == 0  # not its lease
    assert frontier.ack("w1", lease.payloads) == 1
    counts = frontier.counts()
    assert (counts.queued, counts.in_flight, counts.seen) == (1, 0, 2)
    assert counts.top_hosts == [("example.com", 1)]


def test_one_lease_per_ready_host_and_the_host_delay_is_shared(redis_url, r):
    frontier = Frontier(connect(redis_url), Keys("news"), host_delay=0.3)
    frontier.push_many([_entry(f"https://{host}.example.com/{n}") for host in "abc" for n in range(3)])
    first = frontier.lease("w1", 30, count=10)
    assert sorted(url_host(json.loads(p)["url"]) for p in first.payloads) == [
        "a.example.com", "b.example.com", "c.example.com"]
    # Every host is cooling down now, for every worker.
    other = Frontier(connect(redis_url), Keys("news"), host_delay=0.3).lease("w2", 30, count=10)
    assert other.payloads == [] and 0 < other.wait <= 0.3
    time.sleep(other.wait + 0.01)
    assert len(frontier.lease("w2", 30, count=10).payloads) == 3
    assert frontier.counts().queued == 3


def test_retry_after_pauses_a_host_for_every_worker(redis_url):
    frontier = Frontier(connect(redis_url), Keys("news"))
    frontier.push_many([_entry("https://slow.example.com/1"), _entry("https://slow.example.com/2"),
                        _entry("https://fast.example.com/1")])
    frontier.cool("slow.example.com", pause=60)
    lease = frontier.lease("w", 30, count=10)
    assert [json.loads(p)["url"] for p in lease.payloads] == ["https://fast.example.com/1"]
    assert frontier.lease("w", 30).wait > 59
    frontier.cool("slow.example.com", delay=5)  # a Crawl-delay applies from the next lease on
    assert frontier.client.hget(frontier.keys.host_delay, "slow.example.com") == "5"


def test_bloom_filter_sizes_and_dedupes(redis_url, r):
    from crawler.frontier.seen import SeenFilter

    bloom = SeenFilter.bloom(1_000_000, 0.001)
    assert bloom.bits / 8 / 1_000_000 < 2  # bytes per URL
    assert bloom.hashes == 10
    frontier = Frontier(connect(redis_url), Keys("news"), seen=bloom)
    bloom.check(frontier.client, frontier.keys)
    entries = [_entry(f"https://example.com/{n}") for n in range(2000)]
    assert frontier.push_many(entries) == [True] * 2000
    assert frontier.push_many(entries[:10]) == [False] * 10
    assert frontier.counts().seen == 2000 and not r.exists(frontier.keys.seen)
    with pytest.raises(ValueError, match="seen filter"):
        SeenFilter().check(frontier.client, frontier.keys)
    chunks = r.keys(frontier.keys.seen_bloom + ":*")
    assert len(chunks) == bloom.bits // bloom.chunk_bits == 55
    assert {r.strlen(chunk) for chunk in chunks} == {bloom.chunk_bits // 8}


def test_expired_leases_return_then_become_dead_letters(frontier, r):
    frontier.push(_entry("https://example.com/x"))
    for attempt in range(1, 3):
        assert len(frontier.lease("dead-worker", -1).payloads) == 1  # deadline already passed
        assert frontier.reap(max_attempts=3) == [1, 0]
        assert _queued(r, frontier) == 1
    assert len(frontier.lease("dead-worker", -1).payloads) == 1
    assert frontier.reap(max_attempts=3) == [0, 1]
    counts = frontier.counts()
    assert (counts.queued, counts.in_flight, counts.dead_letters) == (0, 0, 1)
    assert counts.stats == {"leases_expired": 3, "requests_retried": 2, "dead_letters": 1}
    reason = json.loads(r.lindex(frontier.keys.deadletter, 0))["reason"]
    assert reason == "lease expired 3 times"


def test_failed_requests_are_retried_then_set_aside(frontier, r):
    frontier.push(_entry("https://example.com/x"))
    payload = frontier.lease("w1", 30).payloads[0]
    assert frontier.retry("w2", [payload], max_attempts=2) == [0, 0]  # not w2's lease
    assert frontier.retry("w1", [payload], max_attempts=2) == [1, 0]
    assert (_queued(r, frontier), r.zcard(frontier.keys.inflight)) == (1, 0)
    payload = frontier.lease("w1", 30).payloads[0]
    assert frontier.retry("w1", [payload], max_attempts=2) == [0, 1]
    assert json.loads(r.lindex(frontier.keys.deadletter, 0))["reason"] == "processing failed 2 times"


def test_renew_keeps_live_leases_and_release_returns_them(frontier, r):
    frontier.push(_entry("https://example.com/x"))
    payload = frontier.lease("w1", 1).payloads[0]
    assert frontier.renew("w1", [payload], 60) == [1]
    assert frontier.renew("w2", [payload], 60) == [0, payload]  # not its lease: lost to w2
    assert r.hget(frontier.keys.stats, "leases_lost") == "1"
    assert r.zscore(frontier.keys.inflight, payload) > time.time() + 50
    assert frontier.reap(max_attempts=3) == [0, 0]
    assert frontier.release("w1", [payload]) == 1
    assert (_queued(r, frontier), r.zcard(frontier.keys.inflight)) == (1, 0)


def test_budget_limits_leases(frontier, r):
    frontier.push_many([_entry(f"https://h{i}.example.com/") for i in range(5)])
    r.set(frontier.keys.budget, 2)
    assert len(frontier.lease("w", 30, count=5).payloads) == 2
    assert frontier.lease("w", 30).payloads == []
    assert frontier.counts().budget_spent


def test_corrupt_and_pickled_entries_are_skipped_and_counted(frontier, r):
    spider = CallbackSpider()
    queue = LeasedQueue(frontier.client, spider, frontier.keys.queue_prefix, frontier=frontier,
                        worker_id="w", lease_seconds=30)
    # Written by hand into the queue of one host, as an attacker or a bug might.
    for junk in ("garbage{", pickle.dumps({"url": "x"}).decode("latin-1")):
        frontier.push(QueueEntry(junk, "", 10, "example.com"))
    queue.push(Request("https://example.com/good"), fingerprint)
    queue.push(Request("https://example.com/good#again"), fingerprint)
    assert queue.pending == 2 and frontier.counts().queued == 2
    assert queue.flush() == (1, 1)  # the second is the same page
    queue.push(Request("https://example.com/good#again"), fingerprint)
    assert (queue.pending, queue.skipped) == (0, 1)  # pushed by this worker before: no round trip
    requests = []
    while (request := queue.pop()) is not None:
        requests.append(request)
    assert [request.url for request in requests] == ["https://example.com/good"]
    assert r.llen(frontier.keys.deadletter) == 2
    assert frontier.counts().in_flight == 1
    queue.ack(requests)
    assert frontier.counts().in_flight == 0


def test_a_worker_skips_requests_it_pushed_without_fingerprinting_them_again(frontier):
    queue = LeasedQueue(frontier.client, CallbackSpider(), frontier.keys.queue_prefix, frontier=frontier,
                        worker_id="w", lease_seconds=30)
    computed = []

    def counting(request):
        computed.append(request.url)
        return fingerprint(request)

    for request in (Request("https://example.com/a"), Request("https://example.com/a", method="POST", body=b"1")):
        queue.push(request, counting)
    assert queue.flush() == (2, 0)
    queue.push(Request("https://example.com/a"), counting)  # the same URL, method and body: skipped
    queue.push(Request("https://example.com/a", method="POST", body=b"1"), counting)
    assert (queue.pending, queue.skipped, len(computed)) == (0, 2, 2)
    # Another body, or another spelling of a page already seen: fingerprinted, and Redis decides.
    queue.push(Request("https://example.com/a", method="POST", body=b"2"), counting)
    queue.push(Request("https://example.com/a?utm_source=x"), counting)
    assert queue.flush() == (1, 1) and len(computed) == 4
    # Unfiltered requests are never skipped, nor remembered.
    queue.push(Request("https://example.com/b", dont_filter=True))
    queue.push(Request("https://example.com/b", dont_filter=True))
    assert queue.flush() == (2, 0)


def test_a_late_ack_never_deletes_another_workers_lease(frontier, r):
    """Worker A stalls past its lease, B leases the request again, then A acknowledges late:
    B's lease must survive, so that if B dies the request is reaped and not lost."""
    frontier.push(_entry("https://example.com/slow"))
    payload = frontier.lease("A", 0.05).payloads[0]
    time.sleep(0.1)
    assert frontier.reap(max_attempts=3) == [1, 0]  # A's lease expired: queued again
    assert frontier.lease("B", 0.05).payloads == [payload]
    assert frontier.renew("A", [payload], 60) == [0, payload]  # A learns it lost the lease
    assert frontier.ack("A", [payload]) == 0  # A's late acknowledgement changes nothing
    assert r.hget(frontier.keys.lease_owner, payload) == "B"
    assert r.zscore(frontier.keys.inflight, payload) is not None
    time.sleep(0.1)  # B dies without acknowledging: its lease expires and is reaped
    assert frontier.reap(max_attempts=3) == [1, 0]
    assert frontier.counts().queued == 1
