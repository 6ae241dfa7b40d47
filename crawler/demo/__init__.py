"""The Daily Loopback: a deterministic demo news site, served on 127.0.0.1.

``crawler demo`` crawls it, and the end-to-end tests compare what the crawler
stored with the ground truth exposed here::

    with serve(include_bad=True) as site:
        ...  # crawl site.base_url + "/"
        assert stored == expected_articles(site.base_url) + bad_articles(site.base_url)
"""

from __future__ import annotations

from crawler.demo.pages import OVERSIZE_BYTES
from crawler.demo.site import DemoSite, LiveDemoSite, serve
from crawler.demo.truth import bad_articles, bad_pages, duplicate_pages, expected_articles

__all__ = [
    "OVERSIZE_BYTES",
    "DemoSite",
    "LiveDemoSite",
    "bad_articles",
    "bad_pages",
    "duplicate_pages",
    "expected_articles",
    "serve",
]
