"""The shared Redis frontier: use it from any Scrapy project by settings alone::

    SCHEDULER = "crawler.frontier.Scheduler"
    DUPEFILTER_CLASS = "crawler.frontier.DupeFilter"
    REDIS_URL = "redis://127.0.0.1:6379/0"
"""

from crawler.frontier.core import Frontier, FrontierCounts, QueueEntry
from crawler.frontier.dupefilter import DupeFilter
from crawler.frontier.scheduler import FrontierConfig, Scheduler

__all__ = ["DupeFilter", "Frontier", "FrontierConfig", "FrontierCounts", "QueueEntry", "Scheduler"]
