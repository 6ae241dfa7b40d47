"""The ground truth of a crawl of the demo site: what it must store, and what not.

Computed from the same records as the pages (:mod:`crawler.demo.content`), for
a crawl seeded with ``base_url + "/"``: :func:`expected_articles` (what must
be stored, once each), :func:`duplicate_pages` (copies that must not be), and,
for a site started with ``include_bad=True``, :func:`bad_pages` and
:func:`bad_articles`.

The live site (``serve(live=True)``) has no truth computed ahead: it records
what went live and what was fetched as it runs (:meth:`crawler.demo.live.LiveSite.truth`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.base.counters import Outcome
from crawler.demo.content import ARTICLES, LAB_ARTICLES, SECTIONS, teaser
from crawler.demo.pages import (
    AMP_PATH,
    BAD_PAGES,
    UPDATE_PATH,
    WIRE_PATH,
    aware_datetime,
    related_articles,
)

if TYPE_CHECKING:
    from crawler.demo.content import Article

__all__ = ["bad_articles", "bad_pages", "duplicate_pages", "expected_articles"]


def _iso(value: str | None) -> str | None:
    """``value`` as ISO 8601 with an offset (``+00:00`` when it names no zone)."""
    return None if value is None else aware_datetime(value).isoformat(timespec="seconds")


def _truth(article: Article, base: str) -> dict[str, Any]:
    url = base + article.path
    return {
        "url": url,
        "canonical_url": url,
        "title": article.headline,
        "authors": list(article.authors),
        "published": _iso(article.published),
        "modified": _iso(article.modified),
        "section": SECTIONS[article.section],
        "first_paragraph": article.paragraphs[0],
        "related": [
            {"url": base + other.path, "title": other.headline, "teaser": teaser(other),
             "section": SECTIONS[other.section]}
            for other in related_articles(article)
        ],
    }


def expected_articles(base_url: str) -> list[dict[str, Any]]:
    """The articles a correct crawl seeded with ``base_url + "/"`` stores, once each.

    One dict per article, sorted by ``url``: ``url`` and ``canonical_url`` (the
    clean article URL: every page links it before any tracking or fragment
    variant of it, so a crawl following links in page order fetches it and
    drops the variants by fingerprint), ``title`` (the headline, without the
    site name), ``authors`` (people only: a "By Staff Reporter" byline gives ``[]``),
    ``published`` and ``modified`` (ISO 8601 with an offset, ``+00:00`` for a
    date without a zone; ``modified`` None when the page has none), ``section``
    ("Biz"), ``first_paragraph``, and ``related``: the teasers of the page's
    "More <Section>" block in page order, each ``{"url", "title" (the full
    headline), "teaser" (as printed, ending in " [...]"), "section"}``.
    Copies (:func:`duplicate_pages`) and lab pages are not included.
    """
    base = base_url.rstrip("/")
    return sorted((_truth(article, base) for article in ARTICLES), key=lambda a: a["url"])


def duplicate_pages(base_url: str) -> dict[str, str]:
    """URL -> kind of each copy of an article that must not be stored again:
    ``"duplicate_content"`` (a syndicated copy, same body, canonical to itself),
    ``"near_duplicate"`` (one word changed) and ``"duplicate_url"`` (an AMP copy
    whose rel=canonical names the original)."""
    base = base_url.rstrip("/")
    return {base + WIRE_PATH: Outcome.DUPLICATE_CONTENT, base + UPDATE_PATH: Outcome.NEAR_DUPLICATE,
            base + AMP_PATH: Outcome.DUPLICATE_URL}


def bad_pages(base_url: str) -> dict[str, str]:
    """URL -> what is wrong with each page of ``/lab/`` (served with ``include_bad``
    only): "malformed", "windows-1252", "gb2312", "no-charset" (the four are real
    articles, see :func:`bad_articles`), "not-html", "empty", "oversize",
    "redirect-loop" (both ends of the loop), "404" and "500"."""
    base = base_url.rstrip("/")
    return {base + path: kind for path, kind in BAD_PAGES.items()}


def bad_articles(base_url: str) -> list[dict[str, Any]]:
    """The real articles among :func:`bad_pages`, which a crawl of a site started
    with ``include_bad=True`` must store too; shaped and sorted as
    :func:`expected_articles`, text in proper Unicode, ``related`` empty."""
    base = base_url.rstrip("/")
    return sorted((_truth(a, base) for a in LAB_ARTICLES.values()), key=lambda a: a["url"])
