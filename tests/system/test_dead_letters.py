"""``crawler dead-letters`` (issue 10, item 11): a real Redis, the real CLI.

Dead letters are made the way a crawl makes them: leases that expire until
REAP sets them aside, a request whose processing failed too often (RETRY), and a
corrupt queue entry (``set_aside``). The command lists them with their reason,
attempts and URL, queues them again with their attempts reset, or drops them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from crawler.base.connection import connect
from crawler.base.keys import Keys
from crawler.frontier.codec import seed_payload
from crawler.frontier.core import Frontier, QueueEntry

KEYS = Keys("news")
URLS = ["https://a.example/1", "https://b.example/2", "https://c.example/3\x1b[31m"]


def _cli(redis_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    return subprocess.run([sys.executable, "-m", "crawler", "--redis-url", redis_url, "dead-letters", *args],
                          capture_output=True, text=True, timeout=60, env=env)


def _make_dead_letters(frontier: Frontier) -> list[str]:
    payloads = [seed_payload(url) for url in URLS]
    entries = [QueueEntry(p, "", 0, json.loads(p)["host"]) for p in payloads]
    frontier.push_many(entries[:2])
    for _ in range(2):  # two leases of a.example and b.example expire: dead after 2 attempts
        leased = frontier.lease("gone", -1, count=2).payloads
        assert len(leased) == 2
        frontier.reap(max_attempts=2)
    frontier.push(entries[2])
    leased = frontier.lease("w1", 30).payloads
    assert leased == [payloads[2]]
    assert frontier.retry("w1", leased, max_attempts=1) == [0, 1]  # processing failed once
    frontier.client.zadd(KEYS.inflight, {"not json": 0})
    frontier.client.hset(KEYS.lease_owner, "not json", "w1")
    frontier.set_aside("not json", "corrupt: not a request")
    return payloads


def test_lists_each_dead_letter_with_its_reason_attempts_and_url(redis_url):
    frontier = Frontier(connect(redis_url), KEYS)
    payloads = _make_dead_letters(frontier)
    result = _cli(redis_url, "--json")
    assert (result.returncode, result.stderr) == (0, "")
    shown = json.loads(result.stdout)
    assert shown["count"] == 4
    assert [(d["reason"], d["attempts"], d["url"]) for d in shown["letters"]] == [
        ("corrupt: not a request", None, None),
        ("processing failed", 1, URLS[2]),
        ("lease expired", 2, URLS[1]),
        ("lease expired", 2, URLS[0]),
    ]
    assert {d["request"] for d in shown["letters"][1:]} == set(payloads)
    # Listing changes nothing.
    assert frontier.counts().dead_letters == 4

    text = _cli(redis_url)
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["attempts", "reason", "url"]
    assert lines[-1] == "4 dead letters"
    assert lines[3].split() == ["2", "lease", "expired", URLS[1]]
    # A URL from the web reaches the terminal escaped, never as an escape sequence.
    assert "\x1b" not in text.stdout and "https://c.example/3\\x1b[31m" in lines[2]


def test_requeue_puts_them_back_with_attempts_reset_and_keeps_the_corrupt_one(redis_url, r):
    frontier = Frontier(connect(redis_url), KEYS)
    payloads = _make_dead_letters(frontier)
    result = _cli(redis_url, "--requeue", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["count"], shown["requeued"], shown["already_queued"], shown["kept"]) == (4, 3, 0, 1)
    counts = frontier.counts()
    assert (counts.queued, counts.in_flight, counts.dead_letters) == (3, 0, 1)
    assert json.loads(r.lindex(KEYS.deadletter, 0))["reason"] == "corrupt: not a request"
    assert r.hlen(KEYS.attempts) == 0
    assert r.hget(KEYS.stats, "dead_letters_requeued") == "3"
    # Attempts start again: one expired lease does not make a dead letter of a requeued request.
    assert sorted(frontier.lease("gone", -1, count=3).payloads) == sorted(payloads)
    assert frontier.reap(max_attempts=2) == [3, 0]
    # Requeued twice: a request already queued is only removed from the dead letters.
    r.lpush(KEYS.deadletter, json.dumps({"reason": "lease expired 2 times", "request": payloads[0]}))
    assert frontier.requeue_dead_letters() == (0, 1, 1)
    assert frontier.counts().queued == 3

    text = _cli(redis_url, "--requeue")
    assert text.stdout.splitlines()[-1] == (
        "1 dead letters; 0 queued again (attempts reset), 0 were queued or in flight already, "
        "1 kept (not a request)")


def test_drop_deletes_them_and_says_how_many(redis_url, r):
    frontier = Frontier(connect(redis_url), KEYS)
    _make_dead_letters(frontier)
    result = _cli(redis_url, "--drop")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "4 dead letters; 4 dropped"
    assert r.exists(KEYS.deadletter) == 0 and r.hget(KEYS.stats, "dead_letters_dropped") == "4"
    assert _cli(redis_url).stdout == "0 dead letters\n"


def test_requeue_and_drop_together_is_a_usage_error(redis_url):
    result = _cli(redis_url, "--requeue", "--drop")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().endswith("argument --drop: not allowed with argument --requeue")
