"""A full Redis pauses the crawl instead of losing it (issue 12).

A real redis-server with ``maxmemory`` and ``noeviction``, nearly full of articles stored
earlier and not yet delivered; a real worker crawls the demo site with no delivery running.
It must pause (``crawler status`` says why) rather than fail; once delivery runs (a consumer
group reading, acknowledging and trimming the stream, as ``crawler deliver`` does) it
resumes and finishes; every article is delivered once and nothing becomes a dead letter.

Two settings of ``REDIS_MEMORY_HIGH_WATERMARK``: the default (0.8) pauses before Redis is
full; 1.0 lets the crawl run into Redis' own limit, where writes are refused (OOM), so
requests whose articles were refused are given back without counting an attempt.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time

import pytest
import redis

from crawler.base.keys import Keys
from crawler.demo import expected_articles, serve
from tests.support.redis import free_port, start_redis_server
from tests.support.workers import cli, start_worker, wait

KEYS = Keys("news")
GROUP = "files"
EARLIER = 300  # articles of an earlier crawl, waiting to be delivered


@pytest.fixture
def full_redis():
    """A redis-server with maxmemory and noeviction, on a free port of 127.0.0.1."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="crawler-test-full-redis-")
    proc = start_redis_server(port, workdir, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
    client = redis.Redis(port=port, decode_responses=True)
    yield f"redis://127.0.0.1:{port}/0", client
    client.close()
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


class Delivery(threading.Thread):
    """What ``crawler deliver`` does, in one consumer group: read a batch, keep it, acknowledge
    it, trim what is acknowledged from the stream."""

    def __init__(self, client: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.client = client
        self.delivered: list[tuple[str, dict]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            entries = self.client.xreadgroup(GROUP, "c1", {KEYS.articles: ">"}, count=100, block=200)
            batch = entries[0][1] if entries else []
            if not batch:
                if self.stop.is_set():
                    return
                continue
            self.delivered += [(entry_id, json.loads(fields["article"])) for entry_id, fields in batch]
            self.client.xack(KEYS.articles, GROUP, *[entry_id for entry_id, _ in batch])
            ms, seq = batch[-1][0].split("-")
            self.client.xtrim(KEYS.articles, minid=f"{ms}-{int(seq) + 1}")


def _status(redis_url: str) -> dict:
    result = cli(redis_url, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("watermark", [0.8, 1.0], ids=["below-the-watermark", "redis-refuses-writes"])
def test_a_full_redis_pauses_the_crawl_and_delivery_lets_it_finish(full_redis, watermark):
    redis_url, client = full_redis
    client.xgroup_create(KEYS.articles, GROUP, id="0", mkstream=True)  # delivery ran before
    for i in range(EARLIER):
        client.xadd(KEYS.articles, {"article": json.dumps({"url": f"https://earlier.example/{i}",
                                                          "body": f"{i} " + "x" * 3000})})
    with serve() as site:
        base = site.base_url
        assert cli(redis_url, "seed", base + "/").returncode == 0
        if watermark < 1:
            # Redis is now this full: a few of the demo's articles take it past the watermark.
            client.config_set("maxmemory", int(client.info("memory")["used_memory"] / 0.78))
        worker = start_worker(redis_url, "--until-idle", "4", "-s", "DOWNLOAD_DELAY=0.2",
                              "-s", "CONCURRENT_REQUESTS=2",
                              "-s", f"REDIS_MEMORY_HIGH_WATERMARK={watermark}")
        try:
            if watermark == 1:
                # Once the crawl stores articles, Redis is full: from now on it refuses
                # writes, the worker's included, while requests are in flight.
                deadline = time.monotonic() + 60
                while client.xlen(KEYS.articles) == EARLIER:
                    assert worker.poll() is None and time.monotonic() < deadline, wait(worker)[1][-3000:]
                    time.sleep(0.05)
                client.config_set("maxmemory", client.info("memory")["used_memory"] - 10_000)
            deadline = time.monotonic() + 90
            while (status := _status(redis_url))["paused"] is None:
                assert worker.poll() is None, wait(worker)[1][-3000:]
                assert time.monotonic() < deadline, "the crawl never paused"
                time.sleep(0.3)
            assert status["paused"]["reason"] == "memory", status
            time.sleep(3)  # paused: the worker is alive, nothing is lost
            status = _status(redis_url)
            assert worker.poll() is None and status["paused"] is not None
            assert status["queued"] > 0 and status["dead_letters"] == 0, status

            delivery = Delivery(redis.Redis.from_url(redis_url, decode_responses=True))
            delivery.start()
            code, log = wait(worker, timeout=240)
        finally:
            if worker.poll() is None:
                worker.kill()
        delivery.stop.set()
        delivery.join(30)

    assert code == 0, log[-3000:]
    assert "Crawl paused, leasing no new requests" in log
    assert "Crawl resumed" in log
    if watermark == 1:
        assert "Redis is full (OOM)" in log or "Redis is out of memory" in log, log[-3000:]
    urls = [article["url"] for _, article in delivery.delivered]
    assert len(urls) == len(set(urls)), "an article was delivered twice"
    crawled = {article["url"] for article in expected_articles(base)}
    earlier = {f"https://earlier.example/{i}" for i in range(EARLIER)}
    assert set(urls) == earlier | crawled
    assert client.xlen(KEYS.articles) == 0  # delivered and trimmed
    status = _status(redis_url)
    assert (status["dead_letters"], status["queued"], status["in_flight"], status["paused"]) == (0, 0, 0, None)
    assert int(client.hget(KEYS.stats, "articles_stored")) == len(crawled)
    assert client.hget(KEYS.stats, "dead_letters") is None
    assert client.hgetall(KEYS.attempts) == {}
