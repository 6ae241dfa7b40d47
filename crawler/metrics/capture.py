"""How long after a story was published the crawl stored it: ``crawler_capture_delay_seconds``.

The delay runs from an article's ``published`` to its ``crawled_at``, both as
:func:`crawler.article.normalize.normalize_article` writes them (ISO 8601 with an
offset, to the second). It is measured only where it means something:

* ``no_time``: ``published`` is missing, or names a date without a time
  (:func:`crawler.store.freshness.capture_delay`, the rule ``crawler status`` uses too).
* ``future``: ``published`` is after ``crawled_at`` (a clock wrong on one side,
  or a date set ahead).
* ``archive``: the story was older than the largest bucket (default 2 days,
  ``FRONTIER_MAX_ARTICLE_AGE``'s default) when stored: an old story reached
  through links, whose age says nothing about how fast the crawl finds news. It
  would otherwise hold the 90th percentile at the top bucket for as long as a
  crawl reads a site's archive, and keep CrawlCaptureLagging firing.

Each of those is counted by reason in ``crawler_capture_delay_skipped_total``;
every other stored article is observed once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

from crawler.store.freshness import capture_delay

if TYPE_CHECKING:
    from collections.abc import Sequence

    from prometheus_client import CollectorRegistry

__all__ = ["CAPTURE_DELAY_BUCKETS", "CAPTURE_SKIP_REASONS", "CaptureDelays"]

#: Upper bounds of crawler_capture_delay_seconds: 30 s to 2 days.
CAPTURE_DELAY_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0,
                         28800.0, 43200.0, 86400.0, 172800.0)
#: Why a stored article's delay was not observed (the ``reason`` label).
CAPTURE_SKIP_REASONS = ("no_time", "future", "archive")

class CaptureDelays:
    """The histogram and the skipped counter of one worker, in ``registry``.

    ``buckets``: increasing upper bounds in seconds; a delay above the last is an
    ``archive`` story, not observed. Every reason is pre-created at zero.
    """

    def __init__(self, registry: CollectorRegistry, spider: str,
                 buckets: Sequence[float] = CAPTURE_DELAY_BUCKETS) -> None:
        self.archive_after = buckets[-1]
        self.histogram = Histogram(
            "crawler_capture_delay_seconds", "Delay from an article's published time to its "
            "capture, per stored article whose page names the time", ["spider"],
            buckets=buckets, registry=registry).labels(spider)
        skipped = Counter(
            "crawler_capture_delay_skipped", "Stored articles whose capture delay was not observed, "
            "by reason: no_time (no published time, or a date alone), future (published after "
            "it was crawled), archive (older than the last bucket when stored)",
            ["spider", "reason"], registry=registry)
        self.skipped = {reason: skipped.labels(spider, reason) for reason in CAPTURE_SKIP_REASONS}

    def observe(self, article: Any) -> str | None:
        """Observe one stored article; returns the reason it was skipped, or None."""
        if not hasattr(article, "get"):
            reason = "no_time"
        else:
            delay = capture_delay(article)
            if delay is None:
                reason = "no_time"
            elif delay < 0:
                reason = "future"
            elif delay > self.archive_after:
                reason = "archive"
            else:
                self.histogram.observe(delay)
                return None
        self.skipped[reason].inc()
        return reason
