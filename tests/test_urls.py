"""crawler.base.urls: canonical URLs, sites, the declared canonical of a page."""

from __future__ import annotations

import random

import pytest

import crawler.base.urls as urls
from crawler.base.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    canonical_url_for,
    resolve_canonical,
    same_site,
)

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


def test_same_site():
    assert same_site("https://amp.example.co.uk/a", "https://www.example.co.uk/b")
    assert same_site("http://127.0.0.1:8080/a", "http://127.0.0.1:9090/b")
    assert not same_site("https://example.co.uk/a", "https://other.co.uk/a")
    assert not same_site("https://a.github.io/", "https://b.github.io/")  # public suffix
    assert not same_site("http://127.0.0.1/a", "http://127.0.0.2/a")


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
