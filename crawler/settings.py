"""Scrapy settings of the news crawl service: the one place each default lives.

Every setting can be overridden per worker with ``crawler worker -s NAME=VALUE``
or, for the few that operators set per deployment, from the environment.
"""

from __future__ import annotations

import os

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
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SCHEDULER = "crawler.frontier.Scheduler"
DUPEFILTER_CLASS = "crawler.frontier.DupeFilter"
REQUEST_FINGERPRINTER_CLASS = "crawler.base.urls.RequestFingerprinter"
# How long a worker may hold a request before others may take it back.
FRONTIER_LEASE_SECONDS = 120.0
# How often a worker renews its leases, flushes counters and says it is alive.
FRONTIER_HEARTBEAT_SECONDS = 2.0
# A worker whose last heartbeat is older than this counts as gone.
FRONTIER_WORKER_TIMEOUT = 30.0
# Requests leased per round trip (a host with a delay gives one per lease).
FRONTIER_LEASE_BATCH = 8
# Expired leases of one request before it is set aside as a dead letter.
FRONTIER_MAX_ATTEMPTS = 3
# Exit once the whole frontier has been empty this long (0: never; --until-idle).
FRONTIER_UNTIL_IDLE = 0.0
# Minimum delay between two fetches of one host, shared by all workers.
# A longer robots.txt Crawl-delay wins (up to FRONTIER_MAX_CRAWL_DELAY).
FRONTIER_HOST_DELAY = 1.0
FRONTIER_MAX_CRAWL_DELAY = 30.0
# A 429 or 503 keeps every worker off its host for Retry-After seconds (capped),
# or FRONTIER_BACKOFF_SECONDS when the response names none.
FRONTIER_BACKOFF_SECONDS = 10.0
FRONTIER_MAX_RETRY_AFTER = 600.0
# "set": exact fingerprints (~100 bytes/URL); "bloom": a Bloom filter in Redis
# (<= 2 bytes/URL at 0.1%; a false positive is a URL never fetched).
# Every process of a crawl must agree, so these are read from the environment too
# (crawler seed and status follow the filter a crawl recorded).
FRONTIER_SEEN = os.environ.get("FRONTIER_SEEN", "set")
FRONTIER_BLOOM_CAPACITY = os.environ.get("FRONTIER_BLOOM_CAPACITY", 10_000_000)
FRONTIER_BLOOM_ERROR_RATE = os.environ.get("FRONTIER_BLOOM_ERROR_RATE", 0.001)
# With "bloom": use RedisBloom's BF.ADD where the server has it (else Lua-driven bitmaps).
FRONTIER_BLOOM_MODULE = True

# --- Link policy of the news spider -------------------------------------------
# Priority added to links of "More <Section>" blocks so they are fetched first.
LINKS_RELATED_PRIORITY = 10
# Crawler traps: endless calendars, session ids, sort orders, print/share views.
LINKS_DENY_PATTERNS = [
    r"/calendar(/|$|\?)",
    r"[?&](date|day|month|year|week)=",
    r"/\d{4}/\d{1,2}/\d{1,2}/?$",
    r"[?&;](sid|sessionid|session_id|jsessionid|phpsessid)=",
    r";jsessionid=",
    r"[?&](sort|order|orderby|sort_by|sortorder)=",
    r"[?&](print|share|replytocom)=",
    r"/(login|signin|signup|register|subscribe|account|cart)(/|$|\?)",
]

# --- Networks -----------------------------------------------------------------
# Refuse private, loopback, link-local and metadata addresses unless allowed.
CRAWLER_ALLOW_PRIVATE_NETWORKS = os.environ.get(
    "CRAWLER_ALLOW_PRIVATE_NETWORKS", ""
).strip().lower() in {"1", "true", "yes", "on"}
# Scrapy's caching resolver, refusing private answers: no connection reaches one (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.worker.netguard.GuardedResolver"

# --- Extraction, validation and deduplication ---------------------------------
# Articles with fewer words in their body are dropped as invalid.
EXTRACT_MIN_WORDS = 40
# Near-duplicates: bodies whose word 3-shingle sets have at least this Jaccard
# similarity, as estimated by MinHash (0 < value <= 1; crawler/dedupe.py).
DEDUPE_NEAR_THRESHOLD = 0.8
DEDUPE_ENABLED = True

DOWNLOADER_MIDDLEWARES = {
    "crawler.worker.netguard.PrivateNetworkGuard": 50,
    # Scrapy's own lets some requests past robots.txt; see crawler/robots.py.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.worker.robots.RobotsTxtMiddleware": 100,
    "crawler.frontier.politeness.RetryAfterMiddleware": 590,
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

# --- Metrics --------------------------------------------------------------------
# Port of the worker's /metrics and /healthz (None or "": off; 0: a free port, logged).
METRICS_PORT = 9410
METRICS_HOST = os.environ.get("METRICS_HOST", "0.0.0.0")
# The frontier gauges are read from Redis at most once per this many seconds.
METRICS_CACHE_SECONDS = 1.0
# Upper bounds of crawler_download_latency_seconds (DOWNLOAD_TIMEOUT is 30).
METRICS_LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0]
# /healthz answers 503 once the reactor has not turned for this many seconds.
METRICS_HEALTHZ_STALL_SECONDS = 10.0

FEED_EXPORT_ENCODING = "utf-8"
