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


def test_visits_queued_and_not_yet_recorded_stay_due_once(redis_url, r):
    """A released visit waits in its host's queue: HUBS_DUE moved its due time to when it may
    be queued again, yet it is due (and overdue, once queued long enough) until recorded;
    a lost visit, whose due time came back, counts once."""
    from crawler.frontier.config import FrontierConfig
    from crawler.frontier.hubs import HubRegistry
    from crawler.frontier.revisit import requeue_after

    config = FrontierConfig(redis_url=redis_url)
    registry = HubRegistry(r, KEYS, config)
    for n in range(3):
        registry.add(f"https://s.example/feed{n}", "feed")
    assert registry.release_due() == 3
    now = _now(r)
    assert hub_counts(r, KEYS, overdue_seconds=300, now=now).due == 3
    r.zadd(KEYS.hubs_queued, {"https://s.example/feed0": now - 400})  # queued 400 s ago: overdue
    lost = now - requeue_after(config) - 10  # queued so long ago that it is lost
    r.zadd(KEYS.hubs_queued, {"https://s.example/feed1": lost})
    r.zadd(KEYS.hubs_due, {"https://s.example/feed1": lost + requeue_after(config)})
    counts = hub_counts(r, KEYS, overdue_seconds=300, requeue_after=requeue_after(config), now=now)
    assert (counts.due, counts.overdue) == (3, 2)
    assert (registry.counts().due, registry.counts().overdue) == (3, 2)


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
