"""What reading a hub costs: feeds, sitemaps and hostile sitemaps, one parse each.

Prints, for each body, its size, the entries returned and the CPU time of one parse:

* RSS feeds of 100 and 1,000 items (feedparser), a JSON Feed of 1,000 items;
* a Google News sitemap of 1,000 entries, a sitemap of 50,000 (the protocol's maximum),
  gzipped too, and one of 1,000,000 entries read with the default cap of 50,000;
* a 1 GiB gzip bomb (about 1 MiB on the wire) and a body of 1,000,000 empty elements.

    .venv/bin/python -m benchmarks.discovery
"""

from __future__ import annotations

import gzip
import json
import time

from crawler.discovery.feeds import FeedError, parse_feed
from crawler.discovery.sitemaps import SitemapError, parse_sitemap
from tests.support.hubfiles import SITEMAP_NS, gzip_bomb, rss, urlset

BASE = "http://127.0.0.1:8000"


def _run(name: str, parse, body: bytes) -> None:
    start = time.process_time()
    try:
        result = parse(body, BASE + "/hub")
        outcome = f"{len(result.entries):>7,} entries, truncated {result.truncated}"
    except (FeedError, SitemapError) as exc:
        outcome = f"refused: {str(exc)[:48]}"
    seconds = time.process_time() - start
    print(f"{name:<46} {len(body) / 2**20:8.2f} MiB {seconds * 1000:9.1f} ms  {outcome}")


def main() -> None:
    date = "Tue, 10 Jun 2025 04:00:00 +0200"
    for items in (100, 1000):
        _run(f"RSS 2.0, {items:,} items", parse_feed, rss((f"{BASE}/story/{n}", date) for n in range(items)))
    json_feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"id": str(n), "url": f"{BASE}/story/{n}", "date_published": "2025-05-01T10:00:00Z"}
        for n in range(1000)]}).encode()
    _run("JSON Feed, 1,000 items", parse_feed, json_feed)
    news = urlset(((f"{BASE}/story/{n}", None, "2025-05-01T10:00:00+02:00") for n in range(1000)), news=True)
    _run("news sitemap, 1,000 entries", parse_sitemap, news)
    big = urlset((f"{BASE}/story/{n}", "2025-05-01", None) for n in range(50_000))
    _run("sitemap, 50,000 entries", parse_sitemap, big)
    _run("sitemap, 50,000 entries, gzip", parse_sitemap, gzip.compress(big, 6))
    huge = gzip.compress(urlset((f"{BASE}/story/{n}", "2025-05-01", None) for n in range(1_000_000)), 6)
    _run("sitemap, 1,000,000 entries, gzip (cap 50,000)", parse_sitemap, huge)
    head = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">'.encode()
    _run("gzip bomb, 1 GiB of blanks", parse_sitemap, gzip_bomb(head, b" ", 2**30))
    _run("gzip, 1,000,000 empty elements", parse_sitemap, gzip_bomb(head, b"<x/>", 4 * 2**20))


if __name__ == "__main__":
    main()
