"""How fresh the crawl is: the age of its newest article, and the delay from publication
to capture (``crawler status``).

The capture delay of an article is ``crawled_at - published``, counted only when
``published`` names a time: normalization writes a bare date as midnight UTC
(``2026-05-05T00:00:00+00:00``, see :func:`crawler.article.normalize.to_iso8601`),
and a delay measured from midnight says nothing about the crawl.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

    from crawler.base.keys import Keys

__all__ = ["SAMPLE", "Freshness", "capture_delay", "freshness", "names_a_time"]

#: The newest articles of the stream that the figures are taken over.
SAMPLE = 200


def _parse(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def names_a_time(published: str | None) -> bool:
    """Whether a normalized ``published`` value names a time of day, not a bare date
    (which normalization writes as midnight UTC)."""
    parsed = _parse(published)
    if parsed is None:
        return False
    return not (parsed.hour == parsed.minute == parsed.second == 0 and not parsed.utcoffset())


def capture_delay(article: dict[str, Any]) -> float | None:
    """Seconds from ``published`` to ``crawled_at`` of a stored ``article``, or None when
    either is missing or ``published`` is a bare date. May be negative (a clock ahead)."""
    published, crawled = article.get("published"), _parse(article.get("crawled_at"))
    if crawled is None or not names_a_time(published):
        return None
    return (crawled - _parse(published)).total_seconds()


@dataclass(frozen=True)
class Freshness:
    """``newest_age``: seconds since the newest stored article was crawled (None: none stored);
    ``median_delay``: median capture delay over the ``delays`` articles of the last
    ``sampled`` that name a publication time (None: none does)."""

    newest_age: float | None
    median_delay: float | None
    delays: int
    sampled: int

    def as_dict(self) -> dict:
        return {"newest_article_age_seconds": _round(self.newest_age),
                "median_capture_delay_seconds": _round(self.median_delay),
                "capture_delays_sampled": self.delays, "articles_sampled": self.sampled}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def freshness(client: redis.Redis, keys: Keys, *, sample: int = SAMPLE, now: float | None = None) -> Freshness:
    """The freshness of the crawl of ``keys`` from the newest ``sample`` articles of its
    stream (one XREVRANGE). Entries that are not article JSON are skipped."""
    entries = client.xrevrange(keys.articles, count=sample)
    articles = []
    for _, fields in entries:
        raw = fields.get("article", fields.get(b"article"))
        try:
            article = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(article, dict):
            articles.append(article)
    now = time.time() if now is None else now
    crawled = [parsed.timestamp() for article in articles
               if (parsed := _parse(article.get("crawled_at"))) is not None]
    delays = [delay for article in articles if (delay := capture_delay(article)) is not None]
    return Freshness(newest_age=max(now - max(crawled), 0.0) if crawled else None,
                     median_delay=statistics.median(delays) if delays else None,
                     delays=len(delays), sampled=len(articles))
