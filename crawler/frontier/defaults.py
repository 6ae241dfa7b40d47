"""The one default of every setting the frontier reads.

The frontier is usable from any Scrapy project by settings alone (``SCHEDULER``,
``DUPEFILTER_CLASS``, ``REDIS_URL``): a project that sets nothing else gets
these values, read through :class:`crawler.frontier.config.FrontierConfig`.
This service's own ``crawler/settings.py`` overrides only what it must (for
example ``REDIS_URL`` and the seen filter from the environment), as scrapy-redis
keeps its own ``defaults.py``.
"""

from __future__ import annotations

__all__ = [
    "DELIVER_BACKLOG_MAX",
    "FRONTIER_BACKOFF_SECONDS",
    "FRONTIER_BLOOM_CAPACITY",
    "FRONTIER_BLOOM_ERROR_RATE",
    "FRONTIER_BLOOM_MODULE",
    "FRONTIER_HEARTBEAT_SECONDS",
    "FRONTIER_HOST_DELAY",
    "FRONTIER_HOST_FORGET_SECONDS",
    "FRONTIER_LEASE_BATCH",
    "FRONTIER_LEASE_SECONDS",
    "FRONTIER_MAX_ATTEMPTS",
    "FRONTIER_MAX_CRAWL_DELAY",
    "FRONTIER_HUB_MAX_FAILURES",
    "FRONTIER_MAX_ARTICLE_AGE",
    "FRONTIER_MAX_FRONTS_PER_SITE",
    "FRONTIER_MAX_RETRY_AFTER",
    "FRONTIER_REVISIT_ADAPTIVE",
    "FRONTIER_REVISIT_MAX",
    "FRONTIER_REVISIT_MIN",
    "FRONTIER_REVISIT_OVERDUE",
    "FRONTIER_SEEN",
    "FRONTIER_UNTIL_IDLE",
    "FRONTIER_WORKER_TIMEOUT",
    "REDIS_MEMORY_HIGH_WATERMARK",
    "REDIS_URL",
]

# The shared Redis (redis://, rediss:// for TLS, unix://; any node of a cluster).
REDIS_URL = "redis://127.0.0.1:6379/0"
# How long a worker may hold a request before others may take it back.
FRONTIER_LEASE_SECONDS = 120.0
# How often a worker renews its leases, pushes, acknowledges and says it is alive.
FRONTIER_HEARTBEAT_SECONDS = 2.0
# A worker whose last heartbeat is older than this counts as gone; ten times as
# old, it is removed from the crawl's workers (one that died without retiring).
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
# A host with nothing queued whose next fetch was due this long ago is forgotten
# (its next-fetch time and Crawl-delay in Redis); workers read a host's
# robots.txt again after as long (RFC 9309: a cached robots.txt at most 24 h).
FRONTIER_HOST_FORGET_SECONDS = 3600.0
# A 429 or 503 keeps every worker off its host for Retry-After seconds (capped),
# or FRONTIER_BACKOFF_SECONDS when the response names none.
FRONTIER_BACKOFF_SECONDS = 10.0
FRONTIER_MAX_RETRY_AFTER = 600.0
# "set": exact fingerprints (~100 bytes/URL); "bloom": a Bloom filter in Redis
# (<= 2 bytes/URL at 0.1%; a false positive is a URL never fetched).
FRONTIER_SEEN = "set"
FRONTIER_BLOOM_CAPACITY = 10_000_000
FRONTIER_BLOOM_ERROR_RATE = 0.001
# With "bloom": use RedisBloom's BF.ADD where the server has it (else Lua-driven bitmaps).
FRONTIER_BLOOM_MODULE = True
# Backpressure (crawler/frontier/backpressure.py): workers lease nothing while more
# articles than this wait to be delivered (0: no limit)...
DELIVER_BACKLOG_MAX = 100_000
# ...or while Redis' used_memory is above this share of its maxmemory (when it has one).
REDIS_MEMORY_HIGH_WATERMARK = 0.8
# Hubs (home pages, section fronts, feeds, sitemaps: pages revisited on a schedule;
# crawler/frontier/hubs.py, the rule in crawler/frontier/revisit.py). Each hub's interval
# stays between these two (seconds); with FRONTIER_REVISIT_ADAPTIVE off every hub is
# revisited every FRONTIER_REVISIT_MIN seconds (a fixed-interval poller).
FRONTIER_REVISIT_MIN = 300.0
FRONTIER_REVISIT_MAX = 86400.0
FRONTIER_REVISIT_ADAPTIVE = True
# Feed and sitemap entries older than this (from the entry's own date) are not queued.
FRONTIER_MAX_ARTICLE_AGE = 172800.0
# Consecutive failed visits (404, 410, 5xx after retries, parse errors) that retire a hub.
FRONTIER_HUB_MAX_FAILURES = 5
# A hub due longer ago than this and not yet visited counts as overdue (too few workers).
FRONTIER_REVISIT_OVERDUE = 300.0
# Section fronts registered per site, at most.
FRONTIER_MAX_FRONTS_PER_SITE = 30
