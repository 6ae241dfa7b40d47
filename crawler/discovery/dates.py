"""Dates of feed and sitemap entries, as aware UTC datetimes (or None when unreadable).

Sitemaps (``<lastmod>``, ``<news:publication_date>``) and JSON Feed (``date_published``)
use the W3C datetime profile of ISO 8601: ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``, or a
date with a time (minutes, seconds, fractions) and a zone designator (``Z``, ``+hh:mm``).
Real files also write a space for the ``T``, leave out the zone or write RFC 2822 dates;
those are read too. A time without a zone is taken as UTC, a date alone as its midnight
UTC. RSS and Atom dates are parsed by feedparser (:func:`from_struct_time`).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

__all__ = ["from_struct_time", "parse_w3c_datetime"]

_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
# The longest date string worth reading; anything longer is not a date.
_MAX_LENGTH = 64


def parse_w3c_datetime(text: str | None) -> datetime | None:
    """``text`` as an aware UTC datetime, or None when it names no date. Never raises."""
    if not text:
        return None
    text = text.strip()
    if not text or len(text) > _MAX_LENGTH:
        return None
    if match := _YEAR_MONTH.fullmatch(text):
        year, month = int(match[1]), int(match[2] or 1)
        return _utc(year, month) if 1 <= month <= 12 and year >= 1 else None
    candidate = text[:-1] + "+00:00" if text[-1:] in "zZ" else text
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return _as_utc(parsed)


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """A UTC ``struct_time`` (feedparser's ``published_parsed``) as an aware datetime."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None


def _utc(year: int, month: int) -> datetime | None:
    try:
        return datetime(year, month, 1, tzinfo=timezone.utc)
    except ValueError:
        return None


def _as_utc(parsed: datetime) -> datetime | None:
    try:
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None  # an offset that moves the date out of range (year 1 or 9999)
