"""Dates a page declares: JSON-LD values of any shape, written forms read the right way round.

:func:`jsonld_date` reads a JSON-LD date property (a string, a list, a
``{"@value": ...}`` object) from the nodes that describe the article first;
:func:`as_written` turns a day-first numeric date ("04.05.2025 10:30", the
dotted form, which is never month-first) into ISO 8601 so that it is not read
month-first later (:func:`crawler.article.normalize.to_iso8601` reads
"11/04/2017" as November 4); :func:`guess_date` asks htmldate.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from htmldate import find_date
from htmldate.extractors import get_external_parser

from crawler.article.normalize import to_iso8601
from crawler.article.text import clean_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lxml.html import HtmlElement

__all__ = ["as_written", "either_way", "guess_date", "is_iso_day", "jsonld_date", "warm_up", "with_local_offset"]

logger = logging.getLogger(__name__)

# Two timestamps this close name one publication (a meta tag and the shown
# time are often written a few minutes apart).
_SAME_MOMENT = timedelta(hours=1)
_LEAD_RE = re.compile(r"^on\s+", re.IGNORECASE)
# The start of an ISO 8601 date, as schema.org's Date and DateTime values are written.
_ISO_DAY_RE = re.compile(r"\d{4}-\d\d-\d\d")
# A date whose day and month read either way round: "02-12-2025", "03/04/2024"
# (not the dotted form, which is day first: as_written).
_EITHER_WAY_RE = re.compile(r"(0?[1-9]|1[0-2])[-/](0?[1-9]|1[0-2])[-/](\d{4})\b")
_GLUED_ZONE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\s*UTC\s*(\d{1,2}:\d{2})")
_DOTTED_RE = re.compile(
    r"^(?:\w+,?\s+)?(?P<day>\d{1,2})\.\s?(?P<month>\d{1,2})\.\s?(?P<year>\d{4})"
    r"(?:,?\s+(?:um\s+|à\s+|kl\.?\s+)?(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?"
    r"(?:\s*(?:uhr|h))?\s*$",
    re.IGNORECASE,
)


def jsonld_date(nodes: Iterable[dict], key: str) -> str | None:
    """The first non-blank ``key`` value (``datePublished``, ``dateModified``...) of ``nodes``.

    A value may be a string, a list (its first usable member) or a typed
    value (``{"@value": ...}``); ``None`` when no node has one.
    """
    for node in nodes:
        value = _value(node.get(key))
        if value:
            return value
    return None


def as_written(raw: str | None) -> str | None:
    """``raw`` without blanks, a leading "on", an "@" or a "UTC" glued between day
    and time; a day-first dotted date ("04.05.2025", "4. 5. 2025,
    10:30 Uhr") rewritten as ISO 8601 ("2025-05-04", "2025-05-04T10:30:00");
    any other value as it is; ``None`` for nothing."""
    text = clean_text(raw)
    if not text:
        return None
    # "2025-12-17UTC07:30:00", "on Friday December 19, 2025 @08:00PM"
    text = _GLUED_ZONE_RE.sub(r"\1T\2", _LEAD_RE.sub("", text)).replace("@", " ")
    match = _DOTTED_RE.match(text)
    if not match or not (1 <= int(match["month"]) <= 12 and 1 <= int(match["day"]) <= 31):
        return text
    date = f"{match['year']}-{int(match['month']):02d}-{int(match['day']):02d}"
    if match["hour"] is None or int(match["hour"]) > 23:
        return date
    return f"{date}T{int(match['hour']):02d}:{match['minute']}:{match['second'] or '00'}"


def is_iso_day(value: str) -> bool:
    """Whether ``value`` starts with an ISO 8601 day ("2025-06-12"), as schema.org asks."""
    return _ISO_DAY_RE.match(value) is not None


def either_way(value: str) -> set[str] | None:
    """The two days (ISO 8601) that ``value`` names when its day and month read
    either way round ("02-12-2025": 2025-12-02 or 2025-02-12); ``None`` for any
    other value ("12-12-2025" and "13-02-2025" read one way only)."""
    match = _EITHER_WAY_RE.match(value)
    if match is None or int(match[1]) == int(match[2]):
        return None
    first, second, year = int(match[1]), int(match[2]), match[3]
    return {f"{year}-{first:02d}-{second:02d}", f"{year}-{second:02d}-{first:02d}"}


def with_local_offset(found: str, others: Iterable[str | None]) -> str:
    """``found``, or the first of ``others`` that names the same moment (within
    :data:`_SAME_MOMENT`) in a zone other than UTC when ``found`` is in UTC: the
    publisher's local offset (a page that writes "+00:00" in its meta tags and
    "-05:00" in its ``<time>``)."""
    iso = to_iso8601(found)
    if not iso or not iso.endswith("+00:00"):
        return found
    instant = datetime.fromisoformat(iso)
    for other in others:
        other_iso = to_iso8601(as_written(other))
        if (other_iso and not other_iso.endswith("+00:00")
                and abs(datetime.fromisoformat(other_iso) - instant) <= _SAME_MOMENT):
            return other_iso
    return found


def guess_date(tree: HtmlElement, url: str | None = None, *, extensive: bool = True) -> str | None:
    """htmldate's guess of the original publication date of ``tree`` (``YYYY-MM-DD``), or ``None``.

    ``extensive`` runs its slower search of the page's text when its fast
    rules find nothing (trafilatura's own setting). Never raises.
    """
    try:
        return find_date(tree, extensive_search=extensive, original_date=True, url=url)
    except Exception:  # noqa: BLE001 - a guess that fails is no date
        logger.debug("htmldate failed", exc_info=True)
        return None


def warm_up() -> None:
    """Build now what htmldate's last resort, dateparser, builds the first time
    it reads a text: the word-splitting expressions of its 200 locales, about
    2 s of CPU. Without this the first page whose date only dateparser can read
    pays it (a worker runs it in its extraction thread as it starts). Never raises."""
    try:
        get_external_parser().get_date_data("warm up")  # no locale reads it: every one is tried
    except Exception:  # noqa: BLE001 - a slow first page is all that is lost
        logger.debug("dateparser warm-up failed", exc_info=True)


def _value(value: Any) -> str | None:
    if isinstance(value, list):
        return next((v for v in map(_value, value) if v), None)
    if isinstance(value, dict):
        return _value(value.get("@value"))
    return clean_text(value) if isinstance(value, str) else None
