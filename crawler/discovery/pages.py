"""What an HTML page says about a site's hubs: its feeds, whether it is a page 2 of a
listing, whether it is a section front; and whether an entry is recent enough to queue.

The rules, each stated once:

* **Feed autodiscovery** (:func:`feed_links`): ``<link rel="alternate">`` whose type is
  ``application/rss+xml``, ``application/atom+xml``, ``application/feed+json`` or
  ``application/json`` with a title naming a feed; resolved against ``<base href>`` and the
  page's URL, http(s) only, once each, in page order. Comment feeds are left out (a title
  or URL naming comments: WordPress puts one on every article, and its entries are comments
  of that one article), so a crawl registers a site's few feeds, not one per article.
* **Pagination** (:func:`is_paginated`): page 2 or later of a listing, by the shapes sites
  use (see :data:`PAGE_PARAMETERS` and :func:`is_paginated`). Page 1 is not paginated.
* **Section front** (:func:`is_front`): a listing page that is not an article, not
  paginated, not the site's home page (the home is a hub of its own), with at least
  :data:`MIN_HEADLINES` distinct same-site links whose anchor text reads as a headline: at
  least :data:`MIN_HEADLINE_WORDS` words (a CJK-aware count), not a URL. Menus ("World",
  "Sport"), "Read more" and page numbers do not count; a front lists stories by title.
* **Freshness** (:func:`entry_is_fresh`): an entry without a date is fresh (the crawl
  cannot tell); one dated in the future is fresh (clock skew); otherwise it is fresh when
  published at most ``max_age`` seconds before ``now``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import lxml.html
from lxml import etree

from crawler.article.text import count_words
from crawler.base.urls import is_http_url, same_site
from crawler.discovery.links import absolute_http_url

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "FEED_TYPES",
    "MIN_HEADLINES",
    "MIN_HEADLINE_WORDS",
    "PAGE_PARAMETERS",
    "entry_is_fresh",
    "feed_links",
    "is_front",
    "is_paginated",
]

#: Media types of ``<link rel="alternate">`` that name a feed.
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
# application/json is a feed only with a title that says so (it also names oEmbed, APIs).
_JSON_TYPE = "application/json"
_FEED_TITLE = re.compile(r"\b(?:feed|rss|atom)\b", re.IGNORECASE)
_COMMENTS = re.compile(r"comment", re.IGNORECASE)

#: Query parameters that number the pages of a listing (compared lowercased).
PAGE_PARAMETERS = frozenset({"page", "pg", "paged", "pagenum", "pageno", "page_no", "pagenumber",
                             "page_number", "seite", "pagina", "strona"})
# Parameters that skip a number of items: any value above 0 is a later page.
_OFFSET_PARAMETERS = frozenset({"start", "offset", "from", "skip"})
# Path words before a page number: /page/2, /p/2, /seite/2...
_PAGE_WORDS = frozenset({"page", "p", "pages", "pg", "seite", "pagina", "strona", "sida", "side"})
# A page number in the last segment: page-3, page_3, page3, news-page-3, page-3.html.
_PAGE_SUFFIX = re.compile(r"(?:^|.*[-_])page[-_]?(\d{1,5})(?:\.[a-z]{2,5})?", re.IGNORECASE)
_NUMBER = re.compile(r"\d{1,5}")
_WORD_SEGMENT = re.compile(r"[a-z][a-z-]*", re.IGNORECASE)
# A bare number after a section (/world/2/) is a page only when it is this small: article
# ids are longer.
_MAX_BARE_PAGE = 99

#: Distinct headline links a section front has at least.
MIN_HEADLINES = 5
#: Words an anchor text has at least to read as a headline.
MIN_HEADLINE_WORDS = 4


def feed_links(page: Any, base_url: str) -> list[str]:
    """The feed URLs a page announces (see the module's rules).

    ``page`` is the HTML as bytes or str, an lxml element or tree, a parsel selector or a
    Scrapy response; unreadable HTML gives ``[]``. Never raises.
    """
    links = _alternate_links(page)
    if links is None:
        return []
    base = base_url
    for href in links[1]:
        base = absolute_http_url(href, base_url) or base_url
        break
    found: list[str] = []
    for rel, kind, title, href in links[0]:
        if "alternate" not in rel.lower().split():
            continue
        kind = kind.split(";")[0].strip().lower()
        if not (kind in FEED_TYPES or (kind == _JSON_TYPE and _FEED_TITLE.search(title))):
            continue
        url = absolute_http_url(href, base)
        if url is None or _COMMENTS.search(title) or _COMMENTS.search(url.partition("://")[2]):
            continue
        if url not in found:
            found.append(url)
    return found


def _alternate_links(page: Any) -> tuple[list[tuple[str, str, str, str]], list[str]] | None:
    """(rel, type, title, href) of every ``<link>`` with an href, and the ``<base href>``
    values, or None when ``page`` cannot be read."""
    root = _root(page)
    if root is None:
        return None
    try:
        nodes = root.xpath("//link[@href]")
        bases = [str(base) for base in root.xpath("//base/@href")]
    except (etree.XPathError, ValueError):
        return None
    links = [tuple(str(node.get(name) or "") for name in ("rel", "type", "title", "href"))
             for node in nodes if isinstance(node, etree._Element)]
    return links, bases


def _root(page: Any) -> etree._Element | None:
    """The lxml element of a page given as bytes, str, lxml element or tree, parsel
    selector or Scrapy response; None when there is none."""
    if isinstance(page, str):
        page = page.encode("utf-8", "surrogatepass")
    if isinstance(page, bytes):
        if not page.strip():
            return None
        try:
            return lxml.html.fromstring(page)
        except (etree.ParserError, etree.XMLSyntaxError, ValueError):
            return None
    page = getattr(page, "selector", page)  # a Scrapy response
    page = getattr(page, "root", page)  # a parsel selector
    if isinstance(page, etree._ElementTree):
        page = page.getroot()
    return page if isinstance(page, etree._Element) else None


def is_paginated(url: str) -> bool:
    """Whether ``url`` is page 2 or later of a listing: ``/page/5/``, ``/page/5``,
    ``/p/2/``, ``-page-3``, ``page3.html``, ``?page=3``, ``&p=2``, ``?start=20``, or a
    number of at most two digits right after a section word (``/world/2/``).

    Not paginated: page 1 (``?page=1``), article URLs with dates or ids
    (``/2024/05/01/story``, ``/world/12345/story``, ``/news/story-123``), WordPress's
    ``/?p=123`` (a post id: ``p`` counts as a page number only beside a path or another
    parameter). Never raises.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    path = parts.path
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    for name, value in pairs:
        name = name.lower()
        if not _NUMBER.fullmatch(value):
            continue
        number = int(value)
        if name in PAGE_PARAMETERS and number >= 2:
            return True
        if name in _OFFSET_PARAMETERS and number >= 1:
            return True
        if name == "p" and number >= 2 and (len(pairs) > 1 or path.strip("/")):
            return True
    segments = [segment for segment in path.split("/") if segment]
    if segments and segments[-1].lower() in ("index.html", "index.htm", "index.php"):
        segments.pop()
    if not segments:
        return False
    last = segments[-1]
    if len(segments) >= 2 and segments[-2].lower() in _PAGE_WORDS and _NUMBER.fullmatch(last):
        return int(last) >= 2
    if match := _PAGE_SUFFIX.fullmatch(last):
        return int(match[1]) >= 2
    # /world/2/: a small number right after a word, with no other number in the path
    # (which would make it a date or an id).
    if (len(segments) >= 2 and _NUMBER.fullmatch(last) and 2 <= int(last) <= _MAX_BARE_PAGE
            and _WORD_SEGMENT.fullmatch(segments[-2])
            and not any(char.isdigit() for segment in segments[:-1] for char in segment)):
        return True
    return False


def is_front(url: str, links: Iterable[tuple[str, str]], *, is_article: bool,
             min_headlines: int = MIN_HEADLINES) -> bool:
    """Whether the page at ``url``, whose links are ``links`` ((href, anchor text) pairs,
    href absolute or relative to ``url``), is a section front (see the module's rules).
    ``is_article`` is the extractor's verdict on the page. Never raises."""
    if is_article or not is_http_url(url) or is_paginated(url):
        return False
    try:
        if urlsplit(url).path.strip("/") == "":
            return False  # the home page: a hub of its own kind
    except ValueError:
        return False
    page = absolute_http_url(url, url)
    if page is None:
        return False
    headlines: set[str] = set()
    for href, text in links:
        target = absolute_http_url(href, page)
        if (target is None or target == page or target in headlines
                or not same_site(page, target) or not _is_headline(text)):
            continue
        headlines.add(target)
        if len(headlines) >= min_headlines:
            return True
    return False


def _is_headline(text: object) -> bool:
    if not isinstance(text, str):
        return False
    text = " ".join(text.split())
    return (count_words(text) >= MIN_HEADLINE_WORDS and not is_http_url(text)
            and not text.lower().startswith("www."))


def entry_is_fresh(published: datetime | None, now: datetime | float, max_age: float) -> bool:
    """Whether an entry published at ``published`` is recent enough to queue at ``now``
    (a datetime, or unix seconds): True when ``published`` is None, in the future, or at
    most ``max_age`` seconds old. A naive ``published`` is taken as UTC."""
    if published is None:
        return True
    if published.tzinfo is None:
        published = published.replace(tzinfo=timezone.utc)
    moment = now.timestamp() if isinstance(now, datetime) else float(now)
    return moment - published.timestamp() <= max_age
