"""A CJK article extraction accepts is valid to ValidatePipeline: both count words alike."""

from __future__ import annotations

import asyncio
import json

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from crawler.article.extract import extract_article
from crawler.article.normalize import normalize_article
from crawler.article.text import count_words
from crawler.base.keys import Keys
from crawler.worker.pipelines import ValidatePipeline


# A Chinese article of three paragraphs: 138 words as extraction counts them, but
# only 16 runs of word characters, which is what ValidatePipeline used to count.
CJK_PARAGRAPHS = [
    "浙江安吉的一个小镇今年春天迎来了大批游客。当地的古茶园有三百多年的历史，山上的老茶树有的已经长到两米多高。",
    "每年清明前后，来自上海、杭州和南京的游客，都会专程前来采茶、品茶、拍照。镇政府表示，今年三月的游客人数，比去年同期增长了将近一倍。",
    "茶园的主人陈大伯今年六十八岁，他从十几岁起，就跟着父亲在山上种茶、炒茶。",
]
CJK_TITLE = "江南古镇茶园迎来旅游热潮"


def cjk_page(declared: bool) -> bytes:
    """The Chinese article as a page, with a JSON-LD NewsArticle or without any metadata."""
    data = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": CJK_TITLE}
    jsonld = f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'
    return (
        f'<html lang="zh"><head><meta charset="utf-8"><title>{CJK_TITLE}</title>{jsonld if declared else ""}'
        f"</head><body><article><h1>{CJK_TITLE}</h1>{''.join(f'<p>{p}</p>' for p in CJK_PARAGRAPHS)}"
        "</article></body></html>"
    ).encode()


class NewsSpider(scrapy.Spider):
    name = "news"


def validate(redis_url: str, item: dict, min_words: int) -> dict:
    """``item`` through a ValidatePipeline built from a crawler; DropItem propagates."""
    crawler = get_crawler(NewsSpider, settings_dict={"REDIS_URL": redis_url, "EXTRACT_MIN_WORDS": min_words})
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    pipeline = ValidatePipeline.from_crawler(crawler)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(pipeline.process_item(item))
    finally:
        loop.close()


@pytest.mark.parametrize("declared", [True, False], ids=["json-ld", "no-metadata"])
def test_a_cjk_article_extraction_accepts_is_valid(redis_url, r, declared):
    # Without metadata, extraction wants 80 words and two paragraphs of prose: by
    # count_words this page has them, and ValidatePipeline counts the same words.
    article = extract_article(cjk_page(declared), "https://news.example.cn/2018/03/tea.html")
    assert article is not None
    assert article["body"].split("\n\n") == CJK_PARAGRAPHS
    stored = normalize_article(article, spider="news")
    assert stored["word_count"] == count_words(article["body"]) == 138
    for min_words in (ValidatePipeline.default_min_words, 80, 138):
        assert validate(redis_url, stored, min_words) is stored
    assert r.hgetall(Keys("news").stats) == {}  # nothing counted as invalid
