"""Pure functions that turn an extracted article into the stored article.

Nothing here does I/O. :func:`normalize_article` is the one entry point of the
item pipeline; the text rules it applies (spaces, boilerplate, repeats, bylines,
word count) are :mod:`crawler.article.text`'s, URLs are normalized by
:mod:`crawler.base.urls` and bodies fingerprinted by :mod:`crawler.article.fingerprints`.
"""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from dateutil import parser as _dateparser

from crawler.article.fingerprints import content_hash, simhash, simhash_hex
from crawler.article.text import count_words, drop_repeats, is_boilerplate, normalize_text, split_authors
from crawler.base.counters import DISCOVERY_PATHS
from crawler.base.urls import display_domain, resolve_canonical

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ARTICLE_FIELDS", "clean_body", "normalize_article", "to_iso8601"]

#: The fields of a stored article, in the order they are written.
ARTICLE_FIELDS = (
    "url",
    "canonical_url",
    "title",
    "authors",
    "published",
    "modified",
    "section",
    "body",
    "description",
    "language",
    "site_name",
    "domain",
    "related",
    "word_count",
    "content_hash",
    "simhash",
    "crawled_at",
    "discovered_at",
    "discovered_via",
    "spider",
)

# --- Body -----------------------------------------------------------------------

_PARAGRAPH_SPLIT_RE = re.compile(r"\n[ \t\u00a0]*\n\s*")


def clean_body(body: str | None) -> str:
    """The article text of ``body`` (paragraphs separated by blank lines).

    Each line is normalized (:func:`crawler.article.text.normalize_text`);
    boilerplate lines (:func:`crawler.article.text.is_boilerplate`) are dropped,
    the remaining lines of a paragraph joined by a space; empty and boilerplate
    paragraphs are dropped, and so are repeats of an earlier paragraph that read
    as prose (:func:`crawler.article.text.drop_repeats`: a pull quote or a
    caption shown twice), while a repeated name or figure in one more list
    stays. Returns the paragraphs joined by ``"\\n\\n"``.

    This is the one place where repeats are dropped on the way from page to
    stored article: extraction leaves them in.
    """
    if not body:
        return ""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs: list[str] = []
    for block in _PARAGRAPH_SPLIT_RE.split(body):
        lines = (normalize_text(line) for line in block.split("\n"))
        paragraph = " ".join(line for line in lines if line and not is_boilerplate(line))
        if paragraph and not is_boilerplate(paragraph):
            paragraphs.append(paragraph)
    return "\n\n".join(drop_repeats(paragraphs))


# --- Dates ----------------------------------------------------------------------

_DATE_LABEL_RE = re.compile(
    r"^(?:(?:first\s+)?published|updated|last\s+(?:updated|modified)|posted|modified)"
    r"(?:\s+(?:on|at))?\s*:?\s*",
    re.IGNORECASE,
)
# email.utils is lenient: it reads an unknown zone name, or other text, as "no
# zone". Only strict RFC 2822 dates with one of the zones it defines go to it.
_RFC2822_RE = re.compile(
    r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s+(?:[+-]\d{4}|UT|GMT|[ECMP][SD]T))?$"
)
# Zone names dateutil does not know; only unambiguous ones (not IST, CST...).
_TZINFOS = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
    "EST": -5 * 3600, "EDT": -4 * 3600, "CDT": -5 * 3600,
    "MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
    "BST": 3600, "CET": 3600, "CEST": 7200, "EET": 7200, "EEST": 3 * 3600,
}
# Two defaults that differ in year, month and day: a date parsed the same with
# both named all three itself, rather than having dateutil fill one in.
_DEFAULTS = (datetime(2000, 1, 1), datetime(2001, 2, 2))
_MIN_YEAR, _MAX_YEAR = 1900, 2200


def _parse_date(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    if _RFC2822_RE.match(text):
        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if not re.search(r"\d{4}", text) or text.isdigit():
        return None  # no year, or a timestamp/number dateutil would misread
    parsed = []
    for default in _DEFAULTS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                parsed.append(_dateparser.parse(text, default=default, tzinfos=_TZINFOS))
            except (ValueError, OverflowError):
                return None
        if any(issubclass(w.category, _dateparser.UnknownTimezoneWarning) for w in caught):
            return None  # it names a zone we do not know: any offset would be a guess
    first, second = parsed
    if first.date() != second.date():
        return None  # dateutil filled in a missing day, month or year ("Nov 2017")
    return first


def to_iso8601(raw: str | None) -> str | None:
    """``raw`` as ``YYYY-MM-DDTHH:MM:SS±HH:MM`` in the zone it names, or None.

    Accepts ISO 8601 (with or without offset, "Z"), RFC 2822, and common
    written forms ("November 14, 2017", "2017-11-14 09:30", "14 Nov 2017 9:30
    PST"), with an optional leading "Published:"/"Updated:" label. "Z" and
    no zone at all give ``+00:00``; a date alone gives ``T00:00:00+00:00``;
    fractions of a second are dropped. Returns None for anything unparseable,
    incomplete (no day, month or year), or outside years 1900-2200. Numeric
    dates are read month first ("11/04/2017" is November 4).
    """
    if not raw or not isinstance(raw, str):
        return None
    text = _DATE_LABEL_RE.sub("", normalize_text(raw))
    if not text:
        return None
    parsed = _parse_date(text)
    if parsed is None or not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        return None
    offset = parsed.utcoffset()
    if offset is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    elif offset % timedelta(minutes=1):
        # ±HH:MM has no room for seconds (historical LMT offsets).
        parsed = parsed.replace(tzinfo=timezone(timedelta(minutes=round(offset / timedelta(minutes=1)))))
    return parsed.replace(microsecond=0).isoformat(timespec="seconds")


# --- The article ----------------------------------------------------------------


def _text_or_none(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return normalize_text(value) or None


def _related(entries: Any) -> list[dict[str, str | None]]:
    if not isinstance(entries, list):
        return []
    related = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            continue
        related.append(
            {
                "url": entry["url"],
                "title": _text_or_none(entry.get("title")),
                "teaser": _text_or_none(entry.get("teaser")),
                "section": _text_or_none(entry.get("section")),
            }
        )
    return related


def _discovered_at(value: Any) -> str | None:
    """When the page's link was first seen, as ``crawled_at`` is written (None when unknown)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            when = datetime.fromtimestamp(value, timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        return when.replace(microsecond=0).isoformat(timespec="seconds")
    return to_iso8601(value) if isinstance(value, str) else None


def _discovered_via(value: Any) -> str | None:
    return value if isinstance(value, str) and value in DISCOVERY_PATHS else None


def normalize_article(
    item: Mapping[str, Any], *, spider: str, now: datetime | None = None
) -> dict[str, Any]:
    """The stored form of the extracted article ``item`` (not modified).

    Returns a new dict with exactly :data:`ARTICLE_FIELDS`: ``canonical_url``
    is the declared canonical (rel=canonical/og:url, possibly relative) when it
    is on the same site, else ``url``, both normalized
    (:func:`crawler.base.urls.resolve_canonical`); ``domain`` as extracted, else
    :func:`crawler.base.urls.display_domain` of ``url``; text fields normalized (None
    when empty); body cleaned (:func:`clean_body`); ``authors`` split; dates ISO 8601;
    ``word_count``, ``content_hash`` and ``simhash`` (16 hex digits) computed
    from the cleaned body; ``crawled_at`` is ``now`` (default: the current
    time) in UTC to the second; ``discovered_at`` (when the crawl first saw the
    page's link: unix seconds or ISO 8601) likewise, or None; ``discovered_via``
    one of :data:`crawler.base.counters.DISCOVERY_PATHS`, else None; ``spider`` as given.

    Raises :class:`ValueError` when ``item`` has no ``url``.
    """
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError("article has no url")
    url = url.strip()
    body = clean_body(item.get("body"))
    crawled = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    language = _text_or_none(item.get("language"))
    domain = _text_or_none(item.get("domain")) or display_domain(url)
    article = {
        "url": url,
        "canonical_url": resolve_canonical(url, item.get("canonical_url")),
        "title": _text_or_none(item.get("title")),
        "authors": split_authors(item.get("authors")),
        "published": to_iso8601(item.get("published")),
        "modified": to_iso8601(item.get("modified")),
        "section": _text_or_none(item.get("section")),
        "body": body,
        "description": _text_or_none(item.get("description")),
        "language": language.lower().replace("_", "-") if language else None,
        "site_name": _text_or_none(item.get("site_name")),
        "domain": domain.lower() if domain else None,
        "related": _related(item.get("related")),
        "word_count": count_words(body),
        "content_hash": content_hash(body),
        "simhash": simhash_hex(simhash(body)),
        "crawled_at": crawled.replace(microsecond=0).isoformat(timespec="seconds"),
        "discovered_at": _discovered_at(item.get("discovered_at")),
        "discovered_via": _discovered_via(item.get("discovered_via")),
        "spider": spider,
    }
    assert tuple(article) == ARTICLE_FIELDS
    return article
