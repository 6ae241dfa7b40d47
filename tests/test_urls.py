"""Canonical URLs: the fast path must agree with w3lib's canonicalize_url everywhere."""

from __future__ import annotations

import random

import pytest

import crawler.normalize as normalize


def test_fast_canonicalization_agrees_with_the_general_path(monkeypatch):
    rnd = random.Random(2)
    path_chars = "aB9-._~/%+ é=&?#:@"
    query_chars = "ab9-._~%+=é "
    hosts = ["Ex.com", "ex.com:80", "ex.com:8080", "a-b.c", "[::1]:80"]
    urls = []
    for _ in range(20_000):
        path = "/" + "".join(rnd.choice(path_chars) for _ in range(rnd.randint(0, 12)))
        query = "&".join("".join(rnd.choice(query_chars) for _ in range(rnd.randint(0, 5)))
                         for _ in range(rnd.randint(0, 3)))
        urls.append(f"{rnd.choice(['http', 'HTTPS'])}://{rnd.choice(hosts)}{path}"
                    + (f"?{query}" if query else ""))
    taken = []
    real_fast = normalize._fast_canonical

    def counting(*parts):
        result = real_fast(*parts)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(normalize, "_fast_canonical", counting)
    fast = [normalize.canonical_url_for(url) for url in urls]
    monkeypatch.setattr(normalize, "_fast_canonical", lambda *parts: None)
    slow = [normalize.canonical_url_for(url) for url in urls]
    mismatches = [(u, f, s) for u, f, s in zip(urls, fast, slow) if f != s]
    assert mismatches == []
    # Both paths were exercised.
    assert 1000 < sum(taken) < len(urls) - 1000


@pytest.mark.parametrize("variant", [
    "https://example.com/a?utm_source=x&id=1",
    "https://EXAMPLE.com:443/a?id=1#frag",
    "https://example.com/a?fbclid=abc&id=1&gclid=z",
])
def test_variants_share_one_canonical_url(variant):
    assert normalize.canonical_url_for(variant) == "https://example.com/a?id=1"
