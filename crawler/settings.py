"""Scrapy settings of the news crawl service, and its only reader of ``os.environ``.

Scrapy's own settings and the components this service enables live here. The
settings a component of this project reads have their defaults in that
component (the frontier in :mod:`crawler.frontier.defaults`, the others on
their classes), so each works in any Scrapy project; this module sets only what
the service wants otherwise, or takes from the environment. Every setting can
be overridden per worker with ``crawler worker -s NAME=VALUE``.
"""

from __future__ import annotations

import os

from crawler.frontier import defaults as frontier_defaults
from crawler.store import delivery as delivery_defaults

BOT_NAME = "crawler"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "news-crawler/0.1 (+https://example.invalid/bot)"
ROBOTSTXT_OBEY = True
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = os.environ.get("CRAWLER_LOG_LEVEL", "INFO")

CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
DEPTH_LIMIT = 6
DEPTH_PRIORITY = 0
# Stats keys and telnet are not useful in worker containers.
TELNETCONSOLE_ENABLED = False

# --- Redis and the shared frontier -------------------------------------------
# Every FRONTIER_* setting has its default in crawler/frontier/defaults.py (so
# the frontier works in any Scrapy project); the service sets only what it must.
SCHEDULER = "crawler.frontier.Scheduler"
DUPEFILTER_CLASS = "crawler.frontier.DupeFilter"
REQUEST_FINGERPRINTER_CLASS = "crawler.base.urls.RequestFingerprinter"
REDIS_URL = os.environ.get("REDIS_URL", frontier_defaults.REDIS_URL)
# Every process of a crawl must agree on its seen filter, so these are read from
# the environment too (crawler seed and status follow the filter a crawl recorded).
FRONTIER_SEEN = os.environ.get("FRONTIER_SEEN", frontier_defaults.FRONTIER_SEEN)
FRONTIER_BLOOM_CAPACITY = os.environ.get("FRONTIER_BLOOM_CAPACITY", frontier_defaults.FRONTIER_BLOOM_CAPACITY)
FRONTIER_BLOOM_ERROR_RATE = os.environ.get("FRONTIER_BLOOM_ERROR_RATE",
                                           frontier_defaults.FRONTIER_BLOOM_ERROR_RATE)

# --- Networks -----------------------------------------------------------------
# Refuse private, loopback, link-local and metadata addresses unless allowed.
CRAWLER_ALLOW_PRIVATE_NETWORKS = os.environ.get(
    "CRAWLER_ALLOW_PRIVATE_NETWORKS", ""
).strip().lower() in {"1", "true", "yes", "on"}
# Scrapy's caching resolver, refusing private answers: no connection reaches one (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.worker.netguard.GuardedResolver"
# Only http and https are fetched: Scrapy's file, ftp, s3 and data handlers ignore the
# host, so a file://<seeded host>/etc/passwd link would read a worker-local file.
# The network guard refuses those schemes too (always, CRAWLER_ALLOW_PRIVATE_NETWORKS or not).
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}

# --- Components ---------------------------------------------------------------
# Each component carries the defaults of the settings it reads (EXTRACT_*,
# DEDUPE_*, LINKS_*, METRICS_*): see the settings table in the README.
DOWNLOADER_MIDDLEWARES = {
    "crawler.worker.netguard.PrivateNetworkGuard": 50,
    # Scrapy's own lets some requests past robots.txt; see crawler/robots.py.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.worker.robots.RobotsTxtMiddleware": 100,
    "crawler.frontier.politeness.RetryAfterMiddleware": 590,
    # After every other middleware (Scrapy's go up to 900): it archives each response as
    # received, before it is decompressed, redirected or retried (crawler/worker/warc.py).
    "crawler.worker.warc.WarcWriterMiddleware": 950,
}
SPIDER_MIDDLEWARES = {}
ITEM_PIPELINES = {
    "crawler.worker.pipelines.NormalizePipeline": 100,
    "crawler.worker.pipelines.ValidatePipeline": 200,
    "crawler.worker.pipelines.DedupeStorePipeline": 300,
}
EXTENSIONS = {
    "crawler.worker.heartbeat.WorkerHeartbeat": 100,
    "crawler.metrics.MetricsExporter": 110,
}

# --- WARC archive ---------------------------------------------------------------
# Every response is written as WARC into this folder (empty: none); `crawler worker --warc DIR`
# sets it too. WARC_MAX_BYTES (rotation) has its default on the middleware.
WARC_DIR = os.environ.get("WARC_DIR", "")

# --- Delivery (crawler deliver) ---------------------------------------------------
# The DELIVER_* defaults are in crawler/store/delivery.py; the environment may set
# them (deploy/), as it sets DATABASE_URL, the default sink of crawler deliver.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DELIVER_BATCH = os.environ.get("DELIVER_BATCH", delivery_defaults.DELIVER_BATCH)
DELIVER_CLAIM_IDLE_SECONDS = os.environ.get("DELIVER_CLAIM_IDLE_SECONDS",
                                            delivery_defaults.DELIVER_CLAIM_IDLE_SECONDS)
DELIVER_FILE_MAX_BYTES = os.environ.get("DELIVER_FILE_MAX_BYTES", delivery_defaults.DELIVER_FILE_MAX_BYTES)
DELIVER_FILE_MAX_SECONDS = os.environ.get("DELIVER_FILE_MAX_SECONDS", delivery_defaults.DELIVER_FILE_MAX_SECONDS)

# --- Metrics --------------------------------------------------------------------
# Where the worker's /metrics and /healthz listen: MetricsConfig's default
# (crawler/metrics/exporter.py, loopback) unless the environment says otherwise. The worker image sets METRICS_HOST=0.0.0.0 so that Prometheus (and
# only Prometheus: deploy/k8s/networkpolicy.yaml) reaches it; `crawler crawl`
# and `crawler demo` always give their workers 127.0.0.1.
if "METRICS_HOST" in os.environ:
    METRICS_HOST = os.environ["METRICS_HOST"]

FEED_EXPORT_ENCODING = "utf-8"
