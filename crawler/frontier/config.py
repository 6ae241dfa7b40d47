"""Every setting the frontier reads, in one typed, checked config.

Each value comes from the Scrapy settings when the project sets it, else from
:mod:`crawler.frontier.defaults`: a project that sets only ``SCHEDULER``,
``DUPEFILTER_CLASS`` and ``REDIS_URL`` gets a working frontier. Bad values and
bad combinations raise ValueError naming the setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.frontier import defaults

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

__all__ = ["FrontierConfig"]


def _number(settings: BaseSettings, name: str, kind: type[float] | type[int]) -> float | int:
    default = getattr(defaults, name)
    try:
        value = settings.getint(name, default) if kind is int else settings.getfloat(name, default)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {settings.get(name)!r}") from None
    if kind is float and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return value


def _flag(settings: BaseSettings, name: str) -> bool:
    try:
        return settings.getbool(name, getattr(defaults, name))
    except ValueError:
        raise ValueError(f"{name} must be True or False (1/0, true/false), "
                         f"got {settings.get(name)!r}") from None


@dataclass(frozen=True)
class FrontierConfig:
    """The ``REDIS_URL``, ``FRONTIER_*`` and backpressure settings, checked together.

    Build it with :meth:`from_settings`; the constructor's defaults are
    :mod:`crawler.frontier.defaults`, so a test can change one value alone.
    """

    redis_url: str = defaults.REDIS_URL
    lease_seconds: float = defaults.FRONTIER_LEASE_SECONDS
    heartbeat_seconds: float = defaults.FRONTIER_HEARTBEAT_SECONDS
    worker_timeout: float = defaults.FRONTIER_WORKER_TIMEOUT
    max_attempts: int = defaults.FRONTIER_MAX_ATTEMPTS
    lease_batch: int = defaults.FRONTIER_LEASE_BATCH
    until_idle: float = defaults.FRONTIER_UNTIL_IDLE
    host_delay: float = defaults.FRONTIER_HOST_DELAY
    max_crawl_delay: float = defaults.FRONTIER_MAX_CRAWL_DELAY
    host_forget_seconds: float = defaults.FRONTIER_HOST_FORGET_SECONDS
    backoff_seconds: float = defaults.FRONTIER_BACKOFF_SECONDS
    max_retry_after: float = defaults.FRONTIER_MAX_RETRY_AFTER
    seen: str = defaults.FRONTIER_SEEN
    bloom_capacity: int = defaults.FRONTIER_BLOOM_CAPACITY
    bloom_error_rate: float = defaults.FRONTIER_BLOOM_ERROR_RATE
    bloom_module: bool = defaults.FRONTIER_BLOOM_MODULE
    backlog_max: int = defaults.DELIVER_BACKLOG_MAX
    memory_high_watermark: float = defaults.REDIS_MEMORY_HIGH_WATERMARK
    revisit_min: float = defaults.FRONTIER_REVISIT_MIN
    revisit_max: float = defaults.FRONTIER_REVISIT_MAX
    revisit_adaptive: bool = defaults.FRONTIER_REVISIT_ADAPTIVE
    max_article_age: float = defaults.FRONTIER_MAX_ARTICLE_AGE
    hub_max_failures: int = defaults.FRONTIER_HUB_MAX_FAILURES
    revisit_overdue: float = defaults.FRONTIER_REVISIT_OVERDUE
    max_fronts_per_site: int = defaults.FRONTIER_MAX_FRONTS_PER_SITE

    def __post_init__(self) -> None:
        if not self.redis_url:
            raise ValueError("REDIS_URL is empty: set it to the crawl's Redis (redis://host:6379/0)")
        if self.heartbeat_seconds <= 0:
            raise ValueError("FRONTIER_HEARTBEAT_SECONDS must be positive")
        if self.lease_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("FRONTIER_LEASE_SECONDS must be at least twice FRONTIER_HEARTBEAT_SECONDS, "
                             "or live workers would lose their leases between renewals")
        if self.worker_timeout <= 0:
            raise ValueError("FRONTIER_WORKER_TIMEOUT must be positive")
        if self.max_attempts < 1:
            raise ValueError("FRONTIER_MAX_ATTEMPTS must be at least 1")
        if self.lease_batch < 1:
            raise ValueError("FRONTIER_LEASE_BATCH must be at least 1")
        if self.until_idle < 0:
            raise ValueError("FRONTIER_UNTIL_IDLE must be 0 (never) or a number of seconds")
        for name, value in (("FRONTIER_HOST_DELAY", self.host_delay),
                            ("FRONTIER_MAX_CRAWL_DELAY", self.max_crawl_delay),
                            ("FRONTIER_BACKOFF_SECONDS", self.backoff_seconds),
                            ("FRONTIER_MAX_RETRY_AFTER", self.max_retry_after)):
            if value < 0:
                raise ValueError(f"{name} must be 0 or more seconds")
        if self.host_forget_seconds <= 0:
            raise ValueError("FRONTIER_HOST_FORGET_SECONDS must be a positive number of seconds")
        if self.seen not in ("set", "bloom"):
            raise ValueError(f"FRONTIER_SEEN must be 'set' or 'bloom', not {self.seen!r}")
        if self.bloom_capacity < 1:
            raise ValueError("FRONTIER_BLOOM_CAPACITY must be at least 1")
        if not 0 < self.bloom_error_rate < 1:
            raise ValueError("FRONTIER_BLOOM_ERROR_RATE must be between 0 and 1")
        if self.backlog_max < 0:
            raise ValueError("DELIVER_BACKLOG_MAX must be 0 (no limit) or a number of articles")
        if not 0 < self.memory_high_watermark <= 1:
            raise ValueError("REDIS_MEMORY_HIGH_WATERMARK must be a share of maxmemory, "
                             "above 0 and at most 1")
        if self.revisit_min <= 0:
            raise ValueError("FRONTIER_REVISIT_MIN must be a positive number of seconds")
        if self.revisit_max < self.revisit_min:
            raise ValueError(f"FRONTIER_REVISIT_MAX ({self.revisit_max:g}) must be at least "
                             f"FRONTIER_REVISIT_MIN ({self.revisit_min:g})")
        if self.max_article_age <= 0:
            raise ValueError("FRONTIER_MAX_ARTICLE_AGE must be a positive number of seconds")
        if self.hub_max_failures < 1:
            raise ValueError("FRONTIER_HUB_MAX_FAILURES must be at least 1")
        if self.revisit_overdue <= 0:
            raise ValueError("FRONTIER_REVISIT_OVERDUE must be a positive number of seconds")
        if self.max_fronts_per_site < 0:
            raise ValueError("FRONTIER_MAX_FRONTS_PER_SITE must be 0 (none) or more")

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Self:
        """The config the settings describe; raises ValueError naming a bad setting."""
        return cls(
            redis_url=str(settings.get("REDIS_URL", defaults.REDIS_URL) or "").strip(),
            lease_seconds=_number(settings, "FRONTIER_LEASE_SECONDS", float),
            heartbeat_seconds=_number(settings, "FRONTIER_HEARTBEAT_SECONDS", float),
            worker_timeout=_number(settings, "FRONTIER_WORKER_TIMEOUT", float),
            max_attempts=_number(settings, "FRONTIER_MAX_ATTEMPTS", int),
            lease_batch=_number(settings, "FRONTIER_LEASE_BATCH", int),
            until_idle=_number(settings, "FRONTIER_UNTIL_IDLE", float),
            host_delay=_number(settings, "FRONTIER_HOST_DELAY", float),
            max_crawl_delay=_number(settings, "FRONTIER_MAX_CRAWL_DELAY", float),
            host_forget_seconds=_number(settings, "FRONTIER_HOST_FORGET_SECONDS", float),
            backoff_seconds=_number(settings, "FRONTIER_BACKOFF_SECONDS", float),
            max_retry_after=_number(settings, "FRONTIER_MAX_RETRY_AFTER", float),
            seen=str(settings.get("FRONTIER_SEEN", defaults.FRONTIER_SEEN)).strip().lower(),
            bloom_capacity=_number(settings, "FRONTIER_BLOOM_CAPACITY", int),
            bloom_error_rate=_number(settings, "FRONTIER_BLOOM_ERROR_RATE", float),
            bloom_module=settings.getbool("FRONTIER_BLOOM_MODULE", defaults.FRONTIER_BLOOM_MODULE),
            backlog_max=_number(settings, "DELIVER_BACKLOG_MAX", int),
            memory_high_watermark=_number(settings, "REDIS_MEMORY_HIGH_WATERMARK", float),
            revisit_min=_number(settings, "FRONTIER_REVISIT_MIN", float),
            revisit_max=_number(settings, "FRONTIER_REVISIT_MAX", float),
            revisit_adaptive=_flag(settings, "FRONTIER_REVISIT_ADAPTIVE"),
            max_article_age=_number(settings, "FRONTIER_MAX_ARTICLE_AGE", float),
            hub_max_failures=_number(settings, "FRONTIER_HUB_MAX_FAILURES", int),
            revisit_overdue=_number(settings, "FRONTIER_REVISIT_OVERDUE", float),
            max_fronts_per_site=_number(settings, "FRONTIER_MAX_FRONTS_PER_SITE", int),
        )
