"""When a hub is visited next: the interval rule, in one place, as pure functions.

A hub (home page, section front, feed, sitemap, news sitemap) has its own
interval, always between ``FRONTIER_REVISIT_MIN`` and ``FRONTIER_REVISIT_MAX``:

* **Start.** ``min`` for home pages, feeds and news sitemaps (the pages where a
  new story shows first), ``4 * min`` (at most ``max``) for section fronts and
  plain sitemaps (slower, larger, and mostly reached through the others).
* **A visit that found new article links** (links the crawl had never seen):
  the interval halves, down to ``min``. The hub is publishing now, and news
  comes in bursts: look again sooner.
* **A visit that found none** (unchanged, or a 304 Not Modified): the interval
  grows by half, up to ``max``. A fixed poll of a quiet page mostly finds
  nothing (Superfeedr measured 5% of polls finding something); growing by 1.5
  and shrinking by 2 (StormCrawler's AdaptiveScheduler works the same way)
  brings a hub that wakes up back to ``min`` within a few visits, while a
  quiet one costs a fetch every few hours at most, not one every ``min``.
* **A failed visit** (404, 410, 5xx after retries, a page that does not parse):
  the interval is kept and the next visit is put off by ``interval * 2 **
  failures`` (at most ``max``): exponential backoff, so a broken hub costs few
  fetches. After ``FRONTIER_HUB_MAX_FAILURES`` consecutive failures the hub is
  retired: it keeps its record (``crawler sources`` shows it) but is never due
  again, until ``crawler sources add`` re-activates it. A success resets the
  failures.
* **Jitter.** Each delay is spread by +-10% so that hubs registered together
  (one site's feeds, a seed file of home pages) do not stay in lock step.

With ``FRONTIER_REVISIT_ADAPTIVE = False`` every hub is visited every
``min`` seconds (failures still back off and retire): the fixed-interval
poller ``benchmarks/freshness.py`` compares against.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crawler.base.counters import HUB_RESULTS, check_hub_kind

if TYPE_CHECKING:
    from crawler.frontier.config import FrontierConfig

__all__ = [
    "FAST_KINDS", "GROW", "JITTER", "SHRINK", "SLOW_START", "Visit", "failure_delay",
    "initial_interval", "jittered", "next_interval", "plan_visit", "requeue_after",
]

#: Kinds whose interval starts at FRONTIER_REVISIT_MIN; the others start at SLOW_START times it.
FAST_KINDS = ("home", "feed", "news-sitemap")
SLOW_START = 4.0
#: A visit with new links divides the interval by SHRINK; one without multiplies it by GROW.
SHRINK = 2.0
GROW = 1.5
#: Each delay is multiplied by a random factor in [1 - JITTER, 1 + JITTER].
JITTER = 0.1


def _clamp(seconds: float, config: FrontierConfig) -> float:
    return min(max(seconds, config.revisit_min), config.revisit_max)


def initial_interval(kind: str, config: FrontierConfig) -> float:
    """The interval of a newly registered hub of ``kind``; ValueError for an unknown kind."""
    check_hub_kind(kind)
    if not config.revisit_adaptive or kind in FAST_KINDS:
        return config.revisit_min
    return _clamp(SLOW_START * config.revisit_min, config)


def next_interval(interval: float, result: str, config: FrontierConfig) -> float:
    """The interval after a visit with ``result`` (one of HUB_RESULTS): halved after
    "changed", grown by half after "unchanged" or "not_modified", kept after "error";
    always within [min, max], and min when the schedule is not adaptive."""
    if result not in HUB_RESULTS:
        raise ValueError(f"not a hub visit result: {result!r} (one of {', '.join(HUB_RESULTS)})")
    if not config.revisit_adaptive:
        return config.revisit_min
    if result == "changed":
        return _clamp(interval / SHRINK, config)
    if result == "error":
        return _clamp(interval, config)
    return _clamp(interval * GROW, config)


def failure_delay(interval: float, failures: int, config: FrontierConfig) -> float:
    """Seconds until the next visit after ``failures`` consecutive failures (>= 1):
    ``interval * 2 ** failures``, at most ``max``."""
    return min(config.revisit_max, interval * 2.0 ** min(failures, 64))


def jittered(seconds: float, rng: random.Random | None = None) -> float:
    """``seconds`` spread by +-JITTER (``rng`` for tests; the module's generator by default)."""
    return seconds * (1.0 + (rng or random).uniform(-JITTER, JITTER))


@dataclass(frozen=True)
class Visit:
    """What one recorded visit makes of a hub's schedule.

    ``interval`` its new interval, ``failures`` its consecutive failures,
    ``delay`` seconds from now to its next visit (None once retired), ``retired``
    whether this visit retired it.
    """

    interval: float
    failures: int
    delay: float | None
    retired: bool


def plan_visit(interval: float, failures: int, result: str, config: FrontierConfig,
               rng: random.Random | None = None) -> Visit:
    """The schedule after a visit with ``result`` of a hub at ``interval`` with
    ``failures`` consecutive failures before it (the whole rule; see the module)."""
    interval = next_interval(interval, result, config)
    if result != "error":
        return Visit(interval, 0, jittered(interval, rng), False)
    failures += 1
    if failures >= config.hub_max_failures:
        return Visit(interval, failures, None, True)
    return Visit(interval, failures, jittered(failure_delay(interval, failures, config), rng), False)


def requeue_after(config: FrontierConfig) -> float:
    """Seconds after which a queued hub visit that was never recorded counts as lost and
    is queued again: longer than a request can stay leased and retried
    (``FRONTIER_LEASE_SECONDS * FRONTIER_MAX_ATTEMPTS``), and at least 10 minutes."""
    return max(config.lease_seconds * config.max_attempts, 600.0)
