"""One crawl of the benchmark site, in its own process (a reactor cannot restart).

    python -m benchmarks.frontier.worker CONFIG_JSON

CONFIG_JSON holds ``mode`` (plain, ours or stock), ``redis_url``,
``start_url``, ``result`` (where to write the figures as JSON) and optionally
``profile`` (a cProfile output path) and ``settings`` (added to the configuration's). The worker prints "ready" once
everything is imported and crawls when it reads "go" on stdin, so that two
workers start together. Round trips and commands sent to Redis are counted by
:data:`TRAFFIC`, installed before anything connects.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from benchmarks.frontier import OURS, PLAIN, SPIDER, STOCK
from crawler.frontier.core import Frontier

__all__ = ["TRAFFIC", "FrontierIdleClose", "LinkSpider", "crawl_settings", "frontier_defaults", "run"]

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


class _RedisTraffic:
    """Round trips and commands sent by this process's redis-py connections.

    What is sent while ``benchmark`` is set (the idle-close check) is counted
    apart, so that the figures are the scheduler's own.
    """

    def __init__(self) -> None:
        self.round_trips = self.commands = self.benchmark_round_trips = self.benchmark_commands = 0
        self.benchmark = False

    def install(self) -> None:
        """Count every send (one per command or pipeline) and every packed command."""
        from redis import connection

        original_send = connection.AbstractConnection.send_packed_command

        def send_packed_command(conn, command, check_health=True):
            if self.benchmark:
                self.benchmark_round_trips += 1
            else:
                self.round_trips += 1
            return original_send(conn, command, check_health)

        connection.AbstractConnection.send_packed_command = send_packed_command
        for packer in (connection.PythonRespSerializer, connection.HiredisRespSerializer):
            original_pack = packer.pack

            def pack(serializer, *args, _original=original_pack):
                if self.benchmark:
                    self.benchmark_commands += 1
                else:
                    self.commands += 1
                return _original(serializer, *args)

            packer.pack = pack

    @contextmanager
    def not_counted(self):
        self.benchmark = True
        try:
            yield
        finally:
            self.benchmark = False


TRAFFIC = _RedisTraffic()


class LinkSpider(scrapy.Spider):
    """Follows every link; with the frontier, its start comes from the seeds in Redis."""

    name = SPIDER

    def __init__(self, start_url: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url

    async def start(self):
        if self.start_url:
            yield scrapy.Request(self.start_url)

    def parse(self, response):
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)


class FrontierIdleClose:
    """Lets the spider close once the whole frontier is idle: nothing queued, nothing in flight.

    ``WorkerHeartbeat``'s ``--until-idle`` rule, checked on every ``spider_idle``
    instead of once a second. While other work is in flight it keeps the
    spider open and has the engine ask the scheduler again in ``recheck``
    seconds (another worker may still queue links).
    """

    recheck = 0.05

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.frontier: Frontier | None = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    def spider_opened(self, spider) -> None:
        self.frontier = Frontier.for_crawler(self.crawler)

    def spider_idle(self, spider) -> None:
        with TRAFFIC.not_counted():
            idle = self.frontier.counts().idle
        if idle:
            return
        from twisted.internet import reactor

        slot = self.crawler.engine._slot
        reactor.callLater(self.recheck, slot.nextcall.schedule)
        raise DontCloseSpider


def frontier_defaults() -> dict:
    """What the frontier needs beyond its own defaults (crawler/frontier/defaults.py) here:
    no delay between fetches of one host."""
    return {"FRONTIER_HOST_DELAY": 0.0}  # one local host, crawled as fast as possible


def crawl_settings(mode: str, redis_url: str) -> dict:
    """The settings of one configuration: the same for all but the scheduler and what it needs."""
    settings = {
        "BOT_NAME": SPIDER, "TWISTED_REACTOR": REACTOR, "ROBOTSTXT_OBEY": False, "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False, "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
        "ITEM_PIPELINES": {}, "EXTENSIONS": {},
    }
    if mode == PLAIN:
        settings |= {"SCHEDULER": "scrapy.core.scheduler.Scheduler",
                     "DUPEFILTER_CLASS": "scrapy.dupefilters.RFPDupeFilter"}
    elif mode == OURS:
        settings |= {"SCHEDULER": "crawler.frontier.Scheduler", "DUPEFILTER_CLASS": "crawler.frontier.DupeFilter",
                     "REDIS_URL": redis_url, **frontier_defaults(),
                     "EXTENSIONS": {f"{__name__}.FrontierIdleClose": 100}}
    elif mode == STOCK:
        settings |= {"SCHEDULER": "scrapy_redis.scheduler.Scheduler",
                     "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
                     "SCHEDULER_PERSIST": False, "REDIS_URL": redis_url}
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return settings


def run(config: dict) -> int:
    """Crawl once in this process and write what happened to ``config["result"]`` as JSON."""
    TRAFFIC.install()
    from scrapy.crawler import CrawlerProcess

    # "settings", when given, are added to the configuration's (the WARC benchmark's archive).
    process = CrawlerProcess({**crawl_settings(config["mode"], config["redis_url"]), **config.get("settings", {})})
    crawler = process.create_crawler(LinkSpider)
    cpu: dict[str, float] = {}
    crawler.signals.connect(lambda spider: cpu.__setitem__("opened", time.process_time()),
                            signal=signals.spider_opened, weak=False)
    crawler.signals.connect(lambda spider, reason: cpu.__setitem__("closed", time.process_time()),
                            signal=signals.spider_closed, weak=False)
    process.crawl(crawler, start_url=None if config["mode"] == OURS else config["start_url"])
    # Imports done: start when the benchmark says so (two workers start together).
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    os.dup2(2, 1)  # nobody reads our stdout any more: anything printed goes to the log
    if config.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(process.start)
        profiler.dump_stats(config["profile"])
    else:
        process.start()
    stats = crawler.stats.get_stats()
    result = {
        "pages": stats.get("response_received_count", 0),
        "start": stats["start_time"].timestamp(), "finish": stats["finish_time"].timestamp(),
        "finish_reason": stats.get("finish_reason"), "errors": stats.get("log_count/ERROR", 0),
        "cpu_seconds": cpu.get("closed", 0.0) - cpu.get("opened", 0.0),
        "round_trips": TRAFFIC.round_trips, "commands": TRAFFIC.commands,
        "benchmark_round_trips": TRAFFIC.benchmark_round_trips,
        "benchmark_commands": TRAFFIC.benchmark_commands,
    }
    Path(config["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(json.loads(sys.argv[1])))
