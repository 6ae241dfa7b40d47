"""``crawler seed``, ``status`` and the CLI's error handling, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from crawler.frontier.hubs import HUB_PRIORITY

from tests.support.redis import free_port


def run(*args: str, redis_url: str | None = None, stdin: str | None = None,
        env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "crawler"]
    if redis_url:
        cmd += ["--redis-url", redis_url]
    return subprocess.run(cmd + list(args), input=stdin, capture_output=True, text=True, timeout=120,
                          env=None if env is None else {**os.environ, **env})


SEEDS = """\
# a comment, then a blank line

https://news.example.com/
https://news.example.com/?utm_source=x
{"url": "https://news.example.com/biz/", "meta": {"source": "list"}, "priority": 5}
ftp://news.example.com/file
{"url": "https://news.example.com/x", "priority": "high"}
{not json
https://news.example.com/a b
http:///no-host
"""


def test_seed_reports_accepted_duplicates_and_rejected_lines(redis_url, r, tmp_path):
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(SEEDS)
    result = run("seed", "-f", str(seeds), redis_url=redis_url)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"accepted": 2, "duplicates": 1, "rejected": 5}
    assert result.stderr.splitlines() == [
        "line 6: scheme must be http or https: ftp://news.example.com/file",
        'line 7: priority must be an integer: {"url": "https://news.example.com/x", "priority": "high"}',
        "line 8: invalid JSON (Expecting property name enclosed in double quotes at column 2): {not json",
        "line 9: url contains whitespace or control characters: https://news.example.com/a b",
        "line 10: url has no host: http:///no-host",
    ]
    queued = [json.loads(item) for item in r.zrange("crawler:{news}:queue:news.example.com", 0, -1)]
    # A home page is seeded as the first visit of its home hub (crawler/frontier/hubs.py).
    assert [(q["url"], q["priority"], q["meta"].get("hub"), q["meta"].get("source")) for q in queued] == [
        ("https://news.example.com/", HUB_PRIORITY, "home", None),
        ("https://news.example.com/biz/", 5, None, "list"),
    ]
    assert r.smembers("crawler:{news}:hosts") == {"news.example.com"}
    # Seeding again: everything valid is now a duplicate, unless --recrawl.
    again = run("seed", "https://news.example.com/", "https://news.example.com/biz/", redis_url=redis_url)
    assert (again.returncode, json.loads(again.stdout)) == (0, {"accepted": 0, "duplicates": 2, "rejected": 0})
    recrawl = run("seed", "--recrawl", "https://news.example.com/#top", redis_url=redis_url)
    assert json.loads(recrawl.stdout) == {"accepted": 1, "duplicates": 0, "rejected": 0}


def test_strict_queues_nothing_when_a_line_is_bad(redis_url, r):
    result = run("seed", "--strict", "-f", "-", redis_url=redis_url,
                 stdin="https://ok.example.com/\nnot a url\n")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"accepted": 0, "duplicates": 0, "rejected": 1}
    assert result.stderr.strip() == "line 2: url contains whitespace or control characters: not a url"
    assert r.get("crawler:{news}:queued") is None


def test_overlong_url_is_rejected(redis_url):
    url = "https://example.com/" + "a" * 2100
    result = run("seed", url, redis_url=redis_url)
    assert result.returncode == 1
    assert result.stderr.startswith("line 1: url longer than 2048 characters: https://example.com/aaa")


def test_seed_takes_100k_urls_pipelined(redis_url, r, tmp_path):
    seeds = tmp_path / "many.txt"
    seeds.write_text("".join(f"https://h{i % 50}.example.com/story/{i}\n" for i in range(100_000)))
    result = run("seed", "-f", str(seeds), redis_url=redis_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"accepted": 100_000, "duplicates": 0, "rejected": 0}
    assert r.get("crawler:{news}:queued") == "100000"
    assert sum(r.zcard(f"crawler:{{news}}:queue:h{i}.example.com") for i in range(50)) == 100_000
    status = json.loads(run("status", "--json", redis_url=redis_url).stdout)
    assert status["queued"] == 100_000 and status["seen"] == 100_000
    assert len(status["top_hosts"]) == 10 and status["top_hosts"][0]["queued"] == 2000


def test_status_shows_a_bloom_filter_past_its_capacity(redis_url):
    # The first seeding of a crawl records its filter, from the environment here.
    small = {"FRONTIER_SEEN": "bloom", "FRONTIER_BLOOM_CAPACITY": "10"}
    urls = "".join(f"https://example.com/{n}\n" for n in range(12))
    assert run("seed", "-f", "-", redis_url=redis_url, stdin=urls, env=small).returncode == 0
    status = json.loads(run("status", "--json", redis_url=redis_url).stdout)
    assert (status["seen"], status["seen_capacity"]) == (12, 10)
    text = run("status", redis_url=redis_url).stdout
    assert "12 of 10 (Bloom filter) over 90%: past its capacity" in " ".join(text.split())


@pytest.mark.parametrize("command", [["seed", "https://example.com/"], ["status"], ["export"],
                                     ["worker", "--until-idle", "1"]])
def test_unreachable_redis_is_one_line_and_exit_2(command):
    result = run(*command, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach Redis" in lines[0], result.stderr


@pytest.mark.parametrize("command, message", [
    (["seed"], "give URLs or -f FILE"),
    (["seed", "-f", "/nonexistent/seeds.txt"], "cannot read /nonexistent/seeds.txt"),
    (["crawl", "ftp://x/"], "scheme must be http or https"),
    (["worker", "--until-idle", "-3"], "--until-idle must be a positive number"),
    (["worker", "--spider", "nope", "--until-idle", "1"], "unknown spider 'nope'"),
    (["worker", "-s", "NOVALUE"], "-s expects NAME=VALUE"),
    (["frobnicate"], "invalid choice"),
])
def test_user_mistakes_are_one_line_and_exit_2(command, message, redis_url):
    result = run(*command, redis_url=redis_url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
