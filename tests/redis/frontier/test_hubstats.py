"""Hub counts for the metrics, read from a real Redis holding the registry's keys."""

from __future__ import annotations

import json

from crawler.base.keys import Keys
from crawler.frontier.hubstats import HubCounts, HubStats, hub_counts

KEYS = Keys("news")


def _hub(r, url: str, kind: str, *, due: float | None, retired_at: float | None = None) -> None:
    r.hset(KEYS.hubs, url, json.dumps({"url": url, "site": "site.example", "kind": kind,
                                       "interval": 300.0, "retired_at": retired_at}))
    if due is not None:
        r.zadd(KEYS.hubs_due, {url: due})


def _now(r) -> float:
    seconds, micros = r.time()
    return seconds + micros / 1e6


def test_counts_by_kind_retired_due_and_overdue(r):
    now = 1_700_000_000.0
    _hub(r, "https://s.example/", "home", due=now - 301)         # overdue
    _hub(r, "https://s.example/feed", "feed", due=now - 299)     # due, not overdue
    _hub(r, "https://s.example/atom", "feed", due=now)           # due this very second
    _hub(r, "https://s.example/world/", "front", due=now + 1)    # not due yet
    _hub(r, "https://s.example/sitemap.xml", "sitemap", due=None, retired_at=now - 5)
    assert hub_counts(r, KEYS, overdue_seconds=300, now=now) == HubCounts(
        by_kind={"home": 1, "front": 1, "feed": 2, "sitemap": 0, "news-sitemap": 0},
        retired=1, due=3, overdue=1)


def test_an_empty_crawl_has_every_kind_at_zero(r):
    assert hub_counts(r, KEYS, overdue_seconds=300) == HubCounts(
        by_kind=dict.fromkeys(("home", "front", "feed", "sitemap", "news-sitemap"), 0))


def test_entries_that_are_not_hub_states_are_counted_nowhere(r):
    _hub(r, "https://s.example/news.xml", "news-sitemap", due=_now(r) + 60)
    r.hset(KEYS.hubs, mapping={"https://s.example/a": "not json", "https://s.example/b": "[1, 2]",
                               "https://s.example/c": json.dumps({"kind": "podcast"})})
    counts = hub_counts(r, KEYS, overdue_seconds=300)
    assert counts.by_kind["news-sitemap"] == 1 and sum(counts.by_kind.values()) == 1
    assert (counts.retired, counts.due, counts.overdue) == (0, 0, 0)


def test_stats_count_kinds_once_per_period_and_due_times_on_every_read(r):
    clock = [0.0]
    stats = HubStats(r, KEYS, overdue_seconds=300, kinds_seconds=30, clock=lambda: clock[0])
    now = _now(r)
    _hub(r, "https://s.example/", "home", due=now - 400)
    first = stats.read()
    assert (first.by_kind["home"], first.due, first.overdue) == (1, 1, 1)
    _hub(r, "https://s.example/feed", "feed", due=now - 10)
    clock[0] = 29.0
    second = stats.read()  # kinds from the cache; due times read again
    assert (second.by_kind["home"], second.by_kind["feed"], second.due, second.overdue) == (1, 0, 2, 1)
    clock[0] = 30.0
    third = stats.read()
    assert (third.by_kind["home"], third.by_kind["feed"], third.due) == (1, 1, 2)
