"""``crawler top`` as a user runs it: one frame against a real Redis with known state, errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

from crawler.frontier.core import Frontier
from crawler.base.keys import Keys
from crawler.frontier.seeding import seed
from tests.support.redis import free_port
from tests.support.frames import frame_lines

CLI = [sys.executable, "-m", "crawler"]
KEYS = Keys("news")


def _top(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(CLI + ["--redis-url", redis_url, "top", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_once_prints_one_frame_of_the_crawl(redis_url, r):
    frontier = Frontier(r, KEYS)
    urls = ["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://b.example/1"]
    assert seed(frontier, urls).accepted == 4
    leased = frontier.lease("w-alive:1:aa", 60, 1).payloads
    assert len(leased) == 1
    backlog = {"a.example": 3, "b.example": 1}
    backlog[urlsplit(json.loads(leased[0])["url"]).hostname] -= 1
    frontier.heartbeat("w-alive:1:aa")
    secs, micros = r.time()
    now = secs + micros / 1e6
    r.zadd(KEYS.workers, {"w-gone:2:bb": now - 100})
    r.hset(KEYS.stats, mapping={"pages": 42, "download_errors": 3, "http_errors": 2, "spider_errors": 1})
    r.xadd(KEYS.articles, {"article": "{}"})
    r.xadd(KEYS.articles, {"article": "{}"})
    r.lpush(KEYS.deadletter, json.dumps({"reason": "test", "request": "{}"}))
    r.lpush(KEYS.errors, json.dumps({"time": now - 600, "worker": "w-gone:2", "logger": "x",
                                     "message": "Spider error processing <GET https://b.example/1>"}))
    r.lpush(KEYS.errors, "not json", json.dumps({"time": "yesterday", "message": 1}))
    r.lpush(KEYS.errors, json.dumps({"time": now - 5, "worker": "w-alive:1", "logger": "x",
                                     "message": "Gave up retrying <GET https://a.example/2>"}))

    result = _top(redis_url, "--once", "--interval", "0.2")
    assert (result.returncode, result.stderr) == (0, "")
    lines = frame_lines(result.stdout)
    summary = lines[:lines.index("workers")]
    assert summary == [
        "crawl news", "pages/s 0.0/s", "articles/s 0.0/s", "pages 42", "articles stored 2",
        "queued 3", "in flight 1", "seen 4", "dead letters 1", "workers alive 1",
        "download errors 3", "http errors 2", "spider errors 1", "state running",
    ]
    workers = lines[lines.index("workers"):lines.index("busiest hosts")]
    assert workers[1] == "worker last heartbeat state"
    assert re.fullmatch(r"w-alive:1:aa \d\.\d s ago alive", workers[2]), workers
    assert re.fullmatch(r"w-gone:2:bb 10\d\.\d s ago gone", workers[3]), workers
    assert len(workers) == 4
    hosts = lines[lines.index("busiest hosts"):lines.index("recent errors")]
    assert hosts == ["busiest hosts", "host queued", *[
        f"{host} {n}" for host, n in sorted(backlog.items(), key=lambda item: -item[1]) if n]]
    errors = lines[lines.index("recent errors"):]
    assert errors[1] == "when worker error"
    assert re.fullmatch(r"[56]\.\d s ago w-alive:1 Gave up retrying <GET https://a\.example/2>",
                        errors[2]), errors
    assert errors[3:] == ["10 min ago w-gone:2 Spider error processing <GET https://b.example/1>",
                          "(2 unreadable entries)"]


def test_once_on_an_empty_crawl(redis_url):
    result = _top(redis_url, "--once", "--interval", "0.1")
    assert result.returncode == 0
    lines = frame_lines(result.stdout)
    assert "queued 0" in lines and "workers alive 0" in lines
    assert "(none)" in lines and "(nothing queued)" in lines


def test_unreachable_redis_and_bad_interval_are_one_line():
    result = _top(f"redis://127.0.0.1:{free_port()}/0", "--once")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot reach Redis" in result.stderr
    result = _top("redis://127.0.0.1:1/0", "--once", "--interval", "0")
    assert (result.returncode, result.stderr.strip()) == (
        2, "crawler top: error: --interval must be a positive number of seconds")
