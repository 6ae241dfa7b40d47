"""Properties of the feed and sitemap parsers over generated bodies (hypothesis): whatever
the bytes, each raises nothing but its own error, and what it returns holds only absolute
http(s) URLs, once each, within the cap, with aware UTC dates."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.discovery.feeds import FeedError, parse_feed
from crawler.discovery.pages import feed_links, is_front, is_paginated
from crawler.discovery.sitemaps import SitemapError, parse_sitemap
from tests.support.strategies import hub_bodies, urls

URL = "http://127.0.0.1:8000/hub"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_entries(entries, cap):
    urls_seen = [entry.url for entry in entries]
    assert len(urls_seen) == len(set(urls_seen)) <= cap
    for entry in entries:
        assert entry.url.split(":", 1)[0] in ("http", "https") and "#" not in entry.url
        for date in (getattr(entry, "published", None), getattr(entry, "lastmod", None)):
            assert date is None or date.utcoffset() == timedelta(0)


@SETTINGS
@given(body=hub_bodies(), cap=st.integers(1, 5))
def test_parse_feed_raises_only_feed_error(body, cap):
    try:
        feed = parse_feed(body, URL, max_entries=cap)
    except FeedError:
        return
    _check_entries(feed.entries, cap)
    assert feed.truncated >= 0 and feed.skipped >= 0


@SETTINGS
@given(body=hub_bodies(), cap=st.integers(1, 5))
def test_parse_sitemap_raises_only_sitemap_error(body, cap):
    try:
        sitemap = parse_sitemap(body, URL, max_entries=cap)
    except SitemapError:
        return
    assert sitemap.kind in ("urlset", "index")
    _check_entries(sitemap.entries, cap)
    assert sitemap.truncated in (0, 1)


@SETTINGS
@given(page=st.one_of(hub_bodies(), st.text(max_size=200)), url=urls())
def test_page_rules_never_raise(page, url):
    for link in feed_links(page, URL):
        assert link.startswith(("http://", "https://"))
    assert is_paginated(url) in (True, False)
    assert is_front(url, [(url, "four words in here"), ("/x", "a b c d")], is_article=False) in (True, False)
