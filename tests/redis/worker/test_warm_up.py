"""The news spider builds the date parser's tables in its extraction pool as it starts
(``EXTRACT_WARM_UP``), unless told not to."""

from __future__ import annotations

import threading

import pytest
from scrapy.utils.test import get_crawler

import crawler.spiders.news as news


@pytest.mark.parametrize(("setting", "expected"), [(None, True), (True, True), (False, False)])
def test_the_spider_warms_up_the_date_parser_in_its_pool(redis_url, monkeypatch, setting, expected):
    calls: list[str] = []
    done = threading.Event()

    def recorder():
        calls.append(threading.current_thread().name)
        done.set()

    monkeypatch.setattr(news, "warm_up", recorder)
    settings = {"REDIS_URL": redis_url}
    if setting is not None:
        settings["EXTRACT_WARM_UP"] = setting
    crawler = get_crawler(news.NewsSpider, settings_dict=settings)
    spider = crawler._create_spider()
    spider._readers.shutdown(wait=True)  # whatever was submitted has run
    assert done.is_set() is expected
    if expected:
        assert calls[0].startswith("extract")  # in the spider's pool, off the reactor
