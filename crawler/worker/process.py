"""Running one worker process (``crawler worker``)."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from scrapy.crawler import CrawlerProcess
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.project import get_project_settings

from crawler.base.connection import connect
from crawler.base.counters import Stat

if TYPE_CHECKING:
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["UsageError", "project_settings", "run_worker"]

# Reasons a worker's spider may close with and still have done its job.
_CLEAN_REASONS = {"finished", "shutdown"}


class UsageError(ValueError):
    """A user mistake: the message is printed as one line and the command exits 2."""


def project_settings(redis_url: str | None = None, overrides: list[str] | None = None) -> Settings:
    """The project's settings with ``REDIS_URL`` and ``-s NAME=VALUE`` overrides applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    if redis_url:
        settings.set("REDIS_URL", redis_url, priority="cmdline")
    for item in overrides or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-s expects NAME=VALUE, got {item!r}")
        settings.set(name.strip(), value, priority="cmdline")
    return settings


def run_worker(settings: Settings, spider: str) -> int:
    """Run one worker until it is stopped (or idle, with FRONTIER_UNTIL_IDLE); return its exit code.

    Raises :class:`UsageError` for an unknown spider or a ``WARC_DIR`` it cannot write in, and
    :class:`crawler.base.connection.RedisUnavailable` when Redis does not answer.
    """
    if spider not in get_spider_loader(settings).list():
        raise UsageError(f"unknown spider {spider!r} (available: "
                         f"{', '.join(get_spider_loader(settings).list())})")
    warc_dir = (settings.get("WARC_DIR") or "").strip()
    if warc_dir:
        from crawler.worker.warc import prepare_directory

        try:
            prepare_directory(warc_dir)
        except OSError as exc:
            raise UsageError(f"cannot write WARC files in {warc_dir}: {exc.strerror or exc}") from None
    connect(settings.get("REDIS_URL"), check=True)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(spider)
    process.crawl(crawler)
    process.start()
    reason = crawler.stats.get_value(Stat.FINISH_REASON)
    if reason not in _CLEAN_REASONS:
        logger.error("Worker stopped: %s", reason)
        return 1
    return 0
