"""A page slow to read costs no live worker its leases or its health (issue 10, item 7).

Two real workers crawl a local site with short leases (3 s, renewed every
second): a worker that stalls past its lease has it taken back by the other,
which counts it as expired, and a worker whose reactor stalls answers /healthz
with 503. Before, a page was read on the reactor thread: a hostile page (or
any page slow to read) stopped lease renewal, heartbeats and /healthz for as
long as it took (2,000 "More" blocks: 17 s), and the request went from worker
to worker until it was set aside as a dead letter.
"""

from __future__ import annotations

from benchmarks.hostile import PAGES, build, crawl, measure
from tests.support.fakeweb import article_html

LEASE = 3.0
# Pages that took 5 to 20 s to read before (extraction and links), well under 1 s now.
HOSTILE = ("more_blocks_2000", "unclosed_tags", "many_brs", "links_100k")


def assert_no_lease_lost(result: dict, articles: list[str]) -> None:
    logs = "\n".join(log[-4000:] for log in result["logs"])
    assert result["exit_codes"] == [0, 0], logs
    assert (result["leases_expired"], result["leases_lost"], result["dead_letters"]) == (0, 0, 0), logs
    assert result["max_heartbeat_gap"] < LEASE, logs
    assert result["healthz_checks"] > 10
    assert result["healthz_failures"] == [], logs
    assert result["articles"] == sorted(articles)


def test_hostile_pages_cost_no_live_worker_its_leases(redis_url):
    result = crawl({name: build(name) for name in HOSTILE}, redis_url=redis_url, workers=2, lease=LEASE,
                   timeout=180)
    assert_no_lease_lost(result, [f"{result['base']}/{name}.html" for name in HOSTILE])


def test_a_page_slow_to_read_costs_no_live_worker_its_leases(redis_url):
    # Reading /slow/story.html takes 8 s (tests/support/slow_news.py), over twice the lease.
    pages = {name: article_html(f"Story {name}", "Text of the story.").encode()
             for name in ("slow/story", "story-a", "story-b")}
    result = crawl(pages, redis_url=redis_url, workers=2, lease=LEASE,
                   settings=("SPIDER_MODULES=tests.support.slow_news", "METRICS_HEALTHZ_STALL_SECONDS=2"),
                   timeout=180)
    assert_no_lease_lost(result, [f"{result['base']}/{name}.html" for name in pages])


def test_no_hostile_page_of_the_benchmark_runs_away():
    # Each page in a child process (benchmarks/hostile.py), killed after 30 s: before, nine
    # of them were. CPU time, with a margin over the 1 s goal that benchmarks/hostile.py
    # measures: a shared machine's caches slow CPU time too.
    slow = {}
    for name in PAGES:
        result = measure(name, runs=1, timeout=30)
        if result.cpu is None or result.cpu > 5.0:
            slow[name] = result.cpu
    assert slow == {}
