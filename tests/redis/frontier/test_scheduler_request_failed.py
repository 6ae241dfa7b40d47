"""The ``request_failed`` signal: a request Scrapy finishes but whose work was not done is retried."""

from __future__ import annotations

import pytest
import scrapy
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.base.keys import Keys
from crawler.frontier import Scheduler
from crawler.frontier.scheduler import request_failed
from tests.support.engine import stand_in_engine

KEYS = Keys("news")


class _Spider(scrapy.Spider):
    name = "news"


@pytest.fixture
def opened(redis_url):
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url, "FRONTIER_HOST_DELAY": 0})
    crawler.engine = stand_in_engine()
    scheduler = Scheduler.from_crawler(crawler)
    scheduler.open(crawler._create_spider())
    yield crawler, scheduler
    if scheduler._maintenance is not None and scheduler._maintenance.running:
        scheduler._maintenance.stop()


def test_a_failed_request_is_retried_once_finished_and_the_others_acknowledged(opened, r):
    crawler, scheduler = opened
    for n in (1, 2):
        scheduler.enqueue_request(Request(f"https://a{n}.example/"))
    in_progress = crawler.engine._slot.inprogress
    first = scheduler.next_request()
    in_progress.add(first)  # as the engine does with each request it takes
    second = scheduler.next_request()
    in_progress.add(second)
    assert {first.url, second.url} == {"https://a1.example/", "https://a2.example/"}
    # As the WARC middleware does when it cannot write first's response.
    crawler.signals.send_catch_log(signal=request_failed, request=first)
    crawler.signals.send_catch_log(signal=request_failed, request=Request("https://other.example/"))
    scheduler._ack_finished()
    assert r.zcard(KEYS.inflight) == 2  # both still in the engine: nothing decided yet

    in_progress.clear()
    scheduler._ack_finished()
    assert r.zcard(KEYS.inflight) == 0 and not scheduler.queue.held
    assert r.hget(KEYS.stats, "requests_retried") == "1"
    assert crawler.stats.get_value("frontier/acked") == 1
    assert crawler.stats.get_value("frontier/retried") == 1
    again = scheduler.next_request()  # the failed one is queued again; the other is gone
    assert again is not None and again.url == first.url
    assert scheduler.next_request() is None
