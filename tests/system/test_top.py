"""``crawler top``: one frame against a real Redis with known state, rates, recent errors."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import scrapy
from rich.console import Console
from scrapy.utils.test import get_crawler

from crawler.frontier.core import Frontier, FrontierCounts
from crawler.base.keys import Keys
from crawler.frontier.seeding import seed
from crawler.cli.top import RecentError, Snapshot, render
from crawler.worker.heartbeat import ERRORS_KEPT, WorkerHeartbeat
from tests.support.redis import free_port

CLI = [sys.executable, "-m", "crawler"]
KEYS = Keys("news")


def _top(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(CLI + ["--redis-url", redis_url, "top", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def _lines(text: str) -> list[str]:
    """The lines of a frame, spaces folded, blank lines and rules left out."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line for line in lines if line.strip("─ ")]


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
    lines = _lines(result.stdout)
    summary = lines[:lines.index("workers")]
    assert summary == [
        "crawl news", "pages/s 0.0/s", "articles/s 0.0/s", "pages 42", "articles stored 2",
        "queued 3", "in flight 1", "seen 4", "dead letters 1", "workers alive 1",
        "download errors 3", "http errors 2", "spider errors 1",
    ]
    workers = lines[lines.index("workers"):lines.index("busiest hosts")]
    assert workers[1] == "worker last heartbeat state"
    assert re.fullmatch(r"w-alive:1:aa \d\.\ds ago alive", workers[2]), workers
    assert re.fullmatch(r"w-gone:2:bb 10\d\.\ds ago gone", workers[3]), workers
    assert len(workers) == 4
    hosts = lines[lines.index("busiest hosts"):lines.index("recent errors")]
    assert hosts == ["busiest hosts", "host queued", *[
        f"{host} {n}" for host, n in sorted(backlog.items(), key=lambda item: -item[1]) if n]]
    errors = lines[lines.index("recent errors"):]
    assert errors[1] == "when worker error"
    assert re.fullmatch(r"[56]\.\ds ago w-alive:1 Gave up retrying <GET https://a\.example/2>",
                        errors[2]), errors
    assert errors[3:] == ["10m ago w-gone:2 Spider error processing <GET https://b.example/1>",
                          "(2 unreadable entries)"]


def test_once_on_an_empty_crawl(redis_url):
    result = _top(redis_url, "--once", "--interval", "0.1")
    assert result.returncode == 0
    lines = _lines(result.stdout)
    assert "queued 0" in lines and "workers alive 0" in lines
    assert "(none)" in lines and "(nothing queued)" in lines


def _snapshot(taken: float, pages: int, articles: int) -> Snapshot:
    counts = FrontierCounts(queued=0, in_flight=0, seen=0, articles=articles, dead_letters=0,
                            workers_alive=0, stats={"pages": pages}, top_hosts=[])
    return Snapshot(taken=taken, now=1000.0, counts=counts, workers=[], unreadable_errors=0,
                    errors=[RecentError(990.0, "w1", "[bold]not markup[/bold]")])


def test_rates_come_from_two_frames():
    console = Console(width=100, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(render(_snapshot(12.0, 30, 8), _snapshot(10.0, 10, 4)))
    lines = _lines(console.export_text())
    assert lines[1:3] == ["pages/s 10.0/s", "articles/s 2.0/s"]
    assert "10.0s ago w1 [bold]not markup[/bold]" in lines  # messages are text, never markup
    console.print(render(_snapshot(12.0, 30, 8)))
    assert _lines(console.export_text())[1:3] == ["pages/s -", "articles/s -"]


def test_unreachable_redis_and_bad_interval_are_one_line():
    result = _top(f"redis://127.0.0.1:{free_port()}/0", "--once")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot reach Redis" in result.stderr
    result = _top("redis://127.0.0.1:1/0", "--once", "--interval", "0")
    assert (result.returncode, result.stderr.strip()) == (
        2, "crawler top: error: --interval must be a positive number of seconds")


class _Spider(scrapy.Spider):
    name = "news"


def test_workers_send_their_error_log_lines_to_the_recent_errors(redis_url, r):
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url})
    heartbeat = WorkerHeartbeat(crawler, until_idle=0)
    heartbeat.spider_opened(_Spider())
    log = logging.getLogger("tests.top")
    log.warning("not an error")
    log.error("first line of a long one\nsecond line")
    for number in range(ERRORS_KEPT + 10):
        log.error("boom %d", number)
    heartbeat.flush()
    heartbeat.spider_closed(_Spider(), "finished")
    log.error("after the spider closed")
    heartbeat.flush()

    entries = [json.loads(raw) for raw in r.lrange(KEYS.errors, 0, -1)]
    assert [entry["message"] for entry in entries] == [
        f"boom {number}" for number in reversed(range(10, ERRORS_KEPT + 10))]
    assert {entry["logger"] for entry in entries} == {"tests.top"}
    assert {entry["worker"] for entry in entries} == {f"{os.uname().nodename}:{os.getpid()}"}
    assert all(isinstance(entry["time"], float) for entry in entries)

    r.delete(KEYS.errors)
    heartbeat.spider_opened(_Spider())
    log.error("first line of a long one\nsecond line")
    heartbeat.spider_closed(_Spider(), "finished")  # flushes on close
    assert [json.loads(raw)["message"] for raw in r.lrange(KEYS.errors, 0, -1)] == [
        "first line of a long one"]
