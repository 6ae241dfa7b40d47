"""Every Redis key this service uses, in one place.

All keys of one crawl share the prefix ``crawler:{<spider>}:``. The braces are a
Redis Cluster hash tag: every key of a crawl lands on one slot, so that the Lua
scripts that touch several of them at once also work on a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys", "PREFIX"]

PREFIX = "crawler"


@dataclass(frozen=True)
class Keys:
    """The key names of one crawl (one spider name)."""

    spider: str

    def _key(self, name: str) -> str:
        return f"{PREFIX}:{{{self.spider}}}:{name}"

    @property
    def queue_prefix(self) -> str:
        """Prefix of the per-host queues: ZSET ``<prefix><host>``: request JSON -> -priority."""
        return self._key("queue:")

    def host_queue(self, host: str) -> str:
        """ZSET: the requests of one host waiting to be fetched."""
        return self.queue_prefix + host

    @property
    def ready(self) -> str:
        """ZSET: host with queued requests -> when it may next be fetched (Redis time)."""
        return self._key("ready")

    @property
    def queued(self) -> str:
        """STRING: how many requests are queued, over all hosts."""
        return self._key("queued")

    @property
    def host_next(self) -> str:
        """HASH: host -> earliest time of its next fetch (politeness, Retry-After); a host with
        nothing queued is dropped ``FRONTIER_HOST_FORGET_SECONDS`` after that time (PRUNE)."""
        return self._key("host-next")

    @property
    def host_delay(self) -> str:
        """HASH: host -> its minimum delay between fetches when not the default (Crawl-delay);
        dropped with the host's ``host_next`` (PRUNE)."""
        return self._key("host-delay")

    @property
    def inflight(self) -> str:
        """ZSET: request JSON -> lease deadline (unix seconds)."""
        return self._key("inflight")

    @property
    def lease_owner(self) -> str:
        """HASH: request JSON -> id of the worker holding the lease."""
        return self._key("lease-owner")

    @property
    def attempts(self) -> str:
        """HASH: request JSON -> how many leases of it expired."""
        return self._key("attempts")

    @property
    def deadletter(self) -> str:
        """LIST: requests set aside after too many failed attempts, newest first (JSON:
        reason, attempts, request); ``crawler dead-letters`` shows, requeues or drops them."""
        return self._key("deadletter")

    @property
    def seen(self) -> str:
        """SET: request fingerprints queued or crawled (the dupefilter)."""
        return self._key("seen")

    @property
    def seen_bloom(self) -> str:
        """Prefix of the Bloom filter's chunks, STRING bitmaps ``<prefix>:<n>`` (``FRONTIER_SEEN = "bloom"``)."""
        return self._key("seen-bloom")

    @property
    def seen_config(self) -> str:
        """HASH: how this crawl's seen filter was created (mode, bits, hashes)."""
        return self._key("seen-config")

    @property
    def seen_count(self) -> str:
        """STRING: how many distinct fingerprints were added to the seen filter."""
        return self._key("seen-count")

    @property
    def hosts(self) -> str:
        """SET: hosts of the seeds; the spider stays on them."""
        return self._key("hosts")

    @property
    def workers(self) -> str:
        """ZSET: worker id -> last heartbeat (unix seconds); silent for ten
        ``FRONTIER_WORKER_TIMEOUT`` s, a worker is dropped (HEARTBEAT)."""
        return self._key("workers")

    @property
    def stats(self) -> str:
        """HASH: crawl-wide counters (pages, articles, duplicates, errors...)."""
        return self._key("stats")

    @property
    def host_backlog(self) -> str:
        """ZSET: host -> number of its requests queued (for the largest backlogs)."""
        return self._key("host-backlog")

    @property
    def budget(self) -> str:
        """STRING: the most requests this crawl may lease (``crawler crawl --max-pages``)."""
        return self._key("budget")

    @property
    def leased_total(self) -> str:
        """STRING: how many leases were handed out, checked against ``budget``."""
        return self._key("leased")

    @property
    def errors(self) -> str:
        """LIST: the most recent errors, newest first, as JSON."""
        return self._key("errors")

    @property
    def articles(self) -> str:
        """STREAM: every stored article, field ``article`` holding its JSON."""
        return self._key("articles")

    @property
    def delivered(self) -> str:
        """HASH: consumer group of ``crawler deliver`` -> articles it acknowledged (stored in its sink)."""
        return self._key("delivered")

    def dedupe_day(self, day: str) -> str:
        """HASH: the dedupe state of the articles stored on ``day`` (``YYYY-MM-DD``, UTC),
        expiring by itself once the dedupe window is past (:mod:`crawler.store.dedupe`)."""
        return self._key(f"dedupe:{day}")

    @property
    def paused(self) -> str:
        """HASH: why the workers stopped leasing (reason, since, detail); absent while the crawl runs."""
        return self._key("paused")

    @property
    def hubs(self) -> str:
        """HASH: hub URL -> its state as JSON (site, kind, interval, last visit, last change,
        new links, failures, validators...): the pages revisited on a schedule
        (:mod:`crawler.frontier.hubs`, ``crawler sources``)."""
        return self._key("hubs")

    @property
    def hubs_due(self) -> str:
        """ZSET: hub URL -> when it is next due for a visit (Redis time); retired hubs are not in it."""
        return self._key("hubs-due")

    @property
    def hubs_queued(self) -> str:
        """ZSET: hub URL -> when its due visit was queued (Redis time), until the visit is
        recorded: a due time is queued once, by one worker."""
        return self._key("hubs-queued")

    @property
    def hub_requests(self) -> str:
        """HASH: hub URL -> the request JSON of its next visit (with If-None-Match /
        If-Modified-Since from its last response)."""
        return self._key("hub-requests")

    @property
    def hub_kinds(self) -> str:
        """HASH: hub kind -> how many hubs of that kind are still scheduled, and
        "retired" -> how many are retired (kept by the HUB_SET and HUB_REMOVE scripts:
        ``crawler status`` and the metrics read it instead of every hub)."""
        return self._key("hub-kinds")

    @property
    def hub_fronts(self) -> str:
        """HASH: site -> how many section fronts it has among the hubs, retired ones
        included (kept by the HUB_SET and HUB_REMOVE scripts): what
        ``FRONTIER_MAX_FRONTS_PER_SITE`` caps."""
        return self._key("hub-fronts")

    def all_patterns(self) -> str:
        """A SCAN pattern matching every key of this crawl."""
        return self._key("*")
