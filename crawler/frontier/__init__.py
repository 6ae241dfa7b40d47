"""The shared Redis frontier: use it from any Scrapy project by settings alone::

    SCHEDULER = "crawler.frontier.Scheduler"
    DUPEFILTER_CLASS = "crawler.frontier.DupeFilter"
    REDIS_URL = "redis://127.0.0.1:6379/0"

Every other setting it reads has its default in :mod:`crawler.frontier.defaults`
and is checked by :class:`~crawler.frontier.config.FrontierConfig`.
"""

from crawler.frontier.core import Frontier, FrontierCounts, QueueEntry
from crawler.frontier.dupefilter import DupeFilter
from crawler.frontier.config import FrontierConfig
from crawler.frontier.scheduler import Scheduler

__all__ = ["DupeFilter", "Frontier", "FrontierConfig", "FrontierCounts", "QueueEntry", "Scheduler"]
