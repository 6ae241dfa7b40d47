"""A test-only spider module: the ``news`` spider, whose extraction of ``/slow/`` pages first
sleeps :data:`SLOW_SECONDS`.

A worker run with ``-s SPIDER_MODULES=tests.support.slow_news`` (from the repository
root) crawls as usual, but reading such a page takes longer than any lease of the
test: what a page that is slow to read does to a worker, whatever makes it slow.
"""

from __future__ import annotations

import time

import crawler.spiders.news as news

__all__ = ["SLOW_SECONDS", "SlowNewsSpider"]

SLOW_SECONDS = 8.0

_extract_article = news.extract_article


def _slow_extract_article(html, url, **kwargs):
    if "/slow/" in url:
        time.sleep(SLOW_SECONDS)
    return _extract_article(html, url, **kwargs)


# The spider looks extract_article up in its module each time it reads a page.
news.extract_article = _slow_extract_article


class SlowNewsSpider(news.NewsSpider):
    """``news``, found by the spider loader in this module."""
