"""``crawler sources``: the hubs of a crawl (list, add, remove), for people (rich) or scripts (JSON)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.base.counters import HUB_KINDS
from crawler.base.urls import canonical_url_for, url_host
from crawler.frontier.hubs import HubRegistry
from crawler.frontier.seeding import SeedError, check_url, is_home_url, printable
from crawler.cli.status import duration

if TYPE_CHECKING:
    from crawler.frontier.core import Frontier
    from crawler.frontier.hubs import Hub

__all__ = ["SourceError", "add_source", "guess_kind", "list_sources", "remove_source"]

_FEED_WORDS = ("feed", "rss", "atom")


class SourceError(ValueError):
    """A URL or kind ``crawler sources`` cannot take; the message says why."""


def guess_kind(url: str) -> str:
    """The hub kind a URL most likely is, from its path alone: a path naming a feed
    (``feed``, ``rss``, ``atom``; ``/feed.xml`` too) -> feed; one naming a sitemap or
    ending in ``.xml`` / ``.xml.gz`` -> sitemap; "/" or empty -> home; else front."""
    path = urlsplit(url).path.lower()
    if any(word in path for word in _FEED_WORDS):
        return "feed"
    if "sitemap" in path or path.endswith((".xml", ".xml.gz")):
        return "sitemap"
    if is_home_url(url):
        return "home"
    return "front"


def _url(url: str) -> str:
    """``url`` as a hub is keyed and fetched (canonical), or SourceError."""
    try:
        return canonical_url_for(check_url(url))
    except SeedError as exc:
        raise SourceError(f"{printable(url, 200)}: {printable(str(exc))}") from None


def add_source(frontier: Frontier, url: str, kind: str | None = None) -> tuple[str, str, bool]:
    """Register ``url`` as a hub of ``kind`` (default: :func:`guess_kind`), due at once; a
    retired hub is re-activated. Its host becomes one the spider may follow links on.
    Returns ``(url as fetched, kind, added)``; ``added`` is False when it was a hub already.
    Raises :class:`SourceError` for a URL a seed could not be, or an unknown kind."""
    fetched = _url(url)
    if kind is None:
        kind = guess_kind(fetched)
    elif kind not in HUB_KINDS:
        raise SourceError(f"unknown kind {printable(kind, 50)!r}: one of {', '.join(HUB_KINDS)}")
    frontier.add_hosts([url_host(fetched)])
    return fetched, kind, HubRegistry.for_frontier(frontier).add(fetched, kind, reactivate=True)


def remove_source(frontier: Frontier, url: str) -> tuple[str, bool]:
    """Forget hub ``url``; returns ``(url as fetched, whether it was a hub)``. SourceError for a bad URL."""
    fetched = _url(url)
    return fetched, HubRegistry.for_frontier(frontier).remove(fetched)


def _ago(now: float, when: float | None) -> str:
    return "-" if when is None else f"{_duration(now - when)} ago"


def _duration(seconds: float) -> str:
    return duration(seconds, days=True)  # hub intervals reach FRONTIER_REVISIT_MAX and beyond


def _next_due(now: float, hub: Hub) -> str:
    if hub.retired:
        return "[bold red]retired[/]"
    if hub.queued_at is not None:
        return f"queued {_duration(now - hub.queued_at)} ago"
    if hub.next_due is None or hub.next_due <= now:
        return "now"
    return f"in {_duration(hub.next_due - now)}"


def list_sources(frontier: Frontier, *, as_json: bool = False, out: TextIO | None = None) -> list[Hub]:
    """Print every hub (sorted by site, kind, URL): a table, or with ``as_json`` one JSON
    object ``{"now": Redis time, "hubs": [Hub.as_dict()...]}``. Returns the hubs."""
    out = out or sys.stdout
    registry = HubRegistry.for_frontier(frontier)
    hubs, now = registry.all(), registry.now()
    if as_json:
        print(json.dumps({"now": now, "hubs": [hub.as_dict() for hub in hubs]}), file=out)
        return hubs
    # A terminal gets its own width; a file or pipe one wide enough for a row a line.
    console = Console(file=out, width=None if out.isatty() else 180)
    if not hubs:
        console.print("no hubs: crawler seed https://site/ registers a site's home page, "
                      "crawler sources add URL any hub")
        return hubs
    table = Table("url", "site", "kind", "interval", "last visit", "last change", "new links",
                  "next due", "failures", title=f"{len(hubs)} hubs")
    for hub in hubs:
        failures = str(hub.failures)
        if hub.last_result == "error":
            failures = f"[red]{failures}[/]"
        table.add_row(escape(printable(hub.url)), escape(printable(hub.site)), hub.kind,
                      _duration(hub.interval), _ago(now, hub.last_visit), _ago(now, hub.last_change),
                      str(hub.new_links), _next_due(now, hub), failures)
    console.print(table)
    return hubs
