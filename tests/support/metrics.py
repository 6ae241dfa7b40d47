"""A crawler with the project's METRICS_* and FRONTIER_* settings, and the samples it exports."""

from __future__ import annotations

import scrapy
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings

PROJECT = {name: getattr(project_settings, name) for name in dir(project_settings)
           if name.startswith(("METRICS_", "FRONTIER_"))}

GAUGES = {"crawler_frontier_queued", "crawler_frontier_in_flight", "crawler_frontier_seen",
          "crawler_frontier_dead_letters", "crawler_workers_alive", "crawler_redis_up",
          "crawler_crawl_paused"}
"""The gauges read from Redis at scrape time (left out, but for redis_up, when it is down)."""


class NewsSpider(scrapy.Spider):
    name = "news"


def metrics_crawler(**settings):
    return get_crawler(NewsSpider, settings_dict={**PROJECT, **settings})


def crawler_samples(registry: CollectorRegistry) -> dict[tuple, float]:
    """Every sample of ``registry``: (name, sorted labels) -> value, process metrics left out."""
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("crawler_") and not sample.name.endswith("_created")
    }
