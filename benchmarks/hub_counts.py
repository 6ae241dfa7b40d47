"""What the hub gauges cost a scrape: counting hubs by kind, and revisits due and overdue.

Starts its own redis-server (:class:`crawler.cli.redisproc.PrivateRedis`), writes N hubs as a
crawl begun before the kept counts holds them (``Keys.hubs``: URL -> state JSON; ``Keys.hubs_due``:
URL -> due time; no ``Keys.hub_kinds``) and times, best of ``--repeat``:
:func:`crawler.frontier.hubstats.hub_kinds` by its HSCAN of every hub; the first registry write
(HUB_SET), which counts every hub once into ``Keys.hub_kinds`` (Redis is busy for that long, once
per crawl); ``hub_kinds`` again, now one HGETALL; and
:func:`~crawler.frontier.hubstats.revisits_due` (four ZCOUNTs and the lost visits: paid with
the other gauges, at most once a second).

    .venv/bin/python benchmarks/hub_counts.py [--hubs 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import time

import redis

from crawler.base.counters import HUB_KINDS
from crawler.base.keys import Keys
from crawler.cli.redisproc import PrivateRedis
from crawler.frontier.hubs import HubRegistry
from crawler.frontier.hubstats import hub_kinds, revisits_due

KEYS = Keys("news")


def _fill(client: redis.Redis, hubs: int, now: float) -> None:
    pipe = client.pipeline(transaction=False)
    for n in range(hubs):
        url = f"https://site{n % 500}.example.com/hub/{n}"
        kind = HUB_KINDS[n % len(HUB_KINDS)]
        pipe.hset(KEYS.hubs, url, json.dumps({
            "url": url, "site": f"https://site{n % 500}.example.com/", "kind": kind, "interval": 300.0,
            "added_at": now, "last_visit": now, "last_change": now, "last_result": "changed",
            "new_links": 3, "total_new_links": 40, "visits": 12, "failures": 0, "next_due": now + n,
            "retired_at": None, "etag": '"abc"', "last_modified": None, "content_hash": "0" * 16}))
        pipe.zadd(KEYS.hubs_due, {url: now - 600 + n % 1200})
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()


def _best(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with PrivateRedis() as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        seconds, _ = client.time()
        _fill(client, args.hubs, float(seconds))
        scanned = _best(lambda: hub_kinds(client, KEYS), args.repeat)
        start = time.perf_counter()
        HubRegistry(client, KEYS).add("https://new.example.com/feed", "feed")
        first_write = time.perf_counter() - start
        counted = _best(lambda: hub_kinds(client, KEYS), args.repeat)
        feeds = sum(1 for n in range(args.hubs) if HUB_KINDS[n % len(HUB_KINDS)] == "feed") + 1
        if hub_kinds(client, KEYS)[0]["feed"] != feeds:
            raise SystemExit("the kept counts disagree with the hubs written")
        due = _best(lambda: revisits_due(client, KEYS, overdue_seconds=300), args.repeat)
        print(f"{args.hubs} hubs: hubs by kind by a scan (HSCAN) {scanned:.2f} s; the first write, counting "
              f"every hub once {first_write:.2f} s; hubs by kind from the kept counts (HGETALL) "
              f"{counted * 1000:.2f} ms; revisits due and overdue (4 ZCOUNT) {due * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
