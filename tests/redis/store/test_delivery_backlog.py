"""crawler.store.delivery: the backlog of each consumer group, and the undelivered count."""

from __future__ import annotations

from crawler.base.keys import Keys
from crawler.store.delivery import backlog, delivery_status, ensure_group, undelivered_backlog

KEYS = Keys("news")


def _add(r, n: int, start_ms: int = 1_000_000) -> list[str]:
    return [r.xadd(KEYS.articles, {"article": "{}"}, id=f"{start_ms + i}-0") for i in range(n)]


def test_no_stream_no_group(r):
    assert undelivered_backlog(r, KEYS) == 0
    status = delivery_status(r, KEYS)
    assert (status.length, status.groups) == (0, {})


def test_without_a_group_every_entry_is_undelivered(r):
    _add(r, 5)
    assert undelivered_backlog(r, KEYS) == 5
    assert backlog(r, KEYS) == {}


def test_each_group_counts_unread_and_pending_and_the_largest_is_undelivered(r):
    ids = _add(r, 10)
    assert ensure_group(r, KEYS, "files") is True
    assert ensure_group(r, KEYS, "files") is False
    ensure_group(r, KEYS, "db")
    assert backlog(r, KEYS)["files"][0] == 10
    # "files" reads 4 and acknowledges 3 of them; "db" reads 8 and acknowledges all.
    r.xreadgroup("files", "c1", {KEYS.articles: ">"}, count=4)
    r.xack(KEYS.articles, "files", *ids[:3])
    r.xreadgroup("db", "c2", {KEYS.articles: ">"}, count=8)
    r.xack(KEYS.articles, "db", *ids[:8])
    status = delivery_status(r, KEYS)
    assert status.length == 10
    assert {name: (g.backlog, g.pending, g.consumers) for name, g in status.groups.items()} == {
        "files": (7, 1, 1), "db": (2, 0, 1)}
    assert undelivered_backlog(r, KEYS) == 7
    # The oldest entry "files" has not acknowledged is ids[3] (pending), "db"'s is ids[8]
    # (unread): ages from the ids' milliseconds, 5 ms apart.
    ages = backlog(r, KEYS)
    assert round(ages["files"][1] - ages["db"][1], 3) == 0.005
    assert ages["files"][1] > 1e9  # the ids are from 1970


def test_a_group_with_everything_acknowledged_has_no_backlog_and_no_age(r):
    ids = _add(r, 3)
    ensure_group(r, KEYS, "files")
    r.xreadgroup("files", "c1", {KEYS.articles: ">"}, count=10)
    r.xack(KEYS.articles, "files", *ids)
    assert backlog(r, KEYS) == {"files": (0, 0.0)}
    assert undelivered_backlog(r, KEYS) == 0


def test_works_without_decode_responses(redis_url):
    import redis

    raw = redis.Redis.from_url(redis_url)
    raw.xadd(KEYS.articles, {"article": "{}"})
    ensure_group(raw, KEYS, "files")
    assert backlog(raw, KEYS).keys() == {"files"}
    assert undelivered_backlog(raw, KEYS) == 1
