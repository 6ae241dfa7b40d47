"""crawler.base.urls: canonical URLs, hosts, sites, the declared canonical of a page."""

from __future__ import annotations

import random
import re
from urllib.parse import urlsplit

import pytest
from scrapy import Request

import crawler.base.urls as urls
from crawler.base.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    canonical_url_for,
    display_domain,
    fingerprint_url,
    resolve_canonical,
    same_site,
    site_of,
    url_host,
)
from tests.support.paths import ROOT

# --- canonical_url_for --------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTP://WWW.Example.COM:80/News/Story?utm_source=x&b=2&a=1&fbclid=z#comments",
            "http://www.example.com/News/Story?a=1&b=2",
        ),
        ("https://Example.com:443", "https://example.com/"),
        ("https://example.com:8443/x?", "https://example.com:8443/x"),
        (
            "https://example.com/a?UTM_Medium=email&gclid=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5"
            "&yclid=6&igshid=7&_ga=8&ref=9&ref_src=10&cmpid=11&id=42",
            "https://example.com/a?id=42",
        ),
        ("https://example.com/a%7eb/c d", "https://example.com/a~b/c%20d"),
        ("https://example.com/path/?q=%E9", "https://example.com/path/?q=%E9"),
        ("http://[::1]:80/x", "http://[::1]/x"),
        ("http://127.0.0.1:8080/a?b=1&a=2", "http://127.0.0.1:8080/a?a=2&b=1"),
    ],
)
def test_canonical_url_for(url, expected):
    assert canonical_url_for(url) == expected


def test_canonical_url_for_is_idempotent():
    url = "HTTP://Example.com:80/a b?z=1&utm_campaign=c&a=%41#x"
    once = canonical_url_for(url)
    assert canonical_url_for(once) == once


def test_tracking_parameters_live_in_one_place():
    assert {"fbclid", "gclid", "ref", "_ga"} <= TRACKING_PARAMS
    assert TRACKING_PREFIXES == ("utm_",)


# --- hosts and sites ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM:8443/a", "example.com"),
        ("HTTP://WWW.EXAMPLE.COM/A", "www.example.com"),
        ("http://example.com./a", "example.com"),
        ("https://user:Secret@News.Example.com:443/x", "news.example.com"),
        ("http://[2001:DB8::1]:8080/a", "2001:db8::1"),
        ("http://[::1]/", "::1"),
        ("http://127.0.0.1:8080/a", "127.0.0.1"),
        ("http://localhost:8080/", "localhost"),
        ("//cdn.Example.com/x.js", "cdn.example.com"),
        ("http://Bücher.DE/a", "xn--bcher-kva.de"),
        ("mailto:jane@example.com", ""),
        ("/news/a", ""),
        ("", ""),
        ("http://[::1/a", ""),  # unparseable
    ],
)
def test_url_host(url, expected):
    assert url_host(url) == expected


@pytest.mark.parametrize("url", [
    "https://Example.COM:8443/a", "http://[::1]:80/", "https://user:pw@Example.com/",
    "http://Bücher.DE./a", "http://www.Example.co.uk./a?b=1",
])
def test_url_host_of_a_seed_is_the_host_of_its_request(url):
    # A seed is queued from its raw URL, its links from Request.url: one host.
    assert url_host(url) == url_host(Request(url).url)


@pytest.mark.parametrize("url", [
    "https://Example.COM:8443/a", "http://www.example.com/", "https://user:pw@News.Example.com:443/",
    "http://[2001:DB8::1]:8080/", "http://127.0.0.1:9/", "http://localhost/",
])
def test_url_host_keeps_the_queue_key_of_ascii_hosts(url):
    # The per-host queue keys of a running crawl: lower-cased urlsplit hostname, as before.
    assert url_host(url) == (urlsplit(url).hostname or "").lower()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.co.uk/a", "example.co.uk"),
        ("https://amp.example.co.uk/a", "example.co.uk"),
        ("https://WWW.Example.COM./a", "example.com"),
        ("https://a.github.io/", "a.github.io"),  # github.io is a public suffix
        ("http://127.0.0.1:8080/a", "127.0.0.1"),
        ("http://[::1]:8080/a", "::1"),
        ("http://localhost:8080/a", "localhost"),
        # No registrable domain (not a public suffix): the host, a leading "www." dropped.
        ("https://www.loopback.test/a", "loopback.test"),
        ("https://amp.loopback.test/a", "amp.loopback.test"),
        ("mailto:jane@example.com", None),
        ("/news/a", None),
    ],
)
def test_site_of(url, expected):
    assert site_of(url) == expected


@pytest.mark.parametrize(
    ("url", "other", "expected"),
    [
        ("https://amp.example.co.uk/a", "https://www.example.co.uk/b", True),
        ("https://www.example.com/a", "https://example.com/b", True),
        ("https://amp.example.com/a", "http://www.example.com:8080/b", True),
        ("https://www.loopback.test/a", "https://loopback.test/b", True),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b", True),  # the demo site
        ("http://[::1]:8080/a", "http://[::1]/b", True),
        ("http://localhost:8080/a", "http://localhost:9090/b", True),
        ("https://example.co.uk/a", "https://other.co.uk/a", False),
        ("https://a.github.io/", "https://b.github.io/", False),
        ("https://amp.loopback.test/a", "https://www.loopback.test/b", False),
        ("http://127.0.0.1/a", "http://127.0.0.2/a", False),
        ("http://127.0.0.1/a", "http://localhost/a", False),
        ("/news/a", "/news/a", False),
        ("https://example.com/a", "mailto:jane@example.com", False),
    ],
)
def test_same_site(url, other, expected):
    assert same_site(url, other) is expected
    assert same_site(other, url) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://WWW.Example.com:8080/a", "example.com"),
        ("https://amp.example.com/a", "amp.example.com"),
        ("https://www.example.co.uk/a", "example.co.uk"),
        ("https://wwwexample.com/a", "wwwexample.com"),
        ("http://www.example.com./a", "example.com"),
        ("http://127.0.0.1:8080/a", "127.0.0.1"),
        ("/news/a", ""),
    ],
)
def test_display_domain(url, expected):
    assert display_domain(url) == expected


_CRAWLER = ROOT / "crawler"
# Code that reads a host out of a URL, or strips "www." from one.
_HOST_CODE = re.compile(r"\.hostname\b|\.netloc\b|\bget_fld\b|\b(?:from|import) tld\b"
                        r"|removeprefix\([\"']www\.|\b(?:request_host|site_domain|_site)\b")
# Every place outside crawler/base/urls.py allowed to, and why.
_ALLOWED_HOST_CODE = {
    # Resolves the host it connects to, to refuse private addresses.
    ("worker/netguard.py", ".hostname"),
    # Scrapy's RobotsTxtMiddleware keys its parsers by netloc.
    ("worker/robots.py", ".netloc"),
}


def test_hosts_and_sites_are_read_in_crawler_base_urls_only():
    found = {
        (path.relative_to(_CRAWLER).as_posix(), match.group())
        for path in _CRAWLER.rglob("*.py")
        if path.relative_to(_CRAWLER).as_posix() != "base/urls.py"
        for match in _HOST_CODE.finditer(path.read_text(encoding="utf-8"))
    }
    assert found == _ALLOWED_HOST_CODE


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("/news/b?utm_source=x", "https://www.example.com/news/b"),
        ("https://amp.example.com/news/b#top", "https://amp.example.com/news/b"),
        ("https://other.example.org/news/b", "https://www.example.com/news/a"),
        ("ftp://www.example.com/news/b", "https://www.example.com/news/a"),
        ("   ", "https://www.example.com/news/a"),
        (None, "https://www.example.com/news/a"),
        (["/news/b"], "https://www.example.com/news/a"),
    ],
)
def test_resolve_canonical(declared, expected):
    assert resolve_canonical("https://WWW.example.com/news/a?fbclid=1", declared) == expected


# --- the fast path ------------------------------------------------------------


def test_fast_canonicalization_agrees_with_the_general_path(monkeypatch):
    rnd = random.Random(2)
    path_chars = "aB9-._~/%+ é=&?#:@"
    query_chars = "ab9-._~%+=é "
    hosts = ["Ex.com", "ex.com:80", "ex.com:8080", "a-b.c", "[::1]:80"]
    targets = []
    for _ in range(20_000):
        path = "/" + "".join(rnd.choice(path_chars) for _ in range(rnd.randint(0, 12)))
        query = "&".join("".join(rnd.choice(query_chars) for _ in range(rnd.randint(0, 5)))
                         for _ in range(rnd.randint(0, 3)))
        targets.append(f"{rnd.choice(['http', 'HTTPS'])}://{rnd.choice(hosts)}{path}"
                       + (f"?{query}" if query else ""))
    taken = []
    real_fast = urls._fast_canonical

    def counting(*parts):
        result = real_fast(*parts)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(urls, "_fast_canonical", counting)
    fast = [canonical_url_for(url) for url in targets]
    monkeypatch.setattr(urls, "_fast_canonical", lambda *parts: None)
    slow = [canonical_url_for(url) for url in targets]
    mismatches = [(u, f, s) for u, f, s in zip(targets, fast, slow) if f != s]
    assert mismatches == []
    # Both paths were exercised.
    assert 1000 < sum(taken) < len(targets) - 1000


@pytest.mark.parametrize("variant", [
    "https://example.com/a?utm_source=x&id=1",
    "https://EXAMPLE.com:443/a?id=1#frag",
    "https://example.com/a?fbclid=abc&id=1&gclid=z",
])
def test_variants_share_one_canonical_url(variant):
    assert canonical_url_for(variant) == "https://example.com/a?id=1"


# --- request fingerprints -----------------------------------------------------


def test_fingerprints_ignore_tracking_parameters_ports_and_fragments():
    base = fingerprint_url("https://example.com/a?id=3&b=2")
    assert fingerprint_url("https://EXAMPLE.com:443/a?b=2&id=3&utm_source=x&fbclid=y#top") == base
    assert fingerprint_url("https://example.com/a?id=4&b=2") != base
