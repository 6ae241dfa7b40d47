"""Prometheus metrics of a worker: ``/metrics`` and ``/healthz`` on ``METRICS_PORT``.

* :mod:`crawler.metrics.collector`: the Scrapy stats and the shared frontier,
  mapped to metrics at scrape time.
* :mod:`crawler.metrics.http`: the WSGI app and its server thread, the health check.
* :mod:`crawler.metrics.exporter`: the Scrapy extension tying them to a worker
  (``EXTENSIONS = {"crawler.metrics.MetricsExporter": ...}``).
"""

from __future__ import annotations

from crawler.metrics.collector import CrawlCollector, download_error_reason
from crawler.metrics.exporter import MetricsConfig, MetricsExporter
from crawler.metrics.http import HealthCheck, MetricsServer, make_app

__all__ = ["CrawlCollector", "HealthCheck", "MetricsConfig", "MetricsExporter", "MetricsServer",
           "download_error_reason", "make_app"]
