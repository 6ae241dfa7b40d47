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
    def queue(self) -> str:
        """ZSET: request JSON -> score (-priority); what is waiting to be fetched."""
        return self._key("queue")

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
        """LIST: requests set aside after too many expired leases (JSON)."""
        return self._key("deadletter")

    @property
    def seen(self) -> str:
        """SET: request fingerprints queued or crawled (the dupefilter)."""
        return self._key("seen")

    @property
    def hosts(self) -> str:
        """SET: hosts of the seeds; the spider stays on them."""
        return self._key("hosts")

    @property
    def workers(self) -> str:
        """ZSET: worker id -> last heartbeat (unix seconds)."""
        return self._key("workers")

    @property
    def stats(self) -> str:
        """HASH: crawl-wide counters (pages, articles, duplicates, errors...)."""
        return self._key("stats")

    @property
    def host_backlog(self) -> str:
        """ZSET: host -> number of its requests queued."""
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
    def dedupe_url(self) -> str:
        """SET: canonical URLs of stored articles."""
        return self._key("dedupe:url")

    @property
    def dedupe_content(self) -> str:
        """SET: content hashes of stored articles."""
        return self._key("dedupe:content")

    def simhash_band(self, band: int, value: int) -> str:
        """SET: the simhashes (16 hex digits) whose 16-bit band ``band`` equals ``value``."""
        return self._key(f"simhash:{band}:{value:04x}")

    def minhash_band(self, band: int, digest: str) -> str:
        """SET: ids (content hashes) of stored articles whose MinHash band ``band`` hashes to ``digest``."""
        return self._key(f"minhash:{band}:{digest}")

    @property
    def minhash_signatures(self) -> str:
        """HASH: content hash -> MinHash signature (hex) of every stored article."""
        return self._key("minhash:sig")

    def all_patterns(self) -> str:
        """A SCAN pattern matching every key of this crawl."""
        return self._key("*")
