"""Sitemaps, indexes and news sitemaps read into entries, and every bound held: entry cap,
gunzipped byte cap, element budget, DOCTYPE refused (crawler/discovery/sitemaps.py)."""

from __future__ import annotations

import gzip
import tracemalloc
from datetime import datetime, timezone

import pytest

from crawler.discovery.sitemaps import Sitemap, SitemapEntry, SitemapError, parse_sitemap
from tests.support.hubfiles import NEWS_NS, SITEMAP_NS, billion_laughs, gzip_bomb, sitemap_index, urlset

URL = "http://127.0.0.1:8000/sitemap.xml"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_urlset_with_lastmod_in_every_w3c_form():
    body = urlset([("http://127.0.0.1:8000/a", "2025-05-01", None),
                   ("http://127.0.0.1:8000/b", "2025-05-01T10:30+02:00", None),
                   ("http://127.0.0.1:8000/c", "2025-05-01T10:30:15.250Z", None),
                   ("http://127.0.0.1:8000/d", "2025-05", None),
                   ("http://127.0.0.1:8000/e", "2025", None),
                   ("http://127.0.0.1:8000/f", "2025-05-01 10:30:00", None),
                   ("http://127.0.0.1:8000/g", "not a date", None),
                   ("http://127.0.0.1:8000/h", None, None)])
    assert parse_sitemap(body, URL) == Sitemap(kind="urlset", news=False, entries=[
        SitemapEntry("http://127.0.0.1:8000/a", None, utc(2025, 5, 1)),
        SitemapEntry("http://127.0.0.1:8000/b", None, utc(2025, 5, 1, 8, 30)),
        SitemapEntry("http://127.0.0.1:8000/c", None, utc(2025, 5, 1, 10, 30, 15, 250000)),
        SitemapEntry("http://127.0.0.1:8000/d", None, utc(2025, 5, 1)),
        SitemapEntry("http://127.0.0.1:8000/e", None, utc(2025, 1, 1)),
        SitemapEntry("http://127.0.0.1:8000/f", None, utc(2025, 5, 1, 10, 30)),
        SitemapEntry("http://127.0.0.1:8000/g", None, None),
        SitemapEntry("http://127.0.0.1:8000/h", None, None),
    ])


def test_google_news_sitemap_publication_dates_nested_in_news_news():
    body = urlset([("http://127.0.0.1:8000/world/1", "2025-05-01T12:00:00Z", "2025-05-01T10:00:00-04:00"),
                   ("http://127.0.0.1:8000/world/2", None, "2025-05-01")], news=True)
    assert parse_sitemap(body, URL) == Sitemap(kind="urlset", news=True, entries=[
        SitemapEntry("http://127.0.0.1:8000/world/1", utc(2025, 5, 1, 14), utc(2025, 5, 1, 12)),
        SitemapEntry("http://127.0.0.1:8000/world/2", utc(2025, 5, 1), None),
    ])


def test_news_is_told_by_the_namespace_declared_or_used_anywhere():
    declared_only = urlset([], news=True)
    assert parse_sitemap(declared_only, URL).news is True
    used_below = (f'<urlset xmlns="{SITEMAP_NS}"><url><loc>http://127.0.0.1/a</loc>'
                  f'<n:news xmlns:n="{NEWS_NS}"><n:publication_date>2025-05-01T00:00:00Z</n:publication_date>'
                  f"</n:news></url></urlset>").encode()
    sitemap = parse_sitemap(used_below, URL)
    assert (sitemap.news, sitemap.entries) == (True, [SitemapEntry("http://127.0.0.1/a", utc(2025, 5, 1), None)])
    assert parse_sitemap(urlset([("http://127.0.0.1/a", None, None)]), URL).news is False


def test_only_the_pages_own_loc_counts_not_an_image_loc():
    body = (f'<urlset xmlns="{SITEMAP_NS}" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
            "<url><image:image><image:loc>http://127.0.0.1/i.jpg</image:image:loc></image:image>"
            "<loc>http://127.0.0.1/page</loc></url></urlset>").encode().replace(b"</image:image:loc>", b"</image:loc>")
    assert [entry.url for entry in parse_sitemap(body, URL).entries] == ["http://127.0.0.1/page"]


def test_a_sitemap_without_namespace_and_one_in_googles_old_namespace():
    plain = b"<urlset><url><loc>http://127.0.0.1/a</loc><lastmod>2025-05-01</lastmod></url></urlset>"
    old = (b'<urlset xmlns="http://www.google.com/schemas/sitemap/0.84"><url><loc>http://127.0.0.1/b</loc>'
           b"</url></urlset>")
    assert parse_sitemap(plain, URL).entries == [SitemapEntry("http://127.0.0.1/a", None, utc(2025, 5, 1))]
    assert [entry.url for entry in parse_sitemap(old, URL).entries] == ["http://127.0.0.1/b"]


def test_sitemap_index_entries_and_an_index_that_lists_itself():
    body = sitemap_index(["http://127.0.0.1:8000/news-sitemap.xml", URL, "/sitemap-2.xml.gz",
                          "http://127.0.0.1:8000/news-sitemap.xml"])
    sitemap = parse_sitemap(body, URL)
    assert (sitemap.kind, sitemap.skipped) == ("index", 2)
    assert sitemap.entries == [SitemapEntry("http://127.0.0.1:8000/news-sitemap.xml", None, utc(2025, 5, 1)),
                               SitemapEntry("http://127.0.0.1:8000/sitemap-2.xml.gz", None, utc(2025, 5, 1))]


def test_locs_that_are_not_http_missing_empty_or_repeated_are_skipped():
    body = urlset([("javascript:x()", None, None), ("", None, None), ("http://127.0.0.1/a", None, None),
                   ("  http://127.0.0.1/a#frag  ", None, None), ("ftp://127.0.0.1/f", None, None)])
    body = body.replace(b"</urlset>", b"<url><lastmod>2025-01-01</lastmod></url></urlset>")
    sitemap = parse_sitemap(body, URL)
    assert ([entry.url for entry in sitemap.entries], sitemap.skipped) == (["http://127.0.0.1/a"], 5)


def test_escaped_ampersands_and_character_references_are_decoded():
    body = urlset([("http://127.0.0.1/a?x=1&amp;y=2&#38;z=&#x33;", None, None)])
    assert [entry.url for entry in parse_sitemap(body, URL).entries] == ["http://127.0.0.1/a?x=1&y=2&z=3"]


def test_gzip_is_told_by_its_magic_bytes_whatever_the_url():
    body = urlset([("http://127.0.0.1/a", None, None)])
    assert parse_sitemap(gzip.compress(body), "http://127.0.0.1/sitemap.xml").entries == \
        parse_sitemap(body, "http://127.0.0.1/sitemap.xml.gz").entries == [SitemapEntry("http://127.0.0.1/a", None, None)]


def test_a_text_sitemap_one_url_a_line():
    body = b"\xef\xbb\xbfhttp://127.0.0.1/a\r\n\nhttps://127.0.0.1/b\nhttp://127.0.0.1/a\n"
    sitemap = parse_sitemap(body, URL)
    assert sitemap == Sitemap(kind="urlset", skipped=1, entries=[
        SitemapEntry("http://127.0.0.1/a", None, None), SitemapEntry("https://127.0.0.1/b", None, None)])


def test_a_truncated_sitemap_returns_the_entries_completed_before_the_cut():
    body = urlset([(f"http://127.0.0.1/{n}", None, None) for n in range(3)])
    cut = body[:body.index(b"http://127.0.0.1/2") + 12]  # inside the third <loc>
    sitemap = parse_sitemap(cut, URL)
    assert ([entry.url for entry in sitemap.entries], sitemap.bozo) == (["http://127.0.0.1/0", "http://127.0.0.1/1"], True)
    gz = gzip.compress(urlset([(f"http://127.0.0.1/{n}", None, None) for n in range(20000)]))
    sitemap = parse_sitemap(gz[: len(gz) // 2], URL)
    assert sitemap.bozo is True and 0 < len(sitemap.entries) < 20000
    assert [entry.url for entry in sitemap.entries] == [f"http://127.0.0.1/{n}" for n in range(len(sitemap.entries))]


def test_a_raw_ampersand_ends_reading_there_and_never_yields_a_mangled_url():
    body = urlset([("http://127.0.0.1/a", None, None), ("http://127.0.0.1/b?x=1&y=2", None, None),
                   ("http://127.0.0.1/c", None, None)])
    sitemap = parse_sitemap(body, URL)
    assert ([entry.url for entry in sitemap.entries], sitemap.bozo) == (["http://127.0.0.1/a"], True)


def test_entries_past_the_cap_are_not_read_a_large_file_costs_the_cap():
    def locs():
        for n in range(200_000):
            yield f"http://127.0.0.1:8000/story/{n}", "2025-05-01", None
    body = urlset(locs())
    for data in (body, gzip.compress(body, compresslevel=1)):
        sitemap = parse_sitemap(data, URL, max_entries=1000)
        assert [entry.url for entry in sitemap.entries] == [f"http://127.0.0.1:8000/story/{n}" for n in range(1000)]
        assert (sitemap.truncated, sitemap.bozo) == (1, False)
    exact = parse_sitemap(urlset((f"http://127.0.0.1/{n}", None, None) for n in range(1000)), URL, max_entries=1000)
    assert (len(exact.entries), exact.truncated) == (1000, 0)


def test_a_gzip_bomb_fails_with_sitemap_error_without_inflating_it():
    head = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">'.encode()
    bomb = gzip_bomb(head, b" ", 2**30)  # 1 GiB of blanks in about 1 MiB
    assert len(bomb) < 2 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(SitemapError, match="over|past the cap"):
            parse_sitemap(bomb, URL, max_bytes=8 * 2**20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20  # pieces of 64 KiB, never the inflated body


def test_elements_that_are_no_entries_stop_at_the_element_budget():
    head = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">'.encode()
    with pytest.raises(SitemapError, match="budget"):
        parse_sitemap(gzip_bomb(head, b"<x/>", 2**30), URL, max_entries=100)
    some = urlset([(f"http://127.0.0.1/{n}", None, None) for n in range(5)]).replace(b"</urlset>", b"<x/>" * 5000)
    sitemap = parse_sitemap(some, URL, max_entries=100)
    assert (len(sitemap.entries), sitemap.bozo) == (5, True)


def test_a_plain_body_over_the_byte_cap_is_refused():
    body = urlset([(f"http://127.0.0.1/{n}", None, None) for n in range(100)])
    with pytest.raises(SitemapError, match="over the cap"):
        parse_sitemap(body, URL, max_bytes=len(body) - 1)
    assert len(parse_sitemap(body, URL, max_bytes=len(body)).entries) == 100


def test_billion_laughs_and_external_entities_are_refused_with_their_doctype():
    body = billion_laughs("urlset", f'<urlset xmlns="{SITEMAP_NS}"><url><loc>http://127.0.0.1/{{}}</loc></url></urlset>')
    with pytest.raises(SitemapError, match="DOCTYPE"):
        parse_sitemap(body, URL)
    xxe = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
           f'<urlset xmlns="{SITEMAP_NS}"><url><loc>http://127.0.0.1/&xxe;</loc></url></urlset>').encode()
    with pytest.raises(SitemapError, match="DOCTYPE"):
        parse_sitemap(xxe, URL)


def test_a_huge_loc_is_skipped_and_deep_nesting_builds_nothing():
    huge = urlset([("http://127.0.0.1/" + "a" * (11 * 2**20), None, None), ("http://127.0.0.1/b", None, None)])
    sitemap = parse_sitemap(huge, URL)
    assert ([entry.url for entry in sitemap.entries], sitemap.skipped) == (["http://127.0.0.1/b"], 1)
    deep = f'<urlset xmlns="{SITEMAP_NS}">'.encode() + b"<url>" * 3000 + b"</url>" * 3000 + b"</urlset>"
    assert parse_sitemap(deep, URL) == Sitemap(kind="urlset", skipped=1)


def test_a_loc_too_long_for_a_url_is_skipped():
    body = urlset([("http://127.0.0.1/" + "a" * 9000, None, None), ("http://127.0.0.1/b", None, None)])
    sitemap = parse_sitemap(body, URL)
    assert ([entry.url for entry in sitemap.entries], sitemap.skipped) == (["http://127.0.0.1/b"], 1)


@pytest.mark.parametrize("body", [
    b"", b"  \n ", b"<!doctype html><html><body><p>Not found</p></body></html>",
    b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
    b"\x89PNG\r\n\x1a\n\x00\x00", b"\x1f\x8b\x08\x00\x00\x00\x00\x00", b"\x1f\x8bnot gzip at all",
    b"User-agent: *\nDisallow: /\n", b"http://127.0.0.1/a\nnot a url\n", b"\xff\xfe\x00garbage",
])
def test_a_body_that_is_no_sitemap_raises_sitemap_error(body):
    with pytest.raises(SitemapError):
        parse_sitemap(body, URL)
