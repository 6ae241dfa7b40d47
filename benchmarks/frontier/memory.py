"""Redis memory per seen URL: the frontier's exact set and Bloom filter, and scrapy-redis's set.

Everything goes through the frontier's own API (``Frontier.push_many`` with
mark-only entries), and sizes are summed over every key of the crawl, so the
figures follow however the seen filter lays out its keys.
"""

from __future__ import annotations

import random
import time

import redis

from benchmarks.frontier import SPIDER
from crawler.base import lua
from crawler.frontier.core import Frontier, QueueEntry
from crawler.frontier.seen import SeenFilter
from crawler.base.keys import Keys

__all__ = ["BLOOM_ERROR_RATE", "measure_memory"]

BLOOM_ERROR_RATE = 0.001
_WRITE_CHUNK = 10_000  # fingerprints per push_many call when filling the seen filters


def _used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def _keys_bytes(client: redis.Redis, pattern: str) -> int:
    """MEMORY USAGE of every key matching ``pattern``, all elements counted."""
    return sum(int(client.memory_usage(key, samples=0) or 0) for key in client.scan_iter(match=pattern, count=1000))


def _on_own_connection(url: str, meter: redis.Redis, work) -> None:
    """Run ``work(client)`` on a connection of its own, closed and freed by the server on return.

    Redis frees a closed client asynchronously; until it has, the client's
    query and reply buffers still count in used_memory.
    """
    client = redis.Redis.from_url(url, decode_responses=True)
    client_id = client.client_id()
    try:
        work(client)
    finally:
        client.close()
    deadline = time.monotonic() + 5
    while any(int(c["id"]) == client_id for c in meter.client_list()) and time.monotonic() < deadline:
        time.sleep(0.01)


def _fill(url: str, meter: redis.Redis, fill, pattern: str, warm_up=None) -> tuple[int, int, float, int]:
    """Empty Redis, run ``warm_up(client)`` if given, then ``fill(client)``.

    Returns the growth of used_memory during ``fill``, the MEMORY USAGE of the
    keys matching ``pattern``, the seconds taken, and the SLOWLOG's length
    after the fill (it is emptied before). Both ends of the growth are measured
    with only ``meter`` connected (warm-up and fill each run on a connection
    closed before measuring), so no client's buffers count. The warm-up (whose
    keys are deleted again) takes one-time growth out of the figure: the
    script cache, the allocator's first arenas. What does count besides the
    keys is whatever else the fill leaves in Redis: the SLOWLOG keeps the
    arguments of the last 128 commands slower than 10 ms (about 2 KB an
    entry), so a seen filter whose calls are slow pays for that here.
    """
    meter.flushall()

    def prepare(client: redis.Redis) -> None:
        client.script_load(lua.load("PUSH").source)
        if warm_up is not None:
            warm_up(client)

    _on_own_connection(url, meter, prepare)
    meter.flushall()
    meter.slowlog_reset()
    before = _used_memory(meter)
    began = time.perf_counter()
    _on_own_connection(url, meter, fill)
    took = time.perf_counter() - began
    grew, slow = _used_memory(meter) - before, meter.slowlog_len()
    # MEMORY USAGE of a big set is itself slow: it comes after the SLOWLOG is read.
    return grew, _keys_bytes(meter, pattern), took, slow


def _mark_only(fingerprints: list[str]) -> list[QueueEntry]:
    return [QueueEntry("", fp, 0, "") for fp in fingerprints]


def _already_seen(frontier: Frontier, raw: redis.Redis, pattern: str, fingerprints: list[str],
                  batch: int = 1000) -> int:
    """How many of ``fingerprints`` the seen filter claims to have seen, leaving it as it was.

    Each batch is pushed as mark-only entries (the push answers "seen before"
    or not, as for a real link), then the crawl's keys are restored from a
    snapshot, so that the filter does not fill up as it is being tested.
    """
    snapshot = {key: raw.dump(key) for key in raw.scan_iter(match=pattern, count=1000)}
    seen = 0
    for start in range(0, len(fingerprints), batch):
        seen += frontier.push_many(_mark_only(fingerprints[start:start + batch])).count(False)
        with raw.pipeline(transaction=False) as pipe:
            for key in set(raw.scan_iter(match=pattern, count=1000)) - set(snapshot):
                pipe.delete(key)
            for key, value in snapshot.items():
                pipe.restore(key, 0, value, replace=True)
            pipe.execute()
    return seen


def measure_memory(url: str, count: int, fresh: int, seed: int = 3) -> dict:
    """Bytes per seen URL for the exact set, the Bloom filter and scrapy-redis; the Bloom false-positive rate.

    ``count`` random SHA-1 fingerprints go into each filter; the Bloom filter,
    sized for ``count`` at BLOOM_ERROR_RATE, is then asked about ``fresh``
    others that were never added, and about a sample of those that were.
    """
    rng = random.Random(seed)
    added = [rng.randbytes(20).hex() for _ in range(count)]
    unseen = [rng.randbytes(20).hex() for _ in range(fresh)]
    meter = redis.Redis.from_url(url, decode_responses=True)
    keys = Keys("bench-memory")
    crawl_keys = keys.all_patterns()
    results: dict[str, dict] = {}

    def frontier_fill(seen: SeenFilter, crawl: Keys = keys, fingerprints: list[str] = added):
        def fill(client: redis.Redis) -> None:
            frontier = Frontier(client, crawl, seen=seen)
            for start in range(0, len(fingerprints), _WRITE_CHUNK):
                frontier.push_many(_mark_only(fingerprints[start:start + _WRITE_CHUNK]))
        return fill

    def warm_up(seen: SeenFilter):
        return frontier_fill(seen, Keys("bench-warm-up"), [rng.randbytes(20).hex() for _ in range(_WRITE_CHUNK)])

    def stock_fill(client: redis.Redis) -> None:
        # RFPDupeFilter.request_seen sends one SADD per fingerprint; sending 1,000
        # members per SADD builds the same set, only faster.
        for start in range(0, count, 1000):
            client.sadd(f"{SPIDER}:dupefilter", *added[start:start + 1000])

    def stock_warm_up(client: redis.Redis) -> None:
        client.sadd("bench-warm-up:dupefilter", *(rng.randbytes(20).hex() for _ in range(1000)))

    for name, fill, pattern, warm in (("set", frontier_fill(SeenFilter()), crawl_keys, warm_up(SeenFilter())),
                                      ("stock", stock_fill, f"{SPIDER}:dupefilter", stock_warm_up)):
        grew, keys_bytes, took, slow = _fill(url, meter, fill, pattern, warm)
        results[name] = {"bytes_per_url": grew / count, "key_bytes_per_url": keys_bytes / count, "seconds": took,
                         "slowlog_entries": slow}
    bloom = SeenFilter.bloom(count, BLOOM_ERROR_RATE)
    grew, keys_bytes, took, slow = _fill(url, meter, frontier_fill(bloom), crawl_keys, warm_up(bloom))
    raw = redis.Redis.from_url(url)  # DUMP payloads are bytes
    frontier = Frontier(meter, keys, seen=bloom)
    positives = _already_seen(frontier, raw, crawl_keys, unseen)
    sample = added[:: max(1, count // 10_000)]
    missed = len(sample) - _already_seen(frontier, raw, crawl_keys, sample)
    results["bloom"] = {"bytes_per_url": grew / count, "key_bytes_per_url": keys_bytes / count, "seconds": took,
                        "slowlog_entries": slow,
                        "bits": bloom.bits, "hashes": bloom.hashes, "ideal_bytes_per_url": bloom.bits / 8 / count,
                        "false_positives": positives, "fresh": fresh, "false_positive_rate": positives / fresh,
                        "false_negatives": missed, "checked_added": len(sample)}
    meter.flushall()
    raw.close()
    meter.close()
    return results
