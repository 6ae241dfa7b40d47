"""Every counter name of the service, written once.

Three kinds of names live here, and nowhere else:

* :class:`Stat`: keys of a worker's Scrapy stats (``crawler.stats``), slash-separated.
  Some are written by this project, some by Scrapy and only read here. A name
  ending in ``/`` is a prefix: the key is the prefix and a suffix (an exception
  class, a reason, an HTTP status code).
* :class:`Field`: fields of the crawl-wide stats hash in Redis (``Keys.stats``),
  shared by every worker of a crawl and read by ``crawler status``, ``crawler top``
  and ``crawler crawl``. Some are written by Lua scripts, which cannot import this
  module: :data:`LUA_FIELDS` lists them, and ``tests/unit/base/test_counters.py``
  checks that the scripts write exactly those.
* :class:`Outcome`: what becomes of an article in the item pipelines.

and the named groups built from them (:data:`ERROR_FIELDS` is what "errors"
means everywhere). The values are stored in Redis and exported as stats by
running crawls: changing one breaks a crawl that is under way.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DISCOVERY_PATHS",
    "DUPLICATE_FIELDS",
    "ERROR_FIELDS",
    "HUB_KINDS",
    "HUB_RESULTS",
    "INVALID_REASONS",
    "LUA_FIELDS",
    "OTHER_FIELDS",
    "PAGE_STATS",
    "PIPELINE_OUTCOMES",
    "REFUSAL_FIELDS",
    "STAT_FIELDS",
    "STORE_OUTCOMES",
    "Field",
    "Outcome",
    "Stat",
    "check_hub_kind",
    "failed_stat",
    "hub_visit_stat",
    "invalid_stat",
    "log_count_stat",
    "outcome_stat",
]


class Stat:
    """Keys of a worker's Scrapy stats. Not instantiated: a namespace of constants."""

    # Written by the spider (crawler.spiders.news).
    PAGES_ARTICLE: Final = "pages/article"
    PAGES_LISTING: Final = "pages/listing"
    PAGES_NON_HTML: Final = "pages/non_html"
    PAGES_FAILED: Final = "pages/failed/"  # + exception class name: see failed_stat()
    OFFSITE_DROPPED: Final = "offsite/dropped"
    LINKS_DENIED: Final = "links/denied"
    LINKS_NOT_HTTP: Final = "links/not_http"  # file:, ftp:, mailto:... links, never followed
    # Written by the spider's hub visits (continuous discovery: feeds, sitemaps, fronts, home pages).
    HUB_VISITS: Final = "hubs/visits/"  # + kind "/" result: see hub_visit_stat()
    HUB_DISCOVERED: Final = "hubs/discovered/"  # + kind: hubs found on pages, robots.txt, indexes
    HUB_ENTRIES_QUEUED: Final = "hubs/entries/queued"  # entries/links of hubs never seen before
    HUB_ENTRIES_TOO_OLD: Final = "hubs/entries/too_old"  # older than FRONTIER_MAX_ARTICLE_AGE
    HUB_ENTRIES_OFFSITE: Final = "hubs/entries/offsite"  # another site's URL in a feed or sitemap
    HUB_ENTRIES_TRUNCATED: Final = "hubs/entries/truncated"  # past the per-hub entry cap
    HUB_PARSE_ERRORS: Final = "hubs/parse_errors"  # a feed or sitemap that could not be read
    # Written by the item pipelines (crawler.worker.pipelines).
    ARTICLES_STORED: Final = "articles/stored"
    ARTICLES_INVALID: Final = "articles/invalid/"  # + reason: see invalid_stat()
    DEDUPE: Final = "dedupe/"  # + duplicate outcome: see outcome_stat()
    # Written by the network guard (crawler.worker.netguard).
    NETGUARD_REFUSED: Final = "netguard/refused"
    NETGUARD_NOT_HTTP: Final = "netguard/not_http"  # a request for another scheme than http(s)
    # Written by the WARC archive (crawler.worker.warc).
    WARC_RECORDS: Final = "warc/records"
    WARC_BYTES: Final = "warc/bytes"
    WARC_FILES: Final = "warc/files"
    WARC_ERRORS: Final = "warc/errors"
    # Written by the frontier (crawler.frontier: scheduler, queue, politeness).
    FRONTIER_ACKED: Final = "frontier/acked"
    FRONTIER_BACKOFF: Final = "frontier/backoff"
    FRONTIER_CORRUPT: Final = "frontier/corrupt"
    FRONTIER_DUPLICATE: Final = "frontier/duplicate"
    # Requests given back to the queue, no attempt counted: Redis refused to store their articles (OOM).
    FRONTIER_GIVEN_BACK: Final = "frontier/given_back"
    FRONTIER_LATE_ACKS: Final = "frontier/late_acks"
    FRONTIER_LEASES_EXPIRED: Final = "frontier/leases_expired"
    FRONTIER_LEASES_LOST: Final = "frontier/leases_lost"
    FRONTIER_REDIS_ERRORS: Final = "frontier/redis_errors"
    FRONTIER_RETRIED: Final = "frontier/retried"
    FRONTIER_UNSERIALIZABLE: Final = "frontier/unserializable"
    SCHEDULER_ENQUEUED: Final = "scheduler/enqueued/redis"
    SCHEDULER_DEQUEUED: Final = "scheduler/dequeued/redis"
    # Written by Scrapy, read here.
    RESPONSE_RECEIVED: Final = "response_received_count"
    RESPONSE_BYTES: Final = "downloader/response_bytes"
    RESPONSE_STATUS: Final = "downloader/response_status_count/"  # + HTTP status code
    DOWNLOAD_EXCEPTION: Final = "downloader/exception_type_count/"  # + exception path
    # Scrapy also counts each one under spider_exceptions/<exception class>: not added.
    SPIDER_EXCEPTIONS: Final = "spider_exceptions/count"
    ROBOTS_FORBIDDEN: Final = "robotstxt/forbidden"
    DEPTH_IGNORED: Final = "depth/request_ignored_count"
    RETRY_COUNT: Final = "retry/count"
    LOG_COUNT: Final = "log_count/"  # + level in capitals: see log_count_stat()
    FINISH_REASON: Final = "finish_reason"


class Field:
    """Fields of the crawl-wide stats hash in Redis (``Keys.stats``). A namespace of constants."""

    # Added up by every worker's heartbeat from its Scrapy stats (STAT_FIELDS).
    PAGES: Final = "pages"
    DOWNLOAD_ERRORS: Final = "download_errors"
    HTTP_ERRORS: Final = "http_errors"
    SPIDER_ERRORS: Final = "spider_errors"
    REFUSED_PRIVATE: Final = "refused_private"
    REFUSED_ROBOTS: Final = "refused_robots"
    REFUSED_SCHEME: Final = "refused_scheme"
    OFFSITE_DROPPED: Final = "offsite_dropped"
    NON_HTML: Final = "non_html"
    CORRUPT_REQUESTS: Final = "corrupt_requests"
    # Counted by ValidatePipeline (crawler.worker.pipelines).
    ARTICLES_INVALID: Final = "articles_invalid"
    # Counted by the frontier's Lua scripts (crawler/base/lua/): retry(), which
    # RETRY and REAP use, counts the first two, REAP the third; Frontier.set_aside
    # counts DEAD_LETTERS too.
    DEAD_LETTERS: Final = "dead_letters"
    REQUESTS_RETRIED: Final = "requests_retried"
    LEASES_EXPIRED: Final = "leases_expired"
    # Counted by RENEW: leases a live worker found taken back when it renewed them.
    LEASES_LOST: Final = "leases_lost"
    # Counted by REQUEUE and DROP (``crawler dead-letters --requeue``, ``--drop``).
    DEAD_LETTERS_REQUEUED: Final = "dead_letters_requeued"
    DEAD_LETTERS_DROPPED: Final = "dead_letters_dropped"
    # Counted by the article store's Lua script (crawler/base/lua/store.lua).
    ARTICLES_STORED: Final = "articles_stored"
    DUPLICATE_URL: Final = "duplicate_url"
    DUPLICATE_CONTENT: Final = "duplicate_content"
    NEAR_DUPLICATE: Final = "near_duplicate"
    NEAR_DUPLICATE_CANDIDATES_CAPPED: Final = "near_duplicate_candidates_capped"
    NEAR_DUPLICATE_CANDIDATES_INVALID: Final = "near_duplicate_candidates_invalid"
    # Counted by DELIVERED (crawler/base/lua/delivered.lua): stream entries trimmed once
    # every consumer group of crawler deliver acknowledged them.
    ARTICLES_TRIMMED: Final = "articles_trimmed"


class Outcome:
    """What becomes of an article in the item pipelines. A namespace of constants."""

    STORED: Final = "stored"
    DUPLICATE_URL: Final = "duplicate_url"
    DUPLICATE_CONTENT: Final = "duplicate_content"
    NEAR_DUPLICATE: Final = "near_duplicate"
    INVALID: Final = "invalid"  # dropped before the store: see INVALID_REASONS


#: What :meth:`crawler.store.dedupe.ArticleStore.store` returns (its Lua script spells them too).
STORE_OUTCOMES: Final = (Outcome.STORED, Outcome.DUPLICATE_URL, Outcome.DUPLICATE_CONTENT,
                         Outcome.NEAR_DUPLICATE)
#: Every outcome of an article through the pipelines: the store's, or dropped as invalid.
PIPELINE_OUTCOMES: Final = (*STORE_OUTCOMES, Outcome.INVALID)
#: Why the pipelines drop an article as invalid (``articles/invalid/<reason>``).
INVALID_REASONS: Final = ("no_url", "no_title", "too_short")
#: Kind of page the spider parsed -> its stat.
PAGE_STATS: Final = {"article": Stat.PAGES_ARTICLE, "listing": Stat.PAGES_LISTING,
                     "non_html": Stat.PAGES_NON_HTML}

#: Kinds of hub (a page revisited on a schedule), as ``crawler sources`` and the metrics name them.
HUB_KINDS: Final = ("home", "front", "feed", "sitemap", "news-sitemap")
#: What one hub visit found: new article links, none, a 304, or a failure.
HUB_RESULTS: Final = ("changed", "unchanged", "not_modified", "error")
#: How an article's link was first found (``discovered_via``): a hub of one of
#: :data:`HUB_KINDS`, a "More <Section>" block, any other link, or a seed.
DISCOVERY_PATHS: Final = (*HUB_KINDS, "more", "link", "seed")

#: Fields written by Lua scripts, which spell them themselves.
LUA_FIELDS: Final = frozenset({
    Field.DEAD_LETTERS, Field.REQUESTS_RETRIED, Field.LEASES_EXPIRED, Field.LEASES_LOST,  # frontier
    Field.DEAD_LETTERS_REQUEUED, Field.DEAD_LETTERS_DROPPED,
    Field.ARTICLES_STORED, Field.DUPLICATE_URL, Field.DUPLICATE_CONTENT,  # article store
    Field.NEAR_DUPLICATE, Field.NEAR_DUPLICATE_CANDIDATES_CAPPED,
    Field.NEAR_DUPLICATE_CANDIDATES_INVALID,
    Field.ARTICLES_TRIMMED,  # delivery
})

#: Crawl-wide counters the workers' heartbeats keep, and the Scrapy stats each one adds
#: up: every stat whose key starts with one of its prefixes (refusals that Scrapy counts
#: as download exceptions excepted, see :mod:`crawler.worker.heartbeat`).
STAT_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    Field.PAGES: (Stat.RESPONSE_RECEIVED,),
    Field.DOWNLOAD_ERRORS: (Stat.DOWNLOAD_EXCEPTION,),
    Field.HTTP_ERRORS: (Stat.RESPONSE_STATUS + "4", Stat.RESPONSE_STATUS + "5"),
    Field.SPIDER_ERRORS: (Stat.SPIDER_EXCEPTIONS,),
    Field.REFUSED_PRIVATE: (Stat.NETGUARD_REFUSED,),
    Field.REFUSED_ROBOTS: (Stat.ROBOTS_FORBIDDEN,),
    Field.REFUSED_SCHEME: (Stat.LINKS_NOT_HTTP, Stat.NETGUARD_NOT_HTTP),
    Field.OFFSITE_DROPPED: (Stat.OFFSITE_DROPPED,),
    Field.NON_HTML: (Stat.PAGES_NON_HTML,),
    Field.CORRUPT_REQUESTS: (Stat.FRONTIER_CORRUPT,),
}

#: What "errors" means, in ``crawler status``, ``crawler top``, ``crawler crawl`` and
#: the metrics alike: requests that failed (no response, a 4xx or 5xx response, an
#: exception in the spider). Refusals by policy are not errors.
ERROR_FIELDS: Final = (Field.DOWNLOAD_ERRORS, Field.HTTP_ERRORS, Field.SPIDER_ERRORS)
#: Requests or links refused by policy: private addresses, robots.txt, other sites,
#: schemes other than http and https.
REFUSAL_FIELDS: Final = (Field.REFUSED_PRIVATE, Field.REFUSED_ROBOTS, Field.OFFSITE_DROPPED,
                         Field.REFUSED_SCHEME)
#: The other counts ``crawler status`` shows: pages skipped as not HTML, corrupt
#: queue entries set aside, leases that expired (a worker died or stalled).
OTHER_FIELDS: Final = (Field.NON_HTML, Field.CORRUPT_REQUESTS, Field.LEASES_EXPIRED, Field.LEASES_LOST)
#: Articles the store dropped as duplicates, by kind.
DUPLICATE_FIELDS: Final = (Field.DUPLICATE_URL, Field.DUPLICATE_CONTENT, Field.NEAR_DUPLICATE)


def failed_stat(exception_name: str) -> str:
    """The stat of a request that failed for good with exception class ``exception_name``."""
    return Stat.PAGES_FAILED + exception_name


def check_hub_kind(kind: object) -> str:
    """``kind`` when it is one of :data:`HUB_KINDS`; raises ValueError naming them otherwise."""
    if kind not in HUB_KINDS:
        raise ValueError(f"not a hub kind: {kind!r} (one of {', '.join(HUB_KINDS)})")
    return kind


def hub_visit_stat(kind: str, result: str) -> str:
    """The stat of one hub visit (``hubs/visits/<kind>/<result>``); raises ValueError
    unless ``kind`` is one of :data:`HUB_KINDS` and ``result`` one of :data:`HUB_RESULTS`."""
    if kind not in HUB_KINDS or result not in HUB_RESULTS:
        raise ValueError(f"not a hub kind and visit result: {kind!r}, {result!r}")
    return f"{Stat.HUB_VISITS}{kind}/{result}"


def invalid_stat(reason: str) -> str:
    """The stat of an article dropped as invalid; raises ValueError unless ``reason`` is one
    of :data:`INVALID_REASONS`."""
    if reason not in INVALID_REASONS:
        raise ValueError(f"not an invalid-article reason: {reason!r}")
    return Stat.ARTICLES_INVALID + reason


def outcome_stat(outcome: str) -> str:
    """The stat of a store outcome (``articles/stored``, ``dedupe/<duplicate>``); raises
    ValueError unless ``outcome`` is one of :data:`STORE_OUTCOMES`."""
    if outcome not in STORE_OUTCOMES:
        raise ValueError(f"not an outcome of the article store: {outcome!r}")
    return Stat.ARTICLES_STORED if outcome == Outcome.STORED else Stat.DEDUPE + outcome


def log_count_stat(level: str) -> str:
    """The stat Scrapy counts log records of ``level`` (any case) in."""
    return Stat.LOG_COUNT + level.upper()
