"""The worker's heartbeat sends its error log lines to the crawl's recent errors in Redis."""

from __future__ import annotations

import json
import logging
import os

import scrapy
from scrapy.utils.test import get_crawler

from crawler.base.keys import Keys
from crawler.worker.heartbeat import ERRORS_KEPT, WorkerHeartbeat

KEYS = Keys("news")


class _Spider(scrapy.Spider):
    name = "news"


def test_workers_send_their_error_log_lines_to_the_recent_errors(redis_url, r):
    crawler = get_crawler(_Spider, settings_dict={"REDIS_URL": redis_url})
    heartbeat = WorkerHeartbeat(crawler, until_idle=0)
    heartbeat.spider_opened(_Spider())
    log = logging.getLogger("tests.top")
    log.warning("not an error")
    log.error("first line of a long one\nsecond line")
    for number in range(ERRORS_KEPT + 10):
        log.error("boom %d", number)
    heartbeat.flush()
    heartbeat.spider_closed(_Spider(), "finished")
    log.error("after the spider closed")
    heartbeat.flush()

    entries = [json.loads(raw) for raw in r.lrange(KEYS.errors, 0, -1)]
    assert [entry["message"] for entry in entries] == [
        f"boom {number}" for number in reversed(range(10, ERRORS_KEPT + 10))]
    assert {entry["logger"] for entry in entries} == {"tests.top"}
    assert {entry["worker"] for entry in entries} == {f"{os.uname().nodename}:{os.getpid()}"}
    assert all(isinstance(entry["time"], float) for entry in entries)

    r.delete(KEYS.errors)
    heartbeat.spider_opened(_Spider())
    log.error("first line of a long one\nsecond line")
    heartbeat.spider_closed(_Spider(), "finished")  # flushes on close
    assert [json.loads(raw)["message"] for raw in r.lrange(KEYS.errors, 0, -1)] == [
        "first line of a long one"]
