"""Backpressure: workers stop leasing new requests while Redis cannot take more articles.

A crawl whose articles are not delivered fills Redis; once Redis is at
``maxmemory`` (with ``noeviction``) every write that grows memory is refused,
and a crawl that keeps leasing turns into loss. So the scheduler asks
:meth:`Backpressure.paused` before each lease, and leases nothing while

* the undelivered backlog (:func:`crawler.store.delivery.undelivered_backlog`)
  is above ``DELIVER_BACKLOG_MAX`` articles (0: no limit), or
* Redis' ``used_memory`` is above ``REDIS_MEMORY_HIGH_WATERMARK`` of its
  ``maxmemory`` (when one is set),

and leases again once the backlog is down to 90% of its limit, or memory 5
points below the watermark (hysteresis, so that the crawl does not flap). It
reads Redis at most once per ``check_seconds``, however often it is asked.
While paused, the crawl-wide record ``Keys.paused`` says why (``crawler
status``, ``crawler top``, the ``crawler_crawl_paused`` metric), and each pause
and resume is logged once.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from crawler.base import lua
from crawler.store.delivery import undelivered_backlog

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import redis

    from crawler.base.keys import Keys
    from crawler.frontier.config import FrontierConfig

logger = logging.getLogger(__name__)

__all__ = ["PAUSE_REASONS", "Backpressure"]

#: Why a crawl may be paused: the ``reason`` of ``Keys.paused`` and of the metric.
PAUSE_REASONS = ("backlog", "memory")
# Resume once the backlog is down to this share of DELIVER_BACKLOG_MAX...
_RESUME_BACKLOG = 0.9
# ...or memory this far below the watermark (a share of maxmemory).
_RESUME_MEMORY = 0.05
# The paused record outlives the last worker that wrote it by this many checks.
_RECORD_CHECKS = 30


def _memory(info: Mapping) -> tuple[int, int]:
    """``(used_memory, maxmemory)`` of INFO memory; on Redis Cluster (one INFO per
    node) those of the fullest node."""
    if "used_memory" in info:
        return int(info["used_memory"]), int(info.get("maxmemory") or 0)
    nodes = [_memory(node) for node in info.values() if isinstance(node, dict)]
    return max(nodes, key=lambda pair: pair[0] / pair[1] if pair[1] else 0, default=(0, 0))


class Backpressure:
    """Whether the workers of one crawl may lease, read from Redis at most every ``check_seconds``.

    ``backlog_max`` (0: no limit) and ``memory_high`` (a share of ``maxmemory``
    in ``(0, 1]``) are ``DELIVER_BACKLOG_MAX`` and
    ``REDIS_MEMORY_HIGH_WATERMARK``; ``clock`` is monotonic seconds.
    """

    def __init__(self, client: redis.Redis, keys: Keys, *, backlog_max: int, memory_high: float,
                 check_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.keys = keys
        self.backlog_max = backlog_max
        self.memory_high = memory_high
        self.check_seconds = check_seconds
        self.clock = clock
        #: Why this worker leases nothing now (one of PAUSE_REASONS), or None.
        self.reason: str | None = None
        #: One line for people: the figures behind the reason.
        self.detail = ""
        self._checked = -math.inf
        self._record = lua.register(client, "PAUSE", keys)

    @classmethod
    def from_config(cls, client: redis.Redis, keys: Keys, config: FrontierConfig) -> Backpressure:
        return cls(client, keys, backlog_max=config.backlog_max,
                   memory_high=config.memory_high_watermark)

    def paused(self) -> str | None:
        """The reason to lease nothing now, or None; reads Redis when the last
        read is ``check_seconds`` old. Raises :class:`redis.RedisError`."""
        now = self.clock()
        if now - self._checked < self.check_seconds:
            return self.reason
        self._checked = now
        used, maximum = _memory(self.client.info("memory"))
        backlog = undelivered_backlog(self.client, self.keys) if self.backlog_max else 0
        reason, detail = self.decide(backlog, used, maximum)
        self._set(reason, detail)
        return reason

    def decide(self, backlog: int, used: int, maximum: int) -> tuple[str | None, str]:
        """The reason (and its detail) to pause for these figures, given whether
        this worker is paused now (hysteresis). Pure: reads and writes nothing."""
        if maximum:
            limit = self.memory_high - (_RESUME_MEMORY if self.reason == "memory" else 0)
            if used > limit * maximum:
                return "memory", (f"Redis uses {used / 2**20:.0f} MiB of its {maximum / 2**20:.0f} MiB "
                                  f"maxmemory, above REDIS_MEMORY_HIGH_WATERMARK "
                                  f"({self.memory_high:.0%})")
        if self.backlog_max:
            limit = self.backlog_max * (_RESUME_BACKLOG if self.reason == "backlog" else 1)
            if backlog > limit:
                return "backlog", (f"{backlog:,} articles not yet delivered, above "
                                   f"DELIVER_BACKLOG_MAX ({self.backlog_max:,})")
        return None, ""

    def note_oom(self) -> None:
        """Redis refused a write for lack of memory: pause now, until a check
        finds memory below the watermark again."""
        self._checked = self.clock()
        self._set("memory", "Redis refused a write: out of memory (maxmemory reached)")

    def _set(self, reason: str | None, detail: str) -> None:
        if reason != self.reason:
            if reason is not None:
                logger.warning("Crawl paused, leasing no new requests: %s", detail)
            else:
                logger.info("Crawl resumed: %s is back below its limit", self.reason)
        was, self.reason, self.detail = self.reason, reason, detail
        if reason is not None:
            # Rewritten at every check: it expires once no worker is paused any more.
            self._record([reason, detail, max(1, math.ceil(_RECORD_CHECKS * self.check_seconds))])
        elif was is not None:
            self._record(["", "", 1])
