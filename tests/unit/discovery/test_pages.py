"""Feed autodiscovery, pagination, section fronts and entry freshness
(crawler/discovery/pages.py), and the date rule they share (crawler/discovery/dates.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import lxml.html
import pytest
from parsel import Selector
from scrapy.http import HtmlResponse

from crawler.discovery.dates import parse_w3c_datetime
from crawler.discovery.pages import entry_is_fresh, feed_links, is_front, is_paginated

PAGE = "http://127.0.0.1:8000/world/"
HEAD = b"""<html><head><title>World</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/rss+xml" title="World news" href="feed.xml">
<link rel="Alternate Feed" type="application/atom+xml; charset=utf-8" href="http://127.0.0.1:8000/atom.xml">
<link rel="alternate" type="application/rss+xml" title="Comments Feed" href="/comments/feed/">
<link rel="alternate" type="application/rss+xml" href="/world/story-1/comments/">
<link rel="alternate" type="application/json+oembed" href="/oembed?url=x">
<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/7">
<link rel="alternate" type="application/feed+json" title="JSON" href="/feed.json">
<link rel="alternate" hreflang="fr" href="/fr/monde/">
<link rel="alternate" type="application/rss+xml" href="feed.xml#again">
<link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
</head><body><p>x</p></body></html>"""
FEEDS = ["http://127.0.0.1:8000/world/feed.xml", "http://127.0.0.1:8000/atom.xml", "http://127.0.0.1:8000/feed.json"]


@pytest.mark.parametrize("form", ["bytes", "str", "lxml", "tree", "selector", "response"])
def test_feed_links_from_every_form_of_page(form):
    page = {"bytes": HEAD, "str": HEAD.decode(), "lxml": lxml.html.fromstring(HEAD),
            "tree": lxml.html.fromstring(HEAD).getroottree(), "selector": Selector(body=HEAD),
            "response": HtmlResponse(PAGE, body=HEAD, encoding="utf-8")}[form]
    assert feed_links(page, PAGE) == FEEDS


def test_feed_links_honour_base_href():
    page = b'<html><head><base href="/news/"><link rel=alternate type=application/rss+xml href=rss></head></html>'
    assert feed_links(page, PAGE) == ["http://127.0.0.1:8000/news/rss"]


def test_json_is_a_feed_only_with_a_title_naming_one():
    page = b'<link rel=alternate type=application/json title="Site feed" href=/feed/json>'
    assert feed_links(page, PAGE) == ["http://127.0.0.1:8000/feed/json"]


@pytest.mark.parametrize("page", [b"", "", b"\x00\xff\xfe", None, 42, b"<html></html>", Selector(text="{}", type="json")])
def test_feed_links_of_nothing_readable_is_empty(page):
    assert feed_links(page, PAGE) == []


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/page/5/", "http://127.0.0.1/world/page/5", "http://127.0.0.1/world/?page=3",
    "http://127.0.0.1/search?q=x&p=2", "http://127.0.0.1/world/?p=2", "http://127.0.0.1/p/2/",
    "http://127.0.0.1/world-page-3", "http://127.0.0.1/world/page3.html", "http://127.0.0.1/world/page_12/",
    "http://127.0.0.1/world/2/", "http://127.0.0.1/world/?start=20", "http://127.0.0.1/world/?offset=40",
    "http://127.0.0.1/seite/2", "http://127.0.0.1/world/page/2/index.html", "http://127.0.0.1/x?PAGE=2",
])
def test_later_pages_of_a_listing_are_paginated(url):
    assert is_paginated(url) is True


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.0.0.1/world/", "http://127.0.0.1/world/?page=1", "http://127.0.0.1/page/1/",
    "http://127.0.0.1/?p=123", "http://127.0.0.1/?p=2", "http://127.0.0.1/2024/05/01/story",
    "http://127.0.0.1/world/2024/05/01/", "http://127.0.0.1/world/12345/story", "http://127.0.0.1/world/12345",
    "http://127.0.0.1/news/story-123", "http://127.0.0.1/world/page-one-of-history",
    "http://127.0.0.1/2024/05/", "http://127.0.0.1/world/2024/", "http://127.0.0.1/a1/2/",
    "http://127.0.0.1/world/?page=x", "http://127.0.0.1/world/?start=0", "http://[::1/x", "",
    "http://127.0.0.1/world/story-2", "http://127.0.0.1/video/3d-printing",
])
def test_first_pages_articles_and_dates_are_not_paginated(url):
    assert is_paginated(url) is False


HEADLINES = [(f"/world/story-{n}", f"Ministers agree on plan number {n}") for n in range(5)]


def test_a_listing_with_five_headline_links_is_a_front():
    assert is_front(PAGE, HEADLINES, is_article=False) is True


def test_a_front_needs_five_distinct_same_site_headlines():
    four = HEADLINES[:4]
    assert is_front(PAGE, four, is_article=False) is False
    assert is_front(PAGE, four + [("/world/story-0#more", "Ministers agree on plan number 0")], is_article=False) is False
    assert is_front(PAGE, four + [("http://elsewhere.example/a", "A headline on another site")], is_article=False) is False
    assert is_front(PAGE, four + [("/world/", "A link to this very page")], is_article=False) is False
    assert is_front(PAGE, four + [("/world/more", "Read more")], is_article=False) is False
    assert is_front(PAGE, four + [("mailto:desk@127.0.0.1", "Write to the world desk")], is_article=False) is False
    assert is_front(PAGE, four + [("/x", "http://127.0.0.1:8000/world/x")], is_article=False) is False
    assert is_front(PAGE, four + [("/world/story-9", "  Storm  closes\n the   harbour  ")], is_article=False) is True
    assert is_front(PAGE, four + [("http://127.0.0.1:9/other", "A headline on another port")], is_article=False) is True
    assert is_front(PAGE, four + [("/world/cjk", "東京で新しい駅が開業")], is_article=False) is True


def test_articles_paginated_listings_and_the_home_page_are_no_fronts():
    assert is_front("http://127.0.0.1:8000/world/story-1", HEADLINES, is_article=True) is False
    assert is_front("http://127.0.0.1:8000/world/page/2/", HEADLINES, is_article=False) is False
    assert is_front("http://127.0.0.1:8000/", HEADLINES, is_article=False) is False
    assert is_front("ftp://127.0.0.1:8000/world/", HEADLINES, is_article=False) is False
    assert is_front(PAGE, HEADLINES[:3], is_article=False, min_headlines=3) is True


NOW = datetime(2025, 5, 3, 12, tzinfo=timezone.utc)
DAY = 86400.0


def test_entry_freshness_at_the_edge_of_max_age():
    assert entry_is_fresh(None, NOW, DAY) is True
    assert entry_is_fresh(NOW - timedelta(days=1), NOW, DAY) is True
    assert entry_is_fresh(NOW - timedelta(days=1, seconds=1), NOW, DAY) is False
    assert entry_is_fresh(NOW + timedelta(hours=3), NOW, DAY) is True
    assert entry_is_fresh(NOW - timedelta(hours=3), NOW.timestamp(), DAY) is True
    assert entry_is_fresh(datetime(2025, 5, 1, 12), NOW, 2 * DAY) is True  # naive: UTC
    assert entry_is_fresh(datetime(2025, 5, 1, 11, 59), NOW, 2 * DAY) is False
    tokyo = timezone(timedelta(hours=9))
    assert entry_is_fresh(datetime(2025, 5, 2, 21, tzinfo=tokyo), NOW, DAY) is True  # 12:00 UTC on the 2nd


@pytest.mark.parametrize(("text", "expected"), [
    ("2025-05-01", datetime(2025, 5, 1, tzinfo=timezone.utc)),
    ("2025-05-01T10:00:00+05:30", datetime(2025, 5, 1, 4, 30, tzinfo=timezone.utc)),
    ("2025-05-01T10:00Z", datetime(2025, 5, 1, 10, tzinfo=timezone.utc)),
    ("2025-05-01t10:00:00z", datetime(2025, 5, 1, 10, tzinfo=timezone.utc)),
    ("Thu, 01 May 2025 10:00:00 +0200", datetime(2025, 5, 1, 8, tzinfo=timezone.utc)),
    ("0001-01-01T00:00:00+01:00", None), ("9999-12-31T23:00:00-05:00", None),
    ("2025-13", None), ("2025-02-30", None), ("", None), (None, None), ("soon", None), ("1" * 100, None),
])
def test_w3c_datetimes_read_as_utc(text, expected):
    assert parse_w3c_datetime(text) == expected
