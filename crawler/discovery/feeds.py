"""Feeds read into entry URLs and dates: RSS 0.9x, 1.0 and 2.0 and Atom by feedparser,
JSON Feed by the standard library.

:func:`parse_feed` takes a body already downloaded (by Scrapy, under the hub's byte cap)
and returns its entries: each entry's link, resolved against ``xml:base`` and the feed's
URL, kept only when it is http or https, once per URL, in feed order; and its date
(``published``, else ``updated``), which feedparser reads in any of the formats feeds use
(RFC 822 with any zone, W3C datetime) and converts to UTC; a date without a zone is UTC.

Why feedparser: it is the reference parser for the formats and their broken variants. A
well-formed feed goes through expat; a malformed or truncated one is read again by
feedparser's lenient parser, so what could be read is returned and :attr:`Feed.bozo` says
that the feed was not well formed.

Bounds and hostile input:

* a body over ``max_bytes`` is refused (:class:`FeedError`) before any parsing;
* at most ``max_entries`` entries are returned, the rest counted in :attr:`Feed.truncated`;
* a feed that declares XML entities is refused: expat stops entity expansion ("billion
  laughs") only after a million characters have gone through feedparser's Python
  callbacks (seconds of CPU for a 1 KiB body), and feedparser's own filter of entity
  declarations misses declarations written on one line. External entities are never
  fetched (feedparser turns off external general entities);
* the body is handed to feedparser as a stream: ``feedparser.parse(bytes)`` would first try
  the bytes as a file name, and a ``str`` URL would make it fetch.

A body that is no feed at all (HTML, JSON that is not a JSON Feed, binary) raises
:class:`FeedError`; so does an empty one.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from crawler.discovery.dates import from_struct_time, parse_w3c_datetime
from crawler.discovery.links import absolute_http_url

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "Feed", "FeedEntry", "FeedError", "parse_feed"]

#: Entries read from one feed at most (news feeds list 10 to 100).
DEFAULT_MAX_ENTRIES = 1000
#: The largest feed body parsed: feedparser reads about 0.5 MB/s (benchmarks/discovery.py),
#: so this costs at most about 2 s; news feeds are 10 to 500 KB.
DEFAULT_MAX_BYTES = 2**20

_JSON_FEED_VERSION = "https://jsonfeed.org/version/"


class FeedError(ValueError):
    """The body is not a feed that can be read: not a feed at all, empty, over the byte
    cap, or declaring XML entities."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    published: datetime | None  # aware, UTC; None when the entry has no readable date


@dataclass
class Feed:
    """What :func:`parse_feed` read: ``entries`` (at most ``max_entries``), the number of
    further entries dropped by the cap (``truncated``), the number of entries without a
    usable link (``skipped``: none, not http(s), or a repeat), and whether the feed was
    malformed (``bozo``: the entries are what could be read)."""

    version: str  # feedparser's name of the format: "rss20", "atom10", "rss10", "json1"...
    entries: list[FeedEntry] = field(default_factory=list)
    truncated: int = 0
    skipped: int = 0
    bozo: bool = False


def parse_feed(body: bytes, url: str, *, max_entries: int = DEFAULT_MAX_ENTRIES,
               max_bytes: int = DEFAULT_MAX_BYTES) -> Feed:
    """The entries of the feed ``body`` fetched from ``url`` (the base of relative links).

    Raises :class:`FeedError` when ``body`` is empty, longer than ``max_bytes``, declares
    XML entities, or is not a feed; nothing else.
    """
    if not body or not body.strip():
        raise FeedError("empty body")
    if len(body) > max_bytes:
        raise FeedError(f"feed of {len(body)} bytes is over the cap of {max_bytes}")
    if body.lstrip()[:1] == b"{":
        return _parse_json_feed(body, url, max_entries)
    headers = {"content-location": url, "content-type": "application/xml"}
    # The bytes feedparser will parse, decoded to UTF-8 as it does it: the check for
    # entity declarations must see them in any encoding the feed declares.
    try:
        utf8 = convert_to_utf8(dict(headers), body, feedparser.FeedParserDict())
    except Exception as exc:  # noqa: BLE001 - any failure to decode: not a feed
        raise FeedError(f"unreadable encoding: {exc}") from exc
    if b"<!ENTITY" in utf8:
        raise FeedError("the feed declares XML entities (refused: entity expansion)")
    try:
        parsed = feedparser.parse(io.BytesIO(body), response_headers=headers,
                                  resolve_relative_uris=False, sanitize_html=False)
    except Exception as exc:  # noqa: BLE001 - feedparser is lenient; a crash is unreadable input
        raise FeedError(f"feedparser failed: {exc!r}") from exc
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not a feed{f': {reason}' if reason else ''}")
    feed = Feed(version=version or "unknown", bozo=bool(parsed.get("bozo")))
    seen: set[str] = set()
    for entry in parsed.entries:
        _add(feed, seen, entry.get("link"), url, lambda entry=entry: _entry_date(entry), max_entries)
    return feed


def _entry_date(entry: dict) -> datetime | None:
    """``published``, else ``updated``, in UTC. Read with ``dict.get``: feedparser's own
    ``get`` maps a missing ``updated`` to ``published`` with a deprecation warning. A date
    feedparser could not read (an RFC 822 date without a zone) is read as W3C or RFC 2822."""
    for name in ("published", "updated"):
        date = from_struct_time(dict.get(entry, f"{name}_parsed"))
        if date is None:
            raw = dict.get(entry, name)
            date = parse_w3c_datetime(raw) if isinstance(raw, str) else None
        if date is not None:
            return date
    return None


def _parse_json_feed(body: bytes, url: str, max_entries: int) -> Feed:
    """JSON Feed 1.0 and 1.1 (jsonfeed.org): ``items[].url`` and ``date_published``
    (RFC 3339), else ``date_modified``."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(f"not a feed: invalid JSON ({exc})") from exc
    version = document.get("version") if isinstance(document, dict) else None
    if not (isinstance(version, str) and version.startswith(_JSON_FEED_VERSION)):
        raise FeedError("not a feed: JSON without a JSON Feed version")
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError("not a feed: JSON Feed without items")
    feed = Feed(version="json" + version.removeprefix(_JSON_FEED_VERSION).split(".")[0])
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            feed.skipped += 1
            continue
        date = item.get("date_published") or item.get("date_modified")
        _add(feed, seen, item.get("url"), url, lambda d=date: parse_w3c_datetime(d if isinstance(d, str) else None),
             max_entries)
    return feed


def _add(feed: Feed, seen: set[str], link: Any, base: str, published, max_entries: int) -> None:
    """Adds one entry to ``feed``, or counts it as skipped or truncated. The date is read
    (``published()``) only for entries that are kept."""
    entry_url = absolute_http_url(link, base)
    if entry_url is None or entry_url in seen:
        feed.skipped += 1
        return
    seen.add(entry_url)
    if len(feed.entries) >= max_entries:
        feed.truncated += 1
    else:
        feed.entries.append(FeedEntry(entry_url, published()))
