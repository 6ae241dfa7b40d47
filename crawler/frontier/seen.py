"""What "seen" means for a crawl: an exact set of fingerprints, or a Bloom filter.

The exact set costs about 100 bytes per URL in Redis; the Bloom filter at most
2 bytes at a 0.1% false-positive rate, in plain Redis bitmaps driven by the
PUSH script (Redis 7 has no Bloom module). A false positive costs a URL that
is never fetched: the filter claims it was seen when it was not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.frontier.connection import pipeline

if TYPE_CHECKING:
    import redis
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

    from crawler.keys import Keys

__all__ = ["SeenFilter"]

# The Bloom filter is kept in chunks of this many bits (keys seen-bloom:0, :1, ...):
# 32 KiB less the string header, so that each chunk fills one allocator size
# class exactly (a bitmap grown bit by bit can take twice the memory it needs).
CHUNK_BITS = (32768 - 64) * 8


@dataclass(frozen=True)
class SeenFilter:
    """``mode`` is "set" or "bloom"; a Bloom filter has ``bits`` bits and ``hashes`` hash functions."""

    mode: str = "set"
    bits: int = 0
    hashes: int = 0
    chunk_bits: int = CHUNK_BITS

    @classmethod
    def bloom(cls, capacity: int, error_rate: float) -> Self:
        """The smallest Bloom filter holding ``capacity`` URLs at ``error_rate`` false positives.

        Its size is rounded up to whole chunks, which only lowers the error rate.
        """
        if capacity < 1:
            raise ValueError("FRONTIER_BLOOM_CAPACITY must be at least 1")
        if not 0 < error_rate < 1:
            raise ValueError("FRONTIER_BLOOM_ERROR_RATE must be between 0 and 1")
        ideal = -capacity * math.log(error_rate) / math.log(2) ** 2
        bits = math.ceil(ideal / CHUNK_BITS) * CHUNK_BITS
        return cls("bloom", bits, max(1, round(ideal / capacity * math.log(2))))

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        mode = settings.get("FRONTIER_SEEN")
        if mode == "set":
            return cls()
        if mode == "bloom":
            return cls.bloom(settings.getint("FRONTIER_BLOOM_CAPACITY"),
                             settings.getfloat("FRONTIER_BLOOM_ERROR_RATE"))
        raise ValueError(f"FRONTIER_SEEN must be 'set' or 'bloom', not {mode!r}")

    def token(self, fingerprint: str) -> str:
        """What the PUSH script records for ``fingerprint`` (hex): itself, or its bit positions."""
        if self.mode == "set" or not fingerprint:
            return fingerprint
        # Double hashing (Kirsch and Mitzenmacher) from two 64-bit halves of the fingerprint.
        h1, h2 = int(fingerprint[:16], 16), int(fingerprint[16:32], 16) | 1
        return ",".join(str((h1 + i * h2) % self.bits) for i in range(self.hashes))

    def check(self, client: redis.Redis, keys: Keys) -> None:
        """Record this filter as the crawl's, or raise ValueError when the crawl uses another.

        Workers with different FRONTIER_SEEN settings would each trust their
        own filter and fetch or skip URLs at random.
        """
        wanted = {"mode": self.mode, "bits": str(self.bits), "hashes": str(self.hashes)}
        if self.mode == "bloom":  # the chunk size only matters to a Bloom filter
            wanted["chunk_bits"] = str(self.chunk_bits)
        with pipeline(client, transaction=True) as pipe:
            for name, value in wanted.items():
                pipe.hsetnx(keys.seen_config, name, value)
            pipe.hgetall(keys.seen_config)
            actual = pipe.execute()[-1]
        actual = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                  for k, v in actual.items()}
        if actual != wanted:
            raise ValueError(f"this crawl's seen filter is {actual}, the settings ask for {wanted}: "
                             "use the crawl's FRONTIER_SEEN / FRONTIER_BLOOM_* settings everywhere")
