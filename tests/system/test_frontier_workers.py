"""The frontier with real worker processes: kill -9 loses nothing, one shared rate per host."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time

import redis

from crawler.demo import expected_articles, serve
from tests.support.workers import cli, export, start_worker, wait

FAST_LEASES = ["-s", "FRONTIER_LEASE_SECONDS=2", "-s", "FRONTIER_HEARTBEAT_SECONDS=0.5",
               "-s", "FRONTIER_MAX_ATTEMPTS=10"]


def _holds_lease(client: redis.Redis, worker: subprocess.Popen) -> bool:
    """Whether ``worker`` holds a lease now (worker ids are ``host:pid:random``)."""
    return any(f":{worker.pid}:" in owner for owner in client.hvals("crawler:{news}:lease-owner"))


def test_kill_9_loses_nothing_and_stores_each_article_once(redis_url):
    rnd = random.Random(7)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with serve() as site:
        assert cli(redis_url, "seed", site.base_url + "/").returncode == 0
        # A host delay slows the crawl down enough to kill a worker several times in the middle.
        slow = [*FAST_LEASES, "-s", "FRONTIER_HOST_DELAY=0.4"]
        workers = [start_worker(redis_url, "--until-idle", "4", *slow) for _ in range(2)]
        kills = 0
        for _ in range(3):
            # Kill a worker while it holds work, at a random moment after it leased something.
            deadline = time.monotonic() + 30
            while not (holders := [w for w in workers if _holds_lease(client, w)]):
                if all(w.poll() is not None for w in workers):
                    break  # the crawl ended first
                assert time.monotonic() < deadline, "no worker leased a request"
                time.sleep(0.02)
            if not holders:
                break
            time.sleep(rnd.uniform(0, 0.3))
            victim = rnd.choice(holders)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            kills += 1
            workers[workers.index(victim)] = start_worker(redis_url, "--until-idle", "4", *slow)
        for worker in workers:
            code, out = wait(worker)
            assert code == 0, out[-3000:]
        expected = sorted(a["url"] for a in expected_articles(site.base_url))
    assert kills >= 2
    stored = [a["url"] for a in export(redis_url)]
    assert sorted(stored) == expected  # every article, exactly once
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert (status["queued"], status["in_flight"], status["dead_letters"]) == (0, 0, 0)


def test_two_workers_share_one_rate_per_host(redis_url):
    delay = 0.3
    with serve(include_bad=False) as site:
        assert cli(redis_url, "seed", site.base_url + "/").returncode == 0
        settings = ["-s", f"FRONTIER_HOST_DELAY={delay}", "-s", "FRONTIER_HEARTBEAT_SECONDS=0.5"]
        workers = [start_worker(redis_url, "--until-idle", "2", *settings) for _ in range(2)]
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and all(w.poll() is None for w in workers):
            time.sleep(0.2)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            assert wait(worker)[0] == 0
        times = [t for t, path in site.hits if path != "/robots.txt"]
    assert len(times) >= 10
    gaps = [b - a for a, b in zip(times, times[1:])]
    # Leases are spaced by the delay in Redis time; what reaches the server may
    # jitter by the time between leasing and sending.
    assert min(gaps) >= delay - 0.05, sorted(gaps)[:5]
    # And the two workers together are not slower than one polite fetcher.
    assert (times[-1] - times[0]) / (len(times) - 1) < delay * 1.5
