"""HubReader on a real redis-server: what a hub visit queues, counts and records."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta, timezone

import pytest
from scrapy.http import Request, TextResponse
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.base.counters import Stat, hub_visit_stat
from crawler.base.keys import Keys
from crawler.frontier.codec import decode_request
from crawler.frontier.config import FrontierConfig
from crawler.frontier.core import Frontier
from crawler.frontier.hubs import HubRegistry
from crawler.worker.hubs import MAX_SITEMAP_DEPTH, HubReader
from tests.support.spiders import CallbackSpider

KEYS = Keys("news")
CONFIG = FrontierConfig(host_delay=0.0, revisit_min=300.0, revisit_max=86400.0, max_article_age=2 * 86400.0)
SITE = "http://news.example"
NOW = datetime.now(timezone.utc)


@pytest.fixture
def reader(r):
    frontier = Frontier(r, KEYS, config=CONFIG)
    frontier.add_hosts(["news.example"])
    stats = MemoryStatsCollector(get_crawler(CallbackSpider))
    return HubReader(frontier, HubRegistry(r, KEYS, CONFIG), stats, max_article_age=CONFIG.max_article_age,
                     priority=50, hub_max_bytes=2**20)


def _response(reader, url, kind, body, cls=TextResponse, **meta):
    payload = reader.registry.request(url)
    request = decode_request(payload, CallbackSpider()) if payload else Request(url, meta={"hub": kind})
    request = request.replace(meta={**request.meta, **meta})
    return cls(url, body=body, request=request, headers={"ETag": '"v1"'}, encoding="utf-8")


def _rss(*items):
    entries = "".join(f"<item><title>t</title><link>{link}</link><pubDate>{date}</pubDate></item>"
                      for link, date in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>{entries}</channel></rss>'.encode()


def _rfc822(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def _queued_urls(r):
    urls = []
    for key in r.scan_iter(KEYS.queue_prefix + "*"):
        urls += [json.loads(item)["url"] for item in r.zrange(key, 0, -1)]
    return sorted(urls)


def test_a_feed_visit_queues_fresh_links_of_the_site_and_records_them(reader, r):
    feed = f"{SITE}/feed.xml"
    reader.registry.add(feed, "feed")
    body = _rss((f"{SITE}/a.html", _rfc822(NOW)), (f"{SITE}/b.html", _rfc822(NOW - timedelta(days=5))),
                ("http://other.example/c.html", _rfc822(NOW)), (f"{SITE}/d.html", ""))
    response = _response(reader, feed, "feed", body)
    reading = reader.read(response, "feed", allowed=reader.frontier.hosts())
    assert [link.url for link in reading.links] == [f"{SITE}/a.html", f"{SITE}/d.html"]
    assert reader.visit(response, reading, CallbackSpider()) == []
    assert _queued_urls(r) == [f"{SITE}/a.html", f"{SITE}/d.html"]
    stats = reader.stats.get_stats()
    assert stats[Stat.HUB_ENTRIES_TOO_OLD] == 1 and stats[Stat.HUB_ENTRIES_OFFSITE] == 1
    assert stats[hub_visit_stat("feed", "changed")] == 1 and stats[Stat.HUB_ENTRIES_QUEUED] == 2
    hub = reader.registry.get(feed)
    assert (hub.last_result, hub.new_links, hub.etag) == ("changed", 2, '"v1"')
    queued = [json.loads(item) for key in r.scan_iter(KEYS.queue_prefix + "*") for item in r.zrange(key, 0, -1)]
    assert {item["meta"]["discovered_via"] for item in queued} == {"feed"}
    assert all(item["priority"] == 50 for item in queued)

    # The next visit sends the validator and the body's hash; the same bytes again are
    # not parsed and count as unchanged.
    again = _response(reader, feed, "feed", body)
    assert again.request.headers.get("If-None-Match") == b'"v1"'
    reading = reader.read(again, "feed", allowed=reader.frontier.hosts())
    assert reading.links == []
    reader.visit(again, reading, CallbackSpider())
    assert reader.registry.get(feed).last_result == "unchanged"
    assert reader.registry.get(feed).interval > hub.interval


def test_links_already_seen_make_an_unchanged_visit(reader, r):
    feed = f"{SITE}/feed.xml"
    reader.registry.add(feed, "feed")
    for n, extra in enumerate(["", "<!-- a clock: 12:00:01 -->"]):
        body = _rss((f"{SITE}/a.html", _rfc822(NOW))).replace(b"</rss>", extra.encode() + b"</rss>")
        response = _response(reader, feed, "feed", body)
        reader.visit(response, reader.read(response, "feed", allowed={"news.example"}), CallbackSpider())
    hub = reader.registry.get(feed)
    assert (hub.visits, hub.last_result, hub.new_links, hub.total_new_links) == (2, "unchanged", 0, 1)


def test_a_sitemap_that_is_a_news_sitemap_becomes_one(reader, r):
    url = f"{SITE}/sitemap.xml"
    reader.registry.add(url, "sitemap")
    body = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>{SITE}/n.html</loc>'
            f'<news:news><news:publication_date>{NOW.isoformat()}</news:publication_date></news:news>'
            f'</url></urlset>').encode()
    response = _response(reader, url, "sitemap", gzip.compress(body))
    reading = reader.read(response, "sitemap", allowed={"news.example"})
    reader.visit(response, reading, CallbackSpider())
    hub = reader.registry.get(url)
    assert (hub.kind, hub.last_result) == ("news-sitemap", "changed")
    assert _queued_urls(r) == [f"{SITE}/n.html"]


def test_a_sitemap_index_queues_fresh_children_and_stops_nesting(reader, r):
    url = f"{SITE}/index.xml"
    reader.registry.add(url, "sitemap")
    old = (NOW - timedelta(days=30)).isoformat()
    body = (f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f'<sitemap><loc>{url}</loc></sitemap>'
            f'<sitemap><loc>{SITE}/new.xml</loc><lastmod>{NOW.isoformat()}</lastmod></sitemap>'
            f'<sitemap><loc>{SITE}/old.xml</loc><lastmod>{old}</lastmod></sitemap></sitemapindex>').encode()
    response = _response(reader, url, "sitemap", body)
    reading = reader.read(response, "sitemap", allowed={"news.example"})
    assert reading.children == [f"{SITE}/new.xml"]
    reader.visit(response, reading, CallbackSpider())
    (child,) = [json.loads(item) for key in r.scan_iter(KEYS.queue_prefix + "*") for item in r.zrange(key, 0, -1)]
    assert (child["url"], child["meta"]["hub_child"], child["meta"]["sitemap_depth"]) == (f"{SITE}/new.xml", True, 1)
    deep = _response(reader, url, "sitemap", body, sitemap_depth=MAX_SITEMAP_DEPTH)
    assert reader.read(deep, "sitemap", allowed={"news.example"}).children == []


def test_a_broken_feed_and_a_failed_fetch_are_errors_that_back_off(reader, r):
    feed = f"{SITE}/feed.xml"
    reader.registry.add(feed, "feed")
    response = _response(reader, feed, "feed", b"\x00\x01 not a feed", cls=TextResponse)
    reading = reader.read(response, "feed", allowed={"news.example"})
    assert reading.error
    reader.visit(response, reading, CallbackSpider())
    assert reader.registry.get(feed).failures == 1
    reader.failed(Request(feed, meta={"hub": "feed"}), "HttpError: 404")
    hub = reader.registry.get(feed)
    assert (hub.failures, hub.last_result) == (2, "error")
    assert reader.stats.get_value(Stat.HUB_PARSE_ERRORS) == 1
    assert reader.stats.get_value(hub_visit_stat("feed", "error")) == 2


def test_feeds_and_fronts_found_are_registered_once(reader, r):
    assert reader.discover([(f"{SITE}/rss", "feed"), (f"{SITE}/rss", "feed")]) == 1
    assert reader.discover([(f"{SITE}/rss", "feed")]) == 0
    assert reader.stats.get_value(Stat.HUB_DISCOVERED + "feed") == 1
    assert [hub.kind for hub in reader.registry.all()] == ["feed"]
