"""Keys that only grew (issue 10, item 12): the workers set and the per-host politeness hashes.

Against a real Redis, through the frontier's own scripts: a worker that died
without retiring leaves the workers set after ten FRONTIER_WORKER_TIMEOUTs;
hosts with nothing queued whose next fetch was due long ago are forgotten
(next-fetch time and Crawl-delay), while a host with a queue, a Retry-After
pause still running or a recent fetch keeps its politeness; each PRUNE call
looks at a bounded number of entries.
"""

from __future__ import annotations

import json
import time

from crawler.base.connection import connect
from crawler.base.keys import Keys
from crawler.frontier.codec import seed_payload
from crawler.frontier.core import Frontier, QueueEntry

KEYS = Keys("news")


def _entry(url: str) -> QueueEntry:
    payload = seed_payload(url)
    return QueueEntry(payload, "", 0, json.loads(payload)["host"])


def _now(r) -> float:
    secs, micros = r.time()
    return secs + micros / 1e6


def test_heartbeat_forgets_workers_silent_for_ten_worker_timeouts(redis_url, r):
    frontier = Frontier(connect(redis_url), KEYS)  # FRONTIER_WORKER_TIMEOUT: 30 s
    now = _now(r)
    r.zadd(KEYS.workers, {"died-long-ago": now - 301, "died-a-while-ago": now - 299,
                          "gone-just-now": now - 31})
    frontier.heartbeat("alive")
    assert set(r.zrange(KEYS.workers, 0, -1)) == {"alive", "died-a-while-ago", "gone-just-now"}
    assert frontier.counts().workers_alive == 1


def test_prune_forgets_idle_hosts_and_keeps_every_politeness_that_still_matters(redis_url, r):
    frontier = Frontier(connect(redis_url), KEYS, host_delay=0.2)
    frontier.push_many([_entry(u) for u in (
        "https://idle.example/1", "https://busy.example/1", "https://busy.example/2", "https://busy.example/3",
        "https://paused.example/1", "https://recent.example/1")])
    first = frontier.lease("w1", 60, count=10).payloads
    assert len(first) == 4
    frontier.cool("idle.example", delay=0.3)  # its robots.txt asks for a Crawl-delay
    frontier.cool("busy.example", delay=0.4)
    frontier.cool("paused.example", pause=60)  # a 429 with Retry-After: 60
    frontier.ack("w1", [p for p in first if "recent.example" not in p])
    r.hset(KEYS.host_delay, "orphan.example", 5)  # a delay of a host with nothing else
    time.sleep(1.5)
    # recent.example is fetched again now: its politeness is fresh.
    frontier.push(_entry("https://recent.example/2"))
    assert [json.loads(p)["host"] for p in frontier.lease("w1", 60, count=10).payloads] == [
        "busy.example", "recent.example"]

    assert frontier.prune(forget_seconds=1.0) == [1, 2]
    assert set(r.hkeys(KEYS.host_next)) == {"busy.example", "paused.example", "recent.example"}
    assert r.hgetall(KEYS.host_delay) == {"busy.example": "0.4"}
    assert frontier.prune(forget_seconds=1.0) == [0, 0]
    # The Retry-After pause still holds every worker off paused.example.
    frontier.push(_entry("https://paused.example/2"))
    assert r.zscore(KEYS.ready, "paused.example") - _now(r) > 55


def test_each_prune_looks_at_a_bounded_sample(redis_url, r):
    frontier = Frontier(connect(redis_url), KEYS, host_delay=0.01)
    frontier.push_many([_entry(f"https://h{n}.example/") for n in range(500)])
    leased = frontier.lease("w1", 60, count=500).payloads
    assert len(leased) == 500
    frontier.ack("w1", leased)
    time.sleep(0.2)
    removed = [frontier.prune(forget_seconds=0.1, sample=100)[0] for _ in range(5)]
    assert removed == [100] * 5 and r.exists(KEYS.host_next) == 0


def test_a_crawl_delay_holds_the_next_fetch_of_its_host(redis_url):
    # robots.txt is read just before a fetch: the next one waits the Crawl-delay from then.
    frontier = Frontier(connect(redis_url), KEYS, host_delay=0.1)
    frontier.push_many([_entry("https://slow.example/1"), _entry("https://slow.example/2")])
    assert len(frontier.lease("w1", 60).payloads) == 1
    frontier.cool("slow.example", delay=5)
    lease = frontier.lease("w1", 60)
    assert lease.payloads == [] and 4.5 < lease.wait <= 5
