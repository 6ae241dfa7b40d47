"""Reading the crawl's article stream back: ``crawler export`` and ``crawler crawl``'s output."""

from __future__ import annotations

import json
import logging
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    import redis

    from crawler.base.keys import Keys

logger = logging.getLogger(__name__)

__all__ = ["export_articles", "iter_articles"]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def iter_articles(
    client: redis.Redis,
    keys: Keys,
    batch: int = 500,
    *,
    skipped: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every article of ``keys.articles``, oldest first, as a dict.

    Reads the stream with XRANGE, ``batch`` entries at a time; works with or
    without ``decode_responses``. An entry without an ``article`` field, or
    whose field is not a JSON object, is logged, skipped, and its stream id
    appended to ``skipped`` when a list is given (so callers can count them).
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch!r}")
    start = "-"
    while True:
        entries = client.xrange(keys.articles, min=start, max="+", count=batch)
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            raw = fields.get("article", fields.get(b"article"))
            try:
                if raw is None:
                    raise ValueError("no 'article' field")
                article = json.loads(raw)
                if not isinstance(article, dict):
                    raise ValueError(f"not a JSON object but {type(article).__name__}")
            except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError too
                logger.warning("Skipping stream entry %s of %s: %s", entry_id, keys.articles, exc)
                if skipped is not None:
                    skipped.append(entry_id)
                continue
            yield article
        if len(entries) < batch:
            return
        start = "(" + _text(entries[-1][0])


def export_articles(client: redis.Redis, keys: Keys, out: IO[str]) -> int:
    """Write every stored article of the crawl to ``out`` as JSON Lines; return how many."""
    count = 0
    for article in iter_articles(client, keys):
        out.write(json.dumps(article, ensure_ascii=False) + "\n")
        count += 1
    return count
