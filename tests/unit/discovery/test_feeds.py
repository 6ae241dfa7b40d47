"""Feeds read into entries: formats, dates in any zone, relative links, bounds, broken and
hostile bodies (crawler/discovery/feeds.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from crawler.discovery.feeds import Feed, FeedEntry, FeedError, parse_feed
from tests.support.hubfiles import billion_laughs, rss

URL = "http://127.0.0.1:8000/world/feed.xml"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_rss2_entries_in_order_with_dates_converted_to_utc():
    body = rss([("http://127.0.0.1:8000/world/a", "Tue, 10 Jun 2025 04:00:00 +0200"),
                ("/world/b", "Tue, 10 Jun 2025 04:00:00 EST"),
                ("c", "Tue, 10 Jun 2025 04:00:00 GMT")])
    feed = parse_feed(body, URL)
    assert feed == Feed(version="rss20", entries=[
        FeedEntry("http://127.0.0.1:8000/world/a", utc(2025, 6, 10, 2)),
        FeedEntry("http://127.0.0.1:8000/world/b", utc(2025, 6, 10, 9)),
        FeedEntry("http://127.0.0.1:8000/world/c", utc(2025, 6, 10, 4)),
    ])


def test_an_entry_without_a_date_or_with_an_unreadable_one_has_none():
    feed = parse_feed(rss([("http://127.0.0.1/a", None), ("http://127.0.0.1/b", "yesterday-ish")]), URL)
    assert [(entry.url, entry.published) for entry in feed.entries] == [
        ("http://127.0.0.1/a", None), ("http://127.0.0.1/b", None)]


def test_a_date_without_a_zone_is_utc():
    feed = parse_feed(rss([("http://127.0.0.1/a", "Tue, 10 Jun 2025 04:00:00")]), URL)
    assert feed.entries[0].published == utc(2025, 6, 10, 4)


def test_atom_alternate_links_resolved_against_xml_base_and_updated_when_not_published():
    body = b"""<?xml version="1.0"?>
    <feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://127.0.0.1:8000/sport/">
      <title>Sport</title><id>urn:x</id><updated>2025-05-01T10:00:00Z</updated>
      <entry><title>One</title><id>urn:1</id><link rel="enclosure" href="/img.jpg"/>
        <link rel="alternate" href="story/1"/><updated>2025-05-01T10:00:00-05:00</updated></entry>
      <entry><title>Two</title><id>urn:2</id><link href="http://127.0.0.1:8000/sport/2#top"/>
        <published>2025-05-01T09:00:00+09:00</published><updated>2025-05-02T00:00:00Z</updated></entry>
    </feed>"""
    feed = parse_feed(body, URL)
    assert (feed.version, feed.entries) == ("atom10", [
        FeedEntry("http://127.0.0.1:8000/sport/story/1", utc(2025, 5, 1, 15)),
        FeedEntry("http://127.0.0.1:8000/sport/2", utc(2025, 5, 1, 0)),
    ])


def test_rss1_rdf_with_dublin_core_dates():
    body = b"""<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="http://127.0.0.1/"><title>t</title><link>http://127.0.0.1/</link></channel>
      <item rdf:about="http://127.0.0.1/1"><title>a</title><link>http://127.0.0.1/1</link>
        <dc:date>2025-05-01T10:00+01:00</dc:date></item></rdf:RDF>"""
    feed = parse_feed(body, URL)
    assert (feed.version, feed.entries) == ("rss10", [FeedEntry("http://127.0.0.1/1", utc(2025, 5, 1, 9))])


def test_rss091_netscape_doctype_is_read():
    body = (b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel>'
            b"<title>t</title><item><title>a</title><link>http://127.0.0.1/a</link></item></channel></rss>")
    feed = parse_feed(body, URL)
    assert (feed.version, [entry.url for entry in feed.entries]) == ("rss091n", ["http://127.0.0.1/a"])


def test_links_that_are_not_http_missing_or_repeated_are_skipped():
    body = rss([("javascript:alert(1)", None), ("mailto:a@b.c", None), ("", None),
                ("http://127.0.0.1/a", None), ("http://127.0.0.1/a#comments", None), ("http://[::1/x", None)])
    feed = parse_feed(body, URL)
    assert ([entry.url for entry in feed.entries], feed.skipped) == (["http://127.0.0.1/a"], 5)


def test_entries_past_the_cap_are_counted_not_returned():
    body = rss([(f"http://127.0.0.1/{n}", None) for n in range(25)])
    feed = parse_feed(body, URL, max_entries=10)
    assert [entry.url for entry in feed.entries] == [f"http://127.0.0.1/{n}" for n in range(10)]
    assert (feed.truncated, feed.skipped) == (15, 0)


def test_a_body_over_the_byte_cap_is_refused_before_parsing():
    body = rss([(f"http://127.0.0.1/{n}", None) for n in range(100)])
    with pytest.raises(FeedError, match="over the cap"):
        parse_feed(body, URL, max_bytes=len(body) - 1)
    assert len(parse_feed(body, URL, max_bytes=len(body)).entries) == 100


def test_a_truncated_feed_returns_what_was_read_and_is_flagged():
    body = rss([("http://127.0.0.1/a", "Tue, 10 Jun 2025 04:00:00 GMT"), ("http://127.0.0.1/b", None),
                ("http://127.0.0.1/c", None)])
    cut = body[:body.index(b"http://127.0.0.1/c") - 10]
    feed = parse_feed(cut, URL)
    assert feed.bozo is True
    assert [entry.url for entry in feed.entries] == ["http://127.0.0.1/a", "http://127.0.0.1/b"]


def test_a_malformed_feed_is_read_leniently_and_flagged():
    body = rss([("http://127.0.0.1/a?x=1&y=2", None), ("http://127.0.0.1/b", None)])  # a raw "&"
    feed = parse_feed(body, URL)
    assert feed.bozo is True
    assert [entry.url for entry in feed.entries] == ["http://127.0.0.1/a?x=1&y=2", "http://127.0.0.1/b"]


def test_a_feed_in_utf16_is_read():
    body = rss([("http://127.0.0.1/é", None)], declaration='<?xml version="1.0" encoding="utf-16"?>')
    feed = parse_feed(body.decode().encode("utf-16"), URL)
    assert [entry.url for entry in feed.entries] == ["http://127.0.0.1/é"]


def test_an_empty_channel_is_a_feed_without_entries():
    feed = parse_feed(rss([]), URL)
    assert (feed.version, feed.entries, feed.bozo) == ("rss20", [], False)


@pytest.mark.parametrize("body", [
    b"", b"   \n", b"<!doctype html><html><head><title>Home</title></head><body><p>Hello</p></body></html>",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\x1f\x8b\x08\x00garbage", b"just some text",
    b'{"not": "a feed"}', b"[1, 2, 3]", b'{"version": "https://jsonfeed.org/version/1.1"}',
])
def test_a_body_that_is_no_feed_raises_feed_error(body):
    with pytest.raises(FeedError):
        parse_feed(body, URL)


def test_entity_declarations_are_refused_in_any_encoding():
    inside = '<rss version="2.0"><channel><item><title>{}</title><link>http://127.0.0.1/a</link></item></channel></rss>'
    body = billion_laughs("rss", inside)
    with pytest.raises(FeedError, match="entities"):
        parse_feed(body, URL)
    utf16 = body.decode().replace('version="1.0"', 'version="1.0" encoding="utf-16"').encode("utf-16")
    with pytest.raises(FeedError, match="entities"):
        parse_feed(utf16, URL)


def test_an_external_entity_is_never_read():
    body = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
            b'<rss version="2.0"><channel><item><link>http://127.0.0.1/&xxe;</link></item></channel></rss>')
    with pytest.raises(FeedError, match="entities"):
        parse_feed(body, URL)


def test_a_body_naming_a_local_file_is_parsed_as_bytes_never_opened(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(rss([("http://127.0.0.1/secret", None)]))
    with pytest.raises(FeedError):
        parse_feed(str(path).encode(), URL)


def test_json_feed_items_with_rfc3339_dates():
    body = json.dumps({"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [
        {"id": "1", "url": "/a", "date_published": "2025-05-01T10:00:00+02:00"},
        {"id": "2", "url": "http://127.0.0.1:8000/b", "date_modified": "2025-05-01T10:00:00Z"},
        {"id": "3", "url": "/a"}, {"id": "4"}, "nonsense", {"id": "5", "url": "ftp://127.0.0.1/x"},
        {"id": "6", "url": "/c", "date_published": 12},
    ]}).encode()
    feed = parse_feed(body, URL)
    assert feed == Feed(version="json1", skipped=4, entries=[
        FeedEntry("http://127.0.0.1:8000/a", utc(2025, 5, 1, 8)),
        FeedEntry("http://127.0.0.1:8000/b", utc(2025, 5, 1, 10)),
        FeedEntry("http://127.0.0.1:8000/c", None),
    ])
