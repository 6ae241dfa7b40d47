"""Seed lines written by other people: each gets its own verdict, and nothing it holds is trusted."""

from __future__ import annotations

import io

import pytest
from scrapy import Request

from crawler.base.urls import url_host
from crawler.frontier.seeding import (
    MAX_LINE_BYTES,
    Seed,
    SeedError,
    parse_seed_line,
    printable,
    read_seed_lines,
)

URL = "https://news.example.com/a"


def seed_json(rest: str) -> str:
    return '{"url": "%s", %s}' % (URL, rest)


# --- meta: an allow-list of labels (item 2) ------------------------------------------


@pytest.mark.parametrize(("meta", "reason"), [
    ('{"proxy": "http://127.0.0.1:8080"}', "meta keys not allowed: proxy (a seed may set only source, tags)"),
    ('{"download_maxsize": 0}', "meta keys not allowed: download_maxsize"),
    ('{"depth": -1000000}', "meta keys not allowed: depth"),
    ('{"dont_obey_robotstxt": true, "download_timeout": 99999}',
     "meta keys not allowed: dont_obey_robotstxt, download_timeout"),
    ('{"_scheme_proxy": true, "source": "x"}', "meta keys not allowed: _scheme_proxy"),
    ('{"source": 5}', "meta source must be a printable string of 1 to 200 characters"),
    ('{"source": "%s"}' % ("x" * 201), "meta source must be a printable string"),
    ('{"source": "a\\u001b[2Jb"}', "meta source must be a printable string"),
    ('{"tags": "news"}', "meta tags must be a list of at most 20 printable strings"),
    ('{"tags": [%s]}' % ",".join(['"t"'] * 21), "meta tags must be a list of at most 20"),
    ('["proxy"]', "meta must be an object"),
])
def test_meta_is_limited_to_labels(meta, reason):
    with pytest.raises(SeedError) as error:
        parse_seed_line(seed_json(f'"meta": {meta}'))
    assert str(error.value).startswith(reason)


def test_labels_are_kept():
    line = seed_json('"meta": {"source": "wire list", "tags": ["biz", "eu"]}, "priority": 7')
    assert parse_seed_line(line) == Seed(URL, {"source": "wire list", "tags": ["biz", "eu"]}, 7)


# --- priority, length, nesting, encoding (item 8) -------------------------------------


@pytest.mark.parametrize(("priority", "reason"), [
    ("1001", "priority must be from -1000 to 1000"),
    ("-1001", "priority must be from -1000 to 1000"),
    ("9" * 4000, "priority must be from -1000 to 1000"),
    ("1e3", "priority must be an integer"),
    ("true", "priority must be an integer"),
])
def test_priority_is_an_integer_in_a_documented_range(priority, reason):
    with pytest.raises(SeedError, match=f"^{reason}$"):
        parse_seed_line(seed_json(f'"priority": {priority}'))


@pytest.mark.parametrize("priority", [-1000, 0, 1000])
def test_priorities_in_range_pass(priority):
    assert parse_seed_line(seed_json(f'"priority": {priority}')).priority == priority


@pytest.mark.parametrize(("line", "reason"), [
    (seed_json('"priority": ' + "9" * 5000), f"line longer than {MAX_LINE_BYTES} bytes"),
    ('{"url": "%s", "meta": {"source": %s%s}}' % (URL, "[" * 2000, "]" * 2000),
     "JSON nested deeper than 8 levels"),
    ("[" * 100_000 + "]" * 100_000, f"line longer than {MAX_LINE_BYTES} bytes"),
    ('{"url": "%s", "meta": {"source": "%s' % (URL, "[" * 3000),  # brackets in a string do not nest
     "invalid JSON (Unterminated string starting at at column 58)"),
    ('{"a": ' * 600, "JSON nested deeper than 8 levels"),
    (b"https://news.example.com/\xff\xfe", "not valid UTF-8 (byte 0xff at byte 26)"),
    ("https://news.example.com/\udcff", "not valid UTF-8 (character 26)"),
    ("https://news.example.com/" + "é" * 2040, f"line longer than {MAX_LINE_BYTES} bytes"),
    ("https://news.example.com/\x1b[2J", "url contains whitespace or control characters"),
])
def test_hostile_lines_get_one_clear_reason(line, reason):
    with pytest.raises(SeedError) as error:
        parse_seed_line(line)
    assert str(error.value) == reason


def test_bytes_lines_are_utf8():
    assert parse_seed_line("https://bücher.example/ü".encode()) == Seed("https://xn--bcher-kva.example/%C3%BC")
    assert parse_seed_line(b"  # comment") is None and parse_seed_line(b"") is None


def test_rejected_values_are_escaped_for_the_terminal():
    assert printable("line\x1b[2J\x1b]0;owned\x07 \u202eevil\u200b é 日本") == (
        "line\\x1b[2J\\x1b]0;owned\\x07 \\u202eevil\\u200b é 日本")
    assert printable(b"bad \xff\x1b[31m") == "bad \\xff\\x1b[31m"
    assert printable("\udcff\U000e0001") == "\\udcff\\U000e0001"
    assert printable("x" * 500, 200) == "x" * 200


def test_reading_a_stream_cuts_overlong_lines_without_holding_them():
    long = b"h" * (10 * MAX_LINE_BYTES)
    data = b"https://a.example/1\r\n" + long + b"\n\xff\nhttps://a.example/2"
    lines = list(read_seed_lines(io.BytesIO(data)))
    assert lines == [b"https://a.example/1", long[:MAX_LINE_BYTES + 2], b"\xff", b"https://a.example/2"]
    exact = b"h" * MAX_LINE_BYTES
    assert list(read_seed_lines(io.BytesIO(exact + b"\n" + exact))) == [exact, exact]


# --- schemes (item 1) and hosts in the form Scrapy fetches (item 9) -------------------


@pytest.mark.parametrize("url", ["file:///etc/passwd", "file://news.example.com/etc/passwd",
                                 "ftp://news.example.com/x", "s3://bucket/key", "data:text/html,x",
                                 "javascript:alert(1)", "FILE://news.example.com/etc/passwd"])
def test_only_http_and_https_seeds(url):
    with pytest.raises(SeedError, match="^scheme must be http or https$"):
        parse_seed_line(url)


@pytest.mark.parametrize(("typed", "fetched"), [
    ("http://bücher.example/", "http://xn--bcher-kva.example/"),
    ("http://BÜCHER.example/Straße?q=ä", "http://xn--bcher-kva.example/Stra%C3%9Fe?q=%C3%A4"),
    ("http://exa\u200bmple.com/", "http://example.com/"),
    ("http://e\u0301xample.com/", "http://xn--xample-9ua.com/"),  # NFC: é
    ("http://\u00e9xample.com/", "http://xn--xample-9ua.com/"),
    ("https://ｅｘａｍｐｌｅ．com/a", "https://example.com/a"),  # fullwidth letters and dot
    ("http://news.example.com/a b".replace(" ", "%20"), "http://news.example.com/a%20b"),
])
def test_seeds_are_queued_as_scrapy_fetches_them(typed, fetched):
    seed = parse_seed_line(typed)
    assert seed.url == fetched == Request(typed).url
    assert url_host(seed.url) == url_host(Request(typed).url)


@pytest.mark.parametrize("url", ["http://" + "ü" * 64 + ".example/", "http://ex%41mple.com/",
                                 "http://a\u202eb.example/", "http://a<b.example/"])
def test_hosts_that_are_not_names_are_rejected(url):
    with pytest.raises(SeedError, match="^host is not a domain name or an IP address$"):
        parse_seed_line(url)
