"""Frontier benchmark (issue 3): throughput, Redis memory per seen URL, round trips.

In one run, on a generated static site served by nginx and a private
redis-server (both on free 127.0.0.1 ports, both started and stopped here):

1. A trivial link-following spider crawls the whole site with the same
   settings under four configurations, each in fresh subprocesses, run
   alternately (A B C D A B C D ...) so that machine noise hits all alike:
   plain Scrapy (in-memory scheduler), ``crawler.frontier.Scheduler`` with one
   worker, stock scrapy-redis, and two workers of ``crawler.frontier.Scheduler``
   against one Redis at once. Pages/s comes from each subprocess's own stats:
   ``response_received_count / (finish_time - start_time)``; for two workers,
   total pages / (last finish - first start). Medians are reported.
2. Redis memory per seen URL (``INFO memory`` used_memory before and after N
   random SHA-1 fingerprints) for the frontier's exact set, its Bloom filter
   and stock scrapy-redis's dupefilter set, and the Bloom filter's measured
   false-positive rate on fingerprints never added.
3. Redis round trips and commands per crawled page, for this project's
   scheduler and stock scrapy-redis: round trips and commands sent are counted
   by a hook in the worker's redis-py connection (a pipeline is one round
   trip); commands run by Redis come from ``INFO commandstats`` and include
   those run inside Lua scripts.

    .venv/bin/python -m benchmarks.frontier [--pages 5000] [--rounds 3] [--quick] [--json FILE]

``--quick`` (500 pages, 1 round, 100,000 fingerprints, 20,000 fresh ones) is
what the test runs, in well under a minute.
Idle close: with ``crawler.worker.heartbeat.WorkerHeartbeat`` a worker closes 1 to 2 s
after the frontier empties (it checks once a second and wants two idle
checks), a fixed tail that would weigh 10-20% of a 5,000-page crawl. The
Redis-scheduler workers here use :class:`~.worker.FrontierIdleClose` instead: the same
rule (nothing queued and nothing in flight in the whole frontier), checked
whenever the engine is idle. Its own Redis traffic is not counted.

Modules: :mod:`.site` (the site, nginx, redis-server), :mod:`.worker` (one
crawl, in its own process), :mod:`.crawls` (runs the workers, collects their
figures), :mod:`.memory` (the seen filters), :mod:`.report` and :mod:`.cli`.
"""

from __future__ import annotations

__all__ = ["LABELS", "OURS", "OURS2", "PLAIN", "SPIDER", "STOCK"]

SPIDER = "bench"
PLAIN, OURS, STOCK, OURS2 = "plain", "ours", "stock", "ours-2"
LABELS = {
    PLAIN: "plain Scrapy (in-memory scheduler)",
    OURS: "crawler.frontier.Scheduler, 1 worker",
    STOCK: "stock scrapy-redis",
    OURS2: "crawler.frontier.Scheduler, 2 workers",
}
