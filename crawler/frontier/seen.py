"""What "seen" means for a crawl: an exact set of fingerprints, or a Bloom filter.

The exact set costs about 100 bytes per URL in Redis; the Bloom filter at most
2 bytes at a 0.1% false-positive rate, in plain Redis bitmaps driven by the
PUSH script (Redis 7 has no Bloom module), or RedisBloom's own filter
(``BF.ADD``) where the server has that module loaded. A false positive costs a
URL that is never fetched: the filter claims it was seen when it was not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from crawler.base.connection import pipeline

if TYPE_CHECKING:
    from typing_extensions import Self

    from crawler.frontier.config import FrontierConfig

    from crawler.base.keys import Keys

__all__ = ["SeenFilter"]

# The Bloom filter is kept in chunks of this many bits (keys seen-bloom:0, :1, ...):
# 32 KiB less the string header, so that each chunk fills one allocator size
# class exactly (a bitmap grown bit by bit can take twice the memory it needs).
CHUNK_BITS = (32768 - 64) * 8


@dataclass(frozen=True)
class SeenFilter:
    """``mode`` is "set", "bloom" (bitmaps of ``bits`` bits, ``hashes`` hash
    functions) or "redisbloom" (the module's filter); both Bloom filters are
    sized for ``capacity`` URLs at ``error_rate``."""

    mode: str = "set"
    bits: int = 0
    hashes: int = 0
    chunk_bits: int = CHUNK_BITS
    capacity: int = 0
    error_rate: float = 0.0

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
        return cls("bloom", bits, max(1, round(ideal / capacity * math.log(2))),
                   capacity=capacity, error_rate=error_rate)

    @classmethod
    def recorded(cls, client: redis.Redis, keys: Keys) -> Self | None:
        """The filter the crawl recorded (:meth:`check`), or None for a crawl that has none yet."""
        config = {_text(k): _text(v) for k, v in client.hgetall(keys.seen_config).items()}
        mode = config.get("mode")
        if mode == "set":
            return cls()
        if mode == "bloom":
            return cls("bloom", int(config["bits"]), int(config["hashes"]), int(config["chunk_bits"]),
                       capacity=int(config.get("capacity", 0)), error_rate=float(config.get("error_rate", 0)))
        if mode == "redisbloom":
            return cls("redisbloom", capacity=int(config["capacity"]), error_rate=float(config["error_rate"]))
        return None

    def on_server(self, client: redis.Redis, keys: Keys) -> SeenFilter:
        """This Bloom filter as RedisBloom's when the server has ``BF.ADD``, else itself.

        A crawl that already keeps its filter in bitmaps goes on doing so (the
        module may have been loaded after it started); a set stays a set.
        """
        if self.mode != "bloom":
            return self
        existing = client.hget(keys.seen_config, "mode")
        if existing in ("bloom", b"bloom") or not _has_redisbloom(client, keys):
            return self
        return SeenFilter("redisbloom", capacity=self.capacity, error_rate=self.error_rate)

    @classmethod
    def from_config(cls, config: FrontierConfig) -> Self:
        """The filter ``FRONTIER_SEEN`` and ``FRONTIER_BLOOM_*`` ask for (checked by the config)."""
        if config.seen == "bloom":
            return cls.bloom(config.bloom_capacity, config.bloom_error_rate)
        return cls()

    def token(self, fingerprint: str) -> str:
        """What the PUSH script records for ``fingerprint`` (hex): itself, or its bit positions."""
        if self.mode != "bloom" or not fingerprint:
            return fingerprint  # RedisBloom hashes the fingerprint itself
        # Double hashing (Kirsch and Mitzenmacher) from two 64-bit halves of the fingerprint.
        h1, h2 = int(fingerprint[:16], 16), int(fingerprint[16:32], 16) | 1
        return ",".join(str((h1 + i * h2) % self.bits) for i in range(self.hashes))

    def check(self, client: redis.Redis, keys: Keys) -> None:
        """Record this filter as the crawl's, or raise ValueError when the crawl uses another.

        Workers with different FRONTIER_SEEN settings would each trust their
        own filter and fetch or skip URLs at random.
        """
        if self.mode == "redisbloom":
            wanted = {"mode": self.mode}
        else:
            wanted = {"mode": self.mode, "bits": str(self.bits), "hashes": str(self.hashes)}
        if self.mode == "bloom":  # the chunk size only matters to the bitmaps
            wanted["chunk_bits"] = str(self.chunk_bits)
        if self.mode != "set":  # what it was sized for: `crawler status` and the metrics compare "seen" to it
            wanted.update(capacity=str(self.capacity), error_rate=repr(self.error_rate))
        # Read first: a crawl that recorded its filter needs no write (a worker
        # then starts even when Redis is full and refuses writes).
        actual = {_text(k): _text(v) for k, v in client.hgetall(keys.seen_config).items()}
        if actual != wanted:
            with pipeline(client, transaction=True) as pipe:
                for name, value in wanted.items():
                    pipe.hsetnx(keys.seen_config, name, value)
                pipe.hgetall(keys.seen_config)
                actual = pipe.execute()[-1]
            actual = {_text(k): _text(v) for k, v in actual.items()}
        if actual != wanted:
            raise ValueError(f"this crawl's seen filter is {actual}, the settings ask for {wanted}: "
                             "use the crawl's FRONTIER_SEEN / FRONTIER_BLOOM_* settings everywhere")
        if self.mode == "redisbloom":
            # Sized once, never scaling: a filter BF.ADD would create on its own
            # holds 100 items at 1%, and a scaling one outgrows its memory budget.
            try:
                client.execute_command("BF.RESERVE", keys.seen_bloom, self.error_rate, self.capacity, "NONSCALING")
            except redis.ResponseError as exc:
                if "exists" not in str(exc).lower():
                    raise


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _has_redisbloom(client: redis.Redis, keys: Keys) -> bool:
    """Whether the server knows RedisBloom's commands (the module, or Redis Stack).

    Asked with a harmless BF.EXISTS on the crawl's own key (its slot on a
    cluster), not COMMAND INFO or MODULE LIST, which managed servers may deny.
    """
    try:
        client.execute_command("BF.EXISTS", keys.seen_bloom, "")
    except redis.ResponseError as exc:
        return "wrongtype" in str(exc).lower()  # a Bloom filter under that name is RedisBloom's too
    return True
