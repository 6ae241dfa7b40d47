"""``crawler sources``, the hubs in ``crawler status``, and a worker's lifetime with hubs, as a
user runs them: the CLI and workers as processes, a private redis-server, a local HTTP site."""

from __future__ import annotations

import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from crawler.base.keys import Keys
from crawler.frontier.config import FrontierConfig
from crawler.frontier.hubs import HubRegistry
from tests.support.workers import cli, start_worker, wait

KEYS = Keys("news")
SITE = "https://news.example.com"


def _sources(redis_url: str) -> dict[str, dict]:
    result = cli(redis_url, "sources", "--json")
    assert result.returncode == 0, result.stderr
    return {hub["url"]: hub for hub in json.loads(result.stdout)["hubs"]}


def test_seeding_a_home_page_registers_it_as_a_hub_due_one_interval_later(redis_url, r):
    result = cli(redis_url, "seed", f"{SITE}/", f"{SITE}/world/story-1", f"{SITE}/?utm_source=x")
    assert result.returncode == 0, result.stderr
    hubs = _sources(redis_url)
    assert list(hubs) == [f"{SITE}/"]  # the tracking parameter makes no second hub
    hub = hubs[f"{SITE}/"]
    assert (hub["kind"], hub["site"], hub["interval"], hub["visits"]) == ("home", "example.com", 300.0, 0)
    assert 270 <= hub["next_due"] - hub["added_at"] <= 330  # the seed is its first visit
    assert r.zcard(KEYS.hubs_queued) == 0


def test_sources_add_guesses_the_kind_lists_and_removes(redis_url, r):
    for url, kind in ((f"{SITE}/feed.xml", "feed"), (f"{SITE}/rss/world", "feed"),
                      (f"{SITE}/sitemap_index.xml", "sitemap"), (f"{SITE}/", "home"),
                      (f"{SITE}/world/", "front")):
        result = cli(redis_url, "sources", "add", url)
        assert (result.returncode, result.stdout.strip()) == (0, f"added {kind} {url}"), result.stderr
    result = cli(redis_url, "sources", "add", f"{SITE}/news.xml", "--kind", "news-sitemap", "--json")
    assert json.loads(result.stdout) == {"url": f"{SITE}/news.xml", "kind": "news-sitemap", "added": True}
    again = cli(redis_url, "sources", "add", f"{SITE}/world/", "--kind", "feed")
    assert (again.returncode, again.stdout.strip()) == (0, f"already a hub, unchanged: feed {SITE}/world/")
    assert _sources(redis_url)[f"{SITE}/world/"]["kind"] == "front"
    assert r.smembers(KEYS.hosts) == {"news.example.com"}

    table = cli(redis_url, "sources")
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert "6 hubs" in lines[0]
    for column in ("url", "site", "kind", "interval", "last visit", "last change", "new links",
                   "next due", "failures"):
        assert column in lines[2]
    assert sum(f"{SITE}/" in line for line in lines) == 6

    removed = cli(redis_url, "sources", "remove", f"{SITE}/rss/world")
    assert (removed.returncode, removed.stdout.strip()) == (0, f"removed {SITE}/rss/world")
    unknown = cli(redis_url, "sources", "remove", f"{SITE}/rss/world")
    assert (unknown.returncode, unknown.stdout.strip()) == (1, f"not a hub: {SITE}/rss/world")
    assert len(_sources(redis_url)) == 5


@pytest.mark.parametrize("args, error", [
    (["add", f"{SITE}/blog", "--kind", "blog"],
     "crawler sources: error: unknown kind 'blog': one of home, front, feed, sitemap, news-sitemap"),
    (["add", "ftp://news.example.com/feed"], "crawler sources: error: ftp://news.example.com/feed: "
                                             "scheme must be http or https"),
    (["remove", "http:///feed"], "crawler sources: error: http:///feed: url has no host"),
])
def test_sources_refuses_bad_urls_and_kinds_in_one_line(redis_url, args, error):
    result = cli(redis_url, "sources", *args)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (2, error, "")


def test_a_retired_hub_is_shown_and_sources_add_reactivates_it(redis_url, r):
    hubs = HubRegistry(r, KEYS, FrontierConfig(hub_max_failures=2))
    hubs.add(f"{SITE}/feed.xml", "feed")
    hubs.record_visit(f"{SITE}/feed.xml", result="error")
    hubs.record_visit(f"{SITE}/feed.xml", result="error")
    hub = _sources(redis_url)[f"{SITE}/feed.xml"]
    assert (hub["failures"], hub["next_due"], hub["retired_at"] is not None) == (2, None, True)
    assert "retired" in cli(redis_url, "sources").stdout
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert (status["hubs"]["retired"], status["hubs"]["active"]) == (1, 0)

    result = cli(redis_url, "sources", "add", f"{SITE}/feed.xml")
    assert result.stdout.strip() == f"added feed {SITE}/feed.xml"
    hub = _sources(redis_url)[f"{SITE}/feed.xml"]
    assert (hub["failures"], hub["retired_at"]) == (0, None) and hub["next_due"] is not None


def test_status_shows_hubs_and_freshness(redis_url, r):
    hubs = HubRegistry(r, KEYS, FrontierConfig())
    hubs.add(f"{SITE}/feed.xml", "feed")
    hubs.add(f"{SITE}/", "home", delay=3600)
    hubs.add(f"{SITE}/news.xml", "news-sitemap")
    r.zadd(KEYS.hubs_due, {f"{SITE}/news.xml": hubs.now() - 600})  # overdue: past FRONTIER_REVISIT_OVERDUE
    now = time.time()

    def iso(t):
        return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(t))

    for published, crawled in ((iso(now - 700), iso(now - 400)), (iso(now - 1000), iso(now - 100)),
                               (iso(now - 200), iso(now - 60)), ("2026-05-05T00:00:00+00:00", iso(now - 50))):
        r.xadd(KEYS.articles, {"article": json.dumps({"url": "x", "published": published, "crawled_at": crawled})})
    status = json.loads(cli(redis_url, "status", "--json").stdout)
    assert status["hubs"]["by_kind"] == {"home": 1, "front": 0, "feed": 1, "sitemap": 0, "news-sitemap": 1}
    assert (status["hubs"]["due_now"], status["hubs"]["overdue"], status["hubs"]["retired"]) == (2, 1, 0)
    assert 3500 < status["hubs"]["next_due_in"] <= 3600
    fresh = status["freshness"]
    # delays 300, 900, 140 s (the bare date names no time): median 300
    assert (fresh["median_capture_delay_seconds"], fresh["capture_delays_sampled"],
            fresh["articles_sampled"]) == (300.0, 3, 4)
    assert 49 <= fresh["newest_article_age_seconds"] < 120
    text = cli(redis_url, "status").stdout
    assert "hubs" in text and "1 overdue" in text and "median 5 min from publication" in text


class _Site(BaseHTTPRequestHandler):
    fetched: list[str] = []

    def do_GET(self):
        type(self).fetched.append(self.path)
        body = b"<html><head><title>Feed</title></head><body><p>nothing new</p></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    _Site.fetched = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_worker_without_until_idle_stays_up_and_fetches_a_hub_when_it_falls_due(redis_url, r, site):
    cli(redis_url, "sources", "add", f"{site}/later.xml", "--kind", "feed")
    HubRegistry(r, KEYS).add(f"{site}/soon.xml", "feed", delay=8)
    r.zadd(KEYS.hubs_due, {f"{site}/later.xml": HubRegistry(r, KEYS).now() + 3600})
    worker = start_worker(redis_url)
    deadline = time.monotonic() + 90
    while "/soon.xml" not in _Site.fetched and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.5)
    assert worker.poll() is None, wait(worker)[1][-3000:]  # idle for seconds before the hub fell due
    assert [path for path in _Site.fetched if path != "/robots.txt"] == ["/soon.xml"]
    # queued once, fetched once, its lease acknowledged; the hub not yet due stays out of the queue
    while r.zcard(KEYS.inflight) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert (int(r.get(KEYS.queued) or 0), r.zcard(KEYS.inflight)) == (0, 0)
    worker.send_signal(signal.SIGTERM)
    code, log = wait(worker, 60)
    assert code == 0, log[-3000:]


def test_hubs_not_yet_due_do_not_keep_an_until_idle_worker_running(redis_url, r, site):
    HubRegistry(r, KEYS).add(f"{site}/later.xml", "feed", delay=3600)
    worker = start_worker(redis_url, "--until-idle", "2")
    code, log = wait(worker, 90)
    assert code == 0, log[-3000:]
    assert [path for path in _Site.fetched if path != "/robots.txt"] == []
