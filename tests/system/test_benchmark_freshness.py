"""benchmarks/freshness.py measures from what the live site recorded, crawler or not."""

from __future__ import annotations

import urllib.error
import urllib.request

from benchmarks.freshness import measure
from crawler.demo import serve

START = 1_800_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _get(url: str, etag: str | None = None) -> str | None:
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["ETag"]
    except urllib.error.HTTPError as error:
        with error:
            assert error.code == 304
            return etag


def test_delays_misses_and_hub_fetches_come_from_the_site_record():
    clock = Clock(START)
    with serve(live=True, publish_every=10, seed=1, clock=clock) as site:
        base = site.base_url
        etag = _get(base + "/")  # 200
        stories = [site.schedule.new_story(k) for k in range(4)]  # live at +10, +20, +30, +40
        clock.now = START + 13
        assert _get(base + "/", etag) != etag  # 200: story 0 is on the home page
        urllib.request.urlopen(base + stories[0].path).close()  # fetched 3 s after going live
        clock.now = START + 27
        urllib.request.urlopen(base + stories[1].path).close()  # 7 s
        etag = _get(base + "/tech/feed.rss")
        _get(base + "/tech/feed.rss", etag)  # 304
        clock.now = START + 45
        urllib.request.urlopen(base + stories[3].path).close()  # 5 s, but after stop - grace
        figures = measure(site.truth(START + 45), stop=START + 45, grace=10)
    assert (figures.stories, figures.considered, figures.fetched, figures.missed) == (4, 3, 2, 1)
    assert (figures.median_delay, figures.p95_delay) == (5.0, 7.0)
    assert (figures.hub_fetches_200, figures.hub_fetches_304) == (3, 1)
    assert figures.hub_fetches_by_kind == {"feed": {"200": 1, "304": 1}, "home": {"200": 2, "304": 0}}
    assert figures.hub_fetches_per_story == 1.0
