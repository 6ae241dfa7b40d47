"""crawler.worker.pipelines, built from a crawler and run against the test Redis."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
import redis
import scrapy
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.frontier.core import Frontier
from crawler.store.export import iter_articles
from crawler.base.keys import Keys
from crawler.worker.pipelines import DedupeStorePipeline, NormalizePipeline, ValidatePipeline

KEYS = Keys("news")

BODY = (
    "The city council voted on Tuesday night to approve a budget of 412 million dollars for the "
    "coming fiscal year, ending weeks of debate over how to pay for road repairs and a new library "
    "branch on the east side.\n\n"
    "The measure passed by a vote of seven to two. Council member Rita Alvarez, who voted against "
    "it, said the plan relied too heavily on a one-time transfer from the reserve fund.\n\n"
    "Supporters argued that the roads could not wait another year. The public works department has "
    "estimated that nearly a third of the city's streets are in poor condition."
)
OTHER_BODY = (
    "A powerful storm swept across the northern coast on Sunday, knocking out power to more than "
    "80,000 homes and forcing the closure of two major highways as winds gusted above 100 "
    "kilometers an hour.\n\n"
    "Emergency crews worked through the night to clear fallen trees from roads around the port "
    "town of Kessel, where a section of the harbor wall was damaged by waves. No deaths were "
    "reported, but three people were treated in hospital for minor injuries."
)


class NewsSpider(scrapy.Spider):
    name = "news"


def make_crawler(redis_url: str, **overrides):
    """A crawler with the pipelines' own defaults (no project settings but ``REDIS_URL``)."""
    settings = {"REDIS_URL": redis_url}
    settings.update(overrides)
    crawler = get_crawler(NewsSpider, settings_dict=settings)
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    return crawler


def run(coroutine):
    """Run ``coroutine`` on a private event loop (leaves the global one alone)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def extracted(url: str, body: str = BODY, **overrides) -> dict:
    item = {
        "url": url,
        "canonical_url": None,
        "title": "Council approves budget",
        "authors": ["By Jane Doe"],
        "published": "2017-11-14T09:30:00Z",
        "modified": None,
        "section": "Politics",
        "body": body,
        "description": None,
        "language": "en",
        "site_name": "Example News",
        "domain": "example.com",
        "related": [],
    }
    item.update(overrides)
    return item


class Chain:
    """The three pipelines in ITEM_PIPELINES order, opened like Scrapy does."""

    def __init__(self, crawler):
        order = sorted(project_settings.ITEM_PIPELINES, key=project_settings.ITEM_PIPELINES.get)
        assert order == [
            "crawler.worker.pipelines.NormalizePipeline",
            "crawler.worker.pipelines.ValidatePipeline",
            "crawler.worker.pipelines.DedupeStorePipeline",
        ]
        self.crawler = crawler
        self.normalize = NormalizePipeline.from_crawler(crawler)
        self.validate = ValidatePipeline.from_crawler(crawler)
        self.dedupe = DedupeStorePipeline.from_crawler(crawler)

    def process(self, item):
        """The stored item, or the DropItem message."""
        async def chain():
            normalized = self.normalize.process_item(item)
            valid = await self.validate.process_item(normalized)
            return await self.dedupe.process_item(valid)

        try:
            return run(chain())
        except DropItem as exc:
            return str(exc)

    def close(self):
        pass  # the pipelines own no client: the crawl's frontier does

    def stats(self, prefix=""):
        return {
            k: v for k, v in self.crawler.stats.get_stats().items() if k.startswith(prefix)
        }


@pytest.fixture
def chain(redis_url):
    pipelines = Chain(make_crawler(redis_url))
    yield pipelines
    pipelines.close()


# --- NormalizePipeline --------------------------------------------------------


def test_normalize_pipeline(redis_url):
    pipeline = NormalizePipeline.from_crawler(make_crawler(redis_url))
    item = extracted("https://Example.com/a?utm_source=x")
    article = pipeline.process_item(item)
    assert article is not item
    assert article["spider"] == "news"
    assert article["canonical_url"] == "https://example.com/a"
    assert article["authors"] == ["Jane Doe"]
    assert article["published"] == "2017-11-14T09:30:00+00:00"
    assert datetime.fromisoformat(article["crawled_at"]).utcoffset().total_seconds() == 0


def test_normalize_pipeline_drops_items_without_url(redis_url):
    crawler = make_crawler(redis_url)
    pipeline = NormalizePipeline.from_crawler(crawler)
    with pytest.raises(DropItem, match="no url"):
        pipeline.process_item({"title": "x"})
    assert crawler.stats.get_value("articles/invalid/no_url") == 1


# --- ValidatePipeline ---------------------------------------------------------


def test_validate_pipeline_drops_untitled_and_short_articles(chain, r):
    assert chain.process(extracted("https://example.com/untitled", title=" &nbsp; ")) == (
        "no_title: article has no title: https://example.com/untitled"
    )
    short = " ".join(["word"] * 39)
    assert chain.process(extracted("https://example.com/short", body=short)) == (
        "too_short: article body has 39 words, fewer than 40: https://example.com/short"
    )
    assert chain.stats("articles/") == {
        "articles/invalid/no_title": 1,
        "articles/invalid/too_short": 1,
    }
    assert r.hgetall(KEYS.stats) == {"articles_invalid": "2"}
    assert r.exists(KEYS.articles) == 0


def test_validate_pipeline_keeps_articles_at_the_minimum(redis_url, r):
    crawler = make_crawler(redis_url)
    pipeline = ValidatePipeline.from_crawler(crawler)
    item = {"title": "A title", "body": " ".join(["word"] * 40), "url": "https://example.com/a"}
    assert run(pipeline.process_item(item)) is item
    assert crawler.stats.get_value("articles/invalid/too_short") is None
    assert r.hgetall(KEYS.stats) == {}


def test_validate_pipeline_reads_extract_min_words(redis_url):
    pipeline = ValidatePipeline.from_crawler(make_crawler(redis_url, EXTRACT_MIN_WORDS=3))
    assert pipeline.min_words == 3
    with pytest.raises(NotConfigured, match="EXTRACT_MIN_WORDS"):
        ValidatePipeline.from_crawler(make_crawler(redis_url, EXTRACT_MIN_WORDS=-1))


# --- DedupeStorePipeline ------------------------------------------------------


def test_dedupe_store_pipeline_outcomes(chain, r):
    first = chain.process(extracted("https://example.com/a"))
    assert isinstance(first, dict)
    assert chain.process(extracted("https://example.com/a?utm_medium=social#top", body=OTHER_BODY)) == (
        "duplicate_url: https://example.com/a?utm_medium=social#top"
    )
    assert chain.process(extracted("https://example.com/b", body=BODY.upper())) == (
        "duplicate_content: https://example.com/b"
    )
    near_body = BODY.replace("seven to two", "seven to three")
    assert chain.process(extracted("https://example.com/c", body=near_body)) == (
        "near_duplicate: https://example.com/c"
    )
    other = chain.process(extracted("https://example.com/d", body=OTHER_BODY))
    assert isinstance(other, dict)

    assert list(iter_articles(r, KEYS)) == [first, other]
    assert chain.stats("articles/") == {"articles/stored": 2}
    assert chain.stats("dedupe/") == {
        "dedupe/duplicate_url": 1,
        "dedupe/duplicate_content": 1,
        "dedupe/near_duplicate": 1,
    }
    assert r.hgetall(KEYS.stats) == {
        "articles_stored": "2",
        "duplicate_url": "1",
        "duplicate_content": "1",
        "near_duplicate": "1",
    }


def test_dedupe_disabled_stores_everything(redis_url, r):
    pipelines = Chain(make_crawler(redis_url, DEDUPE_ENABLED=False))
    try:
        for _ in range(2):
            assert isinstance(pipelines.process(extracted("https://example.com/a")), dict)
    finally:
        pipelines.close()
    assert r.xlen(KEYS.articles) == 2
    assert pipelines.stats("articles/") == {"articles/stored": 2}


def test_dedupe_threshold_setting(redis_url):
    pipeline = DedupeStorePipeline.from_crawler(make_crawler(redis_url, DEDUPE_NEAR_THRESHOLD="0.9"))
    assert pipeline.threshold == 0.9
    assert pipeline.store.threshold == 0.9
    assert DedupeStorePipeline.from_crawler(make_crawler(redis_url)).threshold == 0.65
    for wrong in (0, -0.1, 1.5, "nan"):
        with pytest.raises(ValueError, match=r"DEDUPE_NEAR_THRESHOLD must be in \(0, 1\], got "):
            DedupeStorePipeline.from_crawler(make_crawler(redis_url, DEDUPE_NEAR_THRESHOLD=wrong))


def test_dedupe_window_setting(redis_url):
    assert DedupeStorePipeline.from_crawler(make_crawler(redis_url)).store.window_days == 30
    pipeline = DedupeStorePipeline.from_crawler(make_crawler(redis_url, DEDUPE_WINDOW_DAYS="7"))
    assert pipeline.store.window_days == 7
    for wrong in (0, -3, "a week", "1.5"):
        with pytest.raises(ValueError, match=r"DEDUPE_WINDOW_DAYS must be a whole number of days, at least 1"):
            DedupeStorePipeline.from_crawler(make_crawler(redis_url, DEDUPE_WINDOW_DAYS=wrong))


def test_redis_errors_propagate_and_lose_nothing(chain, r, caplog):
    r.set(KEYS.articles, "not a stream")  # every XADD now fails
    item = extracted("https://example.com/a")
    with caplog.at_level(logging.ERROR, logger="crawler.worker.pipelines"):
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            run(chain.dedupe.process_item(chain.normalize.process_item(item)))
    [record] = caplog.records
    assert record.getMessage().startswith(
        "Could not store article https://example.com/a in crawler:{news}:articles, it is not "
        "saved (ResponseError: WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert chain.stats("articles/") == {}
    assert chain.stats("dedupe/") == {}
    # Nothing marks it as seen: once Redis works again, the retry stores it.
    r.delete(KEYS.articles)
    assert isinstance(chain.process(item), dict)
    assert r.xlen(KEYS.articles) == 1


def test_pipelines_share_the_crawls_one_frontier_and_client(redis_url):
    crawler = make_crawler(redis_url)
    frontier = Frontier.for_crawler(crawler)
    validate = ValidatePipeline.from_crawler(crawler)
    dedupe = DedupeStorePipeline.from_crawler(crawler)
    assert Frontier.for_crawler(crawler) is frontier
    assert validate.client is frontier.client is dedupe.store.client
    assert dedupe.store.keys == validate.keys == KEYS
    # A second crawl in the same process gets a frontier of its own.
    assert Frontier.for_crawler(make_crawler(redis_url)) is not frontier
