"""A worker's own caches are bounded (issue 10, item 12): the guard's DNS answers, robots.txt."""

from __future__ import annotations

import asyncio
import itertools

from scrapy.utils.test import get_crawler

from crawler.worker.netguard import PrivateNetworkGuard
from crawler.worker.robots import RobotsTxtMiddleware


def _spellings(name: str, count: int) -> list[str]:
    """``count`` spellings of ``name`` that differ in case: one host for DNS, a cache key each."""
    variants = ("".join(letters) for letters in itertools.product(*((c.lower(), c.upper()) for c in name)))
    return list(itertools.islice(variants, count))


def test_the_guards_dns_cache_keeps_at_most_its_size():
    guard = PrivateNetworkGuard(get_crawler().stats, cache_size=8)
    names = _spellings("localhost", 40)

    async def resolve_all() -> list[list[str]]:
        return [await guard._resolve(name) for name in names]

    answers = asyncio.run(resolve_all())
    assert all("127.0.0.1" in answer for answer in answers)
    assert list(guard._cache) == names[-8:]  # the most recently used


def test_the_guard_takes_its_cache_size_from_dnscache_size():
    crawler = get_crawler(settings_dict={"DNSCACHE_SIZE": 123})
    assert PrivateNetworkGuard.from_crawler(crawler).cache_size == 123


def test_robots_txt_is_read_again_once_older_than_the_host_forget_time():
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "FRONTIER_HOST_FORGET_SECONDS": 100})
    middleware = RobotsTxtMiddleware(crawler)
    assert middleware.max_age == 100
    for netloc, parsed_at in (("old.example", 1000.0), ("fresh.example", 1050.0), ("other.example", 990.0)):
        middleware._parsers[netloc] = object()
        middleware._parsed_at[netloc] = parsed_at
    middleware._swept_at = 1060.0
    middleware.forget_old("old.example", 1101.0)
    # old.example is read again on its next request; the others are left until the sweep.
    assert set(middleware._parsers) == {"fresh.example", "other.example"}
    middleware.forget_old("fresh.example", 1121.0)  # a minute since the last sweep: all old ones go
    assert set(middleware._parsers) == set(middleware._parsed_at) == {"fresh.example"}
