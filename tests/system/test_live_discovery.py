"""End to end, continuous discovery: two workers left running on the live demo site
capture every story once, through each path (feeds, news sitemap, fronts, "More" blocks).

Seeded with the home page only: the workers must find the feeds (autodiscovery),
the sitemaps (robots.txt), the section fronts and revisit them as stories go live.
"""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime

import pytest

from crawler.base.counters import DISCOVERY_PATHS
from crawler.demo import serve
from crawler.demo.stories import ONLY_KINDS
from tests.support.workers import cli, export, start_worker, wait

# The hub schedule (crawler/frontier/hubs.py) and the discovery layer are issue 11's
# other halves: without them no worker revisits anything, and this test cannot pass.
pytest.importorskip("crawler.frontier.hubs", reason="continuous discovery (hubs) is not in this tree")
pytest.importorskip("crawler.discovery.feeds", reason="continuous discovery (feeds) is not in this tree")

PUBLISH_EVERY = 2.0
RUN_SECONDS = 60
#: A story must have been reachable this long before the workers were stopped to be expected.
MARGIN = 15.0
SETTINGS = ["-s", "FRONTIER_REVISIT_MIN=2", "-s", "FRONTIER_REVISIT_MAX=20", "-s", "FRONTIER_HOST_DELAY=0.05"]


def _unix(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def test_two_workers_left_running_store_every_story_once_through_its_path(redis_url):
    with serve(live=True, publish_every=PUBLISH_EVERY, seed=11) as site:
        seeded = cli(redis_url, "seed", site.base_url + "/")
        assert (seeded.returncode, json.loads(seeded.stdout)["accepted"]) == (0, 1), seeded.stderr
        workers = [start_worker(redis_url, *SETTINGS) for _ in range(2)]
        try:
            time.sleep(RUN_SECONDS)  # the length of the run, not a measurement
        finally:
            stop = time.time()
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            results = [wait(proc, timeout=90) for proc in workers]
        truth = site.truth(stop)
    for code, log in results:
        assert code == 0, log[-3000:]

    stories = {s["url"]: s for s in truth["stories"]}
    expected = {url: s for url, s in stories.items()
                if s["linked_at"] is not None and s["linked_at"] <= stop - MARGIN}
    assert {s["only"] for s in expected.values()} >= set(ONLY_KINDS)
    assert len([s for s in expected.values() if not s["backlog"]]) >= (RUN_SECONDS - MARGIN) / PUBLISH_EVERY - 2

    articles = export(redis_url)
    stored: dict[str, dict] = {}
    for article in articles:
        assert article["url"] not in stored, f"stored twice: {article['url']}"
        stored[article["url"]] = article
    assert set(stored) <= set(stories), sorted(set(stored) - set(stories))
    missing = sorted(set(expected) - set(stored))
    assert not missing, [(expected[url]["only"], url) for url in missing]

    for url, story in expected.items():
        article = stored[url]
        assert article["title"] == story["headline"], url
        assert _unix(article["published"]) == story["live_at"], url
        assert article["discovered_via"] in DISCOVERY_PATHS, article["discovered_via"]
        # Through the one path that leads to it, or one of the paths of an ordinary story.
        assert article["discovered_via"] in story["paths"], (url, article["discovered_via"], story["paths"])
        if story["only"]:
            assert article["discovered_via"] == story["only"], url
        discovered = _unix(article["discovered_at"])
        assert discovered <= _unix(article["crawled_at"]), url
        if not story["backlog"]:
            assert discovered >= story["linked_at"] - 1, url  # never before a page linked it
        assert story["first_fetched"] is not None, url

    # The workers revisited the hubs, with validators: some revisits were answered 304.
    counts = truth["hub_fetch_counts"]
    assert all(counts[kind]["200"] > 0 for kind in ("home", "front", "feed", "sitemap", "news-sitemap")), counts
    assert sum(c["304"] for c in counts.values()) > 0, counts
