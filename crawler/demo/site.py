"""Rendering and serving of "The Daily Loopback", the demo news site.

:func:`serve` starts the site on a loopback address in a background thread
(standard library only) and returns a :class:`DemoSite`. Every page is rendered
from :mod:`crawler.demo.content`, so a site always serves the same bytes, apart
from absolute URLs, which name its port.

The ground truth of a crawl seeded with ``base_url + "/"`` comes from the same
records: :func:`expected_articles` (what must be stored, once each),
:func:`duplicate_pages` (copies that must not be), and, for a site started with
``include_bad=True``, :func:`bad_pages` and :func:`bad_articles`.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from crawler.demo.content import (
    AMP_SOURCE,
    ARTICLES,
    LAB_ARTICLES,
    NEAR_DUPLICATE,
    SECTIONS,
    SITE_NAME,
    WIRE_SOURCE,
    Article,
    section_articles,
    short_headline,
    teaser,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

__all__ = [
    "OVERSIZE_BYTES",
    "DemoSite",
    "bad_articles",
    "bad_pages",
    "duplicate_pages",
    "expected_articles",
    "serve",
]

logger = logging.getLogger(__name__)

#: Size in bytes of ``/lab/oversize.html`` (and its Content-Length).
OVERSIZE_BYTES = 3 * 1024 * 1024

_HTML = "text/html; charset=utf-8"
_NEWS_SECTIONS = ("biz", "tech", "culture")
_HOME_LATEST = 6
_TRACKED = "?utm_source=home&utm_medium=web&fbclid=abc"
_CALENDAR_START = "2017-11"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_WIRE_PATH = f"/wire/{WIRE_SOURCE}.html"
_AMP_PATH = f"/amp/{AMP_SOURCE}.html"
_UPDATE_PATH = f"/tech/{NEAR_DUPLICATE[0]}-update.html"
# What is wrong with each misbehaving page of /lab/ (the bad_pages() kinds).
_BAD_PAGES = {
    "/lab/malformed.html": "malformed",
    "/lab/windows-1252.html": "windows-1252",
    "/lab/gb2312.html": "gb2312",
    "/lab/undeclared.html": "no-charset",
    "/lab/report.pdf": "not-html",
    "/lab/empty.html": "empty",
    "/lab/oversize.html": "oversize",
    "/lab/loop-a": "redirect-loop",
    "/lab/loop-b": "redirect-loop",
    "/lab/missing.html": "404",
    "/lab/error.html": "500",
}


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    content_type: str = _HTML
    location: str | None = None


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


def _aware(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _display_date(value: str, lang: str) -> str:
    day = datetime.fromisoformat(value)
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _names(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- Page parts ------------------------------------------------------------------

_OVERLAY = ('<div class="overlay">\u00d7<p>You will be redirected back to your article in'
            ' seconds</p></div>\n')
_MASTHEAD = (
    '<header class="masthead">\n<a class="logo" href="/">The Daily Loopback</a>\n'
    '<nav class="menu"><ul><li><a href="/">Home</a></li>'
    + "".join(f'<li><a href="/{key}/">{SECTIONS[key]}</a></li>' for key in _NEWS_SECTIONS)
    + "</ul></nav>\n</header>\n"
)
_BRANDS = (
    '<section class="brands">\n<h2>More From Our Brands</h2>\n<ul>\n'
    '<li><a href="http://brand-one.example/">Brand One: Gardens and Homes</a></li>\n'
    '<li><a href="https://brand-two.example/story">Brand Two: The Weekend Traveler</a></li>\n'
    "</ul>\n</section>\n"
)
_PAYWALL = ('<section class="paywall">\n<h2>Access exclusive content</h2>\n'
            "<p>Subscribers read every story on The Daily Loopback without limits.</p>\n"
            '<button type="button">Subscribe</button>\n</section>\n')
_FOOTER = (
    '<div class="cookie-banner"><p>We use cookies to improve your experience.</p>'
    '<button type="button">Accept all cookies</button></div>\n'
    '<footer class="site-footer"><p>Copyright 2018 The Daily Loopback. All rights reserved.'
    '</p><p><a href="/">Front page</a></p></footer>\n'
)


def _document(title: str, body: str, *, head: str = "", lang: str = "en",
              charset: str | None = "utf-8", html_attrs: str = "") -> str:
    meta = f'<meta charset="{charset}">\n' if charset else ""
    return (f'<!DOCTYPE html>\n<html lang="{lang}"{html_attrs}>\n<head>\n{meta}'
            f"<title>{_esc(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n")


def _simple_page(title: str, main: str) -> str:
    return _document(f"{title} | {SITE_NAME}", f"{_MASTHEAD}<main>\n{main}</main>\n{_FOOTER}")


def _credited(article: Article) -> tuple[str, ...]:
    """Names in the page's metadata: the authors, or the byline's role ("Staff Reporter")."""
    return article.authors or ((article.byline or "").removeprefix("By ").strip(),)


def _byline(article: Article) -> str:
    text = _esc(article.byline or "By " + _names(article.authors))
    for name in article.authors:
        text = text.replace(_esc(name), f'<span class="author">{_esc(name)}</span>', 1)
    return text


def _meta_head(article: Article, canonical: str) -> str:
    head = [f'<link rel="canonical" href="{_attr(canonical)}">']
    if article.metadata == "none":
        return "\n".join(head) + "\n"
    section = SECTIONS[article.section]
    head += ['<meta property="og:type" content="article">',
             f'<meta property="og:title" content="{_attr(article.headline)}">',
             f'<meta property="og:url" content="{_attr(canonical)}">',
             f'<meta property="og:site_name" content="{SITE_NAME}">']
    if article.metadata == "og":
        head.append(f'<meta property="article:published_time" content="{article.published}">')
        if article.modified:
            head.append(f'<meta property="article:modified_time" content="{article.modified}">')
        head.append(f'<meta property="article:section" content="{section}">')
        head += [f'<meta property="article:author" content="{_attr(name)}">'
                 for name in article.authors]
    else:
        data: dict[str, Any] = {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": article.headline, "mainEntityOfPage": canonical,
            "author": [{"@type": "Person", "name": name} for name in _credited(article)],
            "datePublished": article.published, "articleSection": section,
            "inLanguage": article.lang,
            "publisher": {"@type": "Organization", "name": SITE_NAME},
        }
        if article.modified:
            data["dateModified"] = article.modified
        text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        head.append(f'<script type="application/ld+json">{text}</script>')
    return "\n".join(head) + "\n"


def _related(article: Article) -> tuple[Article, ...]:
    """The articles in the "More <Section>" block of ``article`` (none for lab pages)."""
    if article.section == "lab":
        return ()
    return tuple(other for other in section_articles(article.section) if other is not article)


def _more_block(article: Article) -> str:
    others = _related(article)
    if not others:
        return ""
    items = "".join(
        f'<li><a href="{other.path}">{_esc(short_headline(other))}</a>'
        f"<h3>{_esc(other.headline)}</h3><p>{_esc(teaser(other))}</p></li>\n"
        for other in others
    )
    return (f'<section class="more">\n<h2>More {SECTIONS[article.section]}</h2>\n<ul>\n'
            f"{items}</ul>\n</section>\n")


def _article_page(article: Article, canonical: str, *, paragraphs: tuple[str, ...] = (),
                  head: str = "", aside: str = "", charset: str | None = "utf-8",
                  html_attrs: str = "") -> str:
    """The HTML of ``article``; ``paragraphs`` replace its body when given."""
    dateline = (f'<time class="published" datetime="{article.published}">'
                f"{_display_date(article.published, article.lang)}</time>")
    if article.modified:
        dateline += (f' | Updated <time class="updated" datetime="{article.modified}">'
                     f"{_display_date(article.modified, article.lang)}</time>")
    body = "".join(f"<p>{_esc(text)}</p>\n" for text in paragraphs or article.paragraphs)
    main = (
        f'<main>\n<article>\n<header class="article-header">\n<p class="kicker">'
        f'<a href="/{article.section}/">{SECTIONS[article.section]}</a></p>\n'
        f"<h1>{_esc(article.headline)}</h1>\n<p class=\"byline\">{_byline(article)}</p>\n"
        f'<p class="dateline">{dateline}</p>\n</header>\n'
        f'<div class="article-body">\n{body}</div>\n</article>\n'
        f"{aside}{_more_block(article)}{_BRANDS}{_PAYWALL}</main>\n"
    )
    return _document(f"{article.headline} | {SITE_NAME}", _OVERLAY + _MASTHEAD + main + _FOOTER,
                     head=_meta_head(article, canonical) + head, lang=article.lang,
                     charset=charset, html_attrs=html_attrs)


def _malformed_page(article: Article, canonical: str) -> str:
    """``article`` as sloppy HTML: unquoted attributes, unclosed ``p``/``li``/``b``,
    no ``</head>``, stray ``</div>``/``</span>``, no closing ``body``/``html``."""
    meta = _meta_head(article, canonical).replace(f'"{_attr(canonical)}"', canonical, 1)
    p = [_esc(text) for text in article.paragraphs]
    return (
        f"<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{_esc(article.headline)} | {SITE_NAME}\n</title>\n{meta}<body>\n"
        '<div class="overlay">\u00d7<p>You will be redirected back to your article in seconds'
        "</div>\n</div>\n<header class=masthead><a class=logo href=/>The Daily Loopback</a>\n"
        '<nav class="menu"><ul><li><a href="/">Home</a><li><a href="/biz/">Biz<li>'
        '<a href="/tech/">Tech</a><li><a href=/culture/>Culture</a></ul>\n</header>\n'
        '<article>\n<header class="article-header">\n<p class=kicker><a href="/lab/">Lab</a>\n'
        f"<h1>{_esc(article.headline)}</h1>\n"
        f"<p class=byline>{_byline(article)}\n<p class=dateline><time class=published "
        f'datetime="{article.published}">{_display_date(article.published, "en")}</time>\n'
        f"</header>\n<div class=article-body>\n<p>{p[0]}\n<p>{p[1]}\n</div></div>\n"
        f"<p><b>{p[2]}\n<p>{p[3]}</b></span>\n<p>{p[4]}\n</article>\n"
        + _BRANDS.replace("</li>", "") + _FOOTER.replace("</p>", "")
    )


# --- Pages that are not articles -----------------------------------------------------------


def _home(include_bad: bool) -> str:
    newest = sorted(ARTICLES, key=lambda a: _aware(a.published), reverse=True)[:_HOME_LATEST]
    latest = "".join(
        f'<li><a href="{a.path}">{_esc(a.headline)}</a> '
        f'<span class="section">{SECTIONS[a.section]}</span></li>\n'
        for a in newest
    )
    # Variants of articles linked above (tracking parameters, a fragment): the
    # clean URL always comes first in the page, so a crawl that follows links in
    # page order fetches it and drops the variants as the same request.
    by_slug = {a.slug: a for a in newest}
    most_read = [(by_slug["quarry-database-changes-license"], _TRACKED),
                 (by_slug["harrow-and-finch-sells-tea-to-cafes"], "#comments"),
                 (by_slug["coastline-bancorp-bad-loan-reserves"], "?ref=rss&utm_campaign=x"),
                 (by_slug["recell-refurbished-phones-funding"], _TRACKED + "#comments")]
    popular = "".join(f'<li><a href="{a.path}{suffix}">{_esc(a.headline)}</a></li>\n'
                      for a, suffix in most_read)
    sections = "".join(f'<li><a href="/{key}/">{SECTIONS[key]}</a></li>\n'
                       for key in _NEWS_SECTIONS)
    lab = '<li><a href="/lab/">The crawler lab</a></li>\n' if include_bad else ""
    main = (
        f'<h1>{SITE_NAME}</h1>\n<section class="sections">\n<h2>Sections</h2>\n<ul>\n{sections}'
        f'</ul>\n</section>\n<section class="latest">\n<h2>Latest headlines</h2>\n<ul>\n{latest}'
        f'</ul>\n</section>\n<section class="popular">\n<h2>Most read</h2>\n<ul>\n{popular}'
        '</ul>\n</section>\n<section class="services">\n<h2>Around the site</h2>\n<ul>\n'
        f'<li><a href="/calendar/?month={_CALENDAR_START}">Events calendar</a></li>\n'
        f'<li><a href="/private/secret.html">Staff area</a></li>\n{lab}</ul>\n</section>\n'
    )
    return _document(f"{SITE_NAME}: news from 127.0.0.1",
                     f"{_MASTHEAD}<main>\n{main}</main>\n{_FOOTER}")


def _listing(section: str, query: dict[str, list[str]]) -> _Response:
    """A section front: every article, sortable (a crawler trap) and with a page 2."""
    sort, page = query.get("sort", ["newest"])[-1], query.get("page", ["1"])[-1]
    if sort not in ("newest", "oldest") or page not in ("1", "2"):
        return _not_found()
    articles = sorted(section_articles(section), key=lambda a: _aware(a.published),
                      reverse=sort == "newest")
    if page == "2":  # the two oldest stories, as an archive page
        articles = sorted(articles, key=lambda a: _aware(a.published))[:2]
    items = "".join(
        f'<li><a href="{a.path}">{_esc(a.headline)}</a> <time datetime="{a.published}">'
        f"{_display_date(a.published, a.lang)}</time></li>\n" for a in articles
    )
    pager = (f'<a rel="prev" href="/{section}/">Newer stories</a>' if page == "2"
             else f'<a rel="next" href="/{section}/?page=2">Older stories</a>')
    name = SECTIONS[section]
    main = (f'<h1>{name}</h1>\n<p class="sort">Sort by: <a href="/{section}/?sort=newest">'
            f'newest</a> | <a href="/{section}/?sort=oldest">oldest</a></p>\n'
            f'<ul class="stories">\n{items}</ul>\n<p class="pager">{pager}</p>\n')
    return _Response(200, _simple_page(name, main).encode())


def _calendar(query: dict[str, list[str]]) -> _Response:
    """An events calendar linking the months before and after it, forever (a trap)."""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", query.get("month", [_CALENDAR_START])[-1])
    if match is None:
        return _not_found()
    index = int(match[1]) * 12 + int(match[2]) - 1
    label = f"{_MONTHS[index % 12]} {index // 12}"
    links = [f'<a rel="{rel}" href="/calendar/?month={i // 12:04d}-{i % 12 + 1:02d}">'
             f"{_MONTHS[i % 12]} {i // 12}</a>" for rel, i in (("prev", index - 1),
                                                              ("next", index + 1))]
    main = (f"<h1>Events calendar: {label}</h1>\n<p>No events are listed for {label}.</p>\n"
            f'<p class="pager">{" | ".join(links)}</p>\n')
    return _Response(200, _simple_page(f"Events: {label}", main).encode())


def _private_page() -> str:
    main = ("<article>\n<h1>Embargoed: Third-Quarter Results Draft</h1>\n<div class=\"article-body\">\n"
            "<p>This draft is for newsroom staff only and must not be published before the "
            "embargo lifts. Figures are preliminary and have not been checked by the desk. Do "
            "not share this page outside the newsroom, and do not link to it from any story. "
            "Robots are not welcome here, and a polite crawler never reads this sentence.</p>\n"
            "</div>\n</article>\n")
    return _document(f"Staff area | {SITE_NAME}", f"{_MASTHEAD}<main>\n{main}</main>\n",
                     head='<meta property="og:type" content="article">\n')


def _lab_index() -> str:
    items = "".join(f'<li><a href="{path}">{_esc(path.rsplit("/", 1)[1])}</a>: {kind}</li>\n'
                    for path, kind in _BAD_PAGES.items())
    return _simple_page("The crawler lab",
                        "<h1>The crawler lab</h1>\n<p>Pages that misbehave on purpose.</p>\n"
                        f"<ul>\n{items}</ul>\n")


@cache
def _oversize_body() -> bytes:
    """An HTML page of exactly :data:`OVERSIZE_BYTES` bytes."""
    head = _document("The Complete Archive | " + SITE_NAME, "").encode()
    head, tail = head.split(b"</body>")
    tail = b"</body>" + tail
    line = (b"<p>This archive page is far larger than any news article, and a crawler should "
            b"stop reading it long before the end.</p>\n")
    count, rest = divmod(OVERSIZE_BYTES - len(head) - len(tail), len(line))
    if rest < len(b"<!---->"):
        count, rest = count - 1, rest + len(line)
    padding = b"<!--" + b" " * (rest - len(b"<!---->")) + b"-->"
    return head + line * count + padding + tail


@cache
def _pdf_body() -> bytes:
    """A small, valid one-page PDF (with a correct cross-reference table)."""
    text = b"BT /F1 18 Tf 72 720 Td (The Daily Loopback: Annual Report 2017) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _not_found() -> _Response:
    return _Response(404, _simple_page("Page not found", "<h1>Page not found</h1>\n").encode())


# --- Routes ------------------------------------------------------------------------


class _Site:
    """Every page of one running site, by path; renders nothing per request
    except the few pages that depend on the query (listings, calendar)."""

    def __init__(self, base_url: str, include_bad: bool) -> None:
        self.base_url = base_url
        routes: dict[str, Callable[[dict[str, list[str]]], _Response]] = {
            "/robots.txt": _static(_Response(
                200, b"User-agent: *\nDisallow: /private/\n", "text/plain; charset=utf-8")),
            "/": _static(_Response(200, _home(include_bad).encode())),
            "/calendar/": _calendar,
            "/private/secret.html": _static(_Response(200, _private_page().encode())),
        }
        for key in _NEWS_SECTIONS:
            routes[f"/{key}/"] = lambda query, key=key: _listing(key, query)
        for path, text in self._articles().items():
            routes[path] = _static(_Response(200, text.encode()))
        if include_bad:
            routes.update(self._lab())
        self._routes = routes

    def respond(self, target: str) -> _Response:
        """The response to a GET of ``target`` (a path with an optional query)."""
        parts = urlsplit(target)
        handler = self._routes.get(parts.path)
        return _not_found() if handler is None else handler(parse_qs(parts.query))

    def _articles(self) -> dict[str, str]:
        """The article pages and their copies, by path."""
        base = self.base_url
        pages = {a.path: a for a in ARTICLES}
        wire, amp = pages[f"/biz/{WIRE_SOURCE}.html"], pages[f"/biz/{AMP_SOURCE}.html"]
        slug, old, new = NEAR_DUPLICATE
        original = pages[f"/tech/{slug}.html"]
        # Each copy is linked only from its original (through an aside both pages
        # share), so the original is always fetched, and stored, first.
        asides = {
            wire: (f'<aside class="syndication"><p>This story is also distributed by '
                   f'<a href="{_WIRE_PATH}">Loopback Wire</a>.</p></aside>\n'),
            amp: (f'<aside class="amp"><p>On a slow connection? Read the '
                  f'<a href="{_AMP_PATH}">lightweight version</a>.</p></aside>\n'),
            original: (f'<aside class="versions"><p>Versions of this story: <a href="'
                       f'{original.path}">first edition</a> | <a href="{_UPDATE_PATH}">'
                       "updated edition</a>.</p></aside>\n"),
        }
        out = {path: _article_page(a, base + path, aside=asides.get(a, ""),
                                   head=(f'<link rel="amphtml" href="{base}{_AMP_PATH}">\n'
                                         if a is amp else ""))
               for path, a in pages.items()}
        out[_WIRE_PATH] = _article_page(wire, base + _WIRE_PATH, aside=asides[wire])
        out[_AMP_PATH] = _article_page(amp, base + amp.path, aside=asides[amp],
                                       html_attrs=" amp")
        changed = tuple(text.replace(old, new) for text in original.paragraphs)
        out[_UPDATE_PATH] = _article_page(original, base + _UPDATE_PATH, paragraphs=changed,
                                          aside=asides[original])
        return out

    def _lab(self) -> dict[str, Callable[[dict[str, list[str]]], _Response]]:
        base = self.base_url
        lab = LAB_ARTICLES

        def article(kind: str, encoding: str, content_type: str, meta: str | None) -> _Response:
            page = _article_page(lab[kind], base + lab[kind].path, charset=meta)
            return _Response(200, page.encode(encoding), content_type)

        responses = {
            "/lab/": _Response(200, _lab_index().encode()),
            "/lab/malformed.html": _Response(
                200, _malformed_page(lab["malformed"], base + lab["malformed"].path).encode()),
            "/lab/windows-1252.html": article(
                "windows-1252", "cp1252", "text/html; charset=windows-1252", None),
            "/lab/gb2312.html": article("gb2312", "gb2312", "text/html", "gb2312"),
            "/lab/undeclared.html": article("no-charset", "cp1252", "text/html", None),
            "/lab/report.pdf": _Response(200, _pdf_body(), "application/pdf"),
            "/lab/empty.html": _Response(200, b""),
            "/lab/oversize.html": _Response(200, _oversize_body()),
            "/lab/loop-a": _Response(302, b"", location=base + "/lab/loop-b"),
            "/lab/loop-b": _Response(302, b"", location=base + "/lab/loop-a"),
            "/lab/error.html": _Response(
                500, _simple_page("Server error", "<h1>Something went wrong</h1>\n").encode()),
        }
        return {path: _static(response) for path, response in responses.items()}


def _static(response: _Response) -> Callable[[dict[str, list[str]]], _Response]:
    return lambda _query: response


# --- Ground truth ------------------------------------------------------------------


def _iso(value: str | None) -> str | None:
    """``value`` as ISO 8601 with an offset (``+00:00`` when it names no zone)."""
    return None if value is None else _aware(value).isoformat(timespec="seconds")


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
            for other in _related(article)
        ],
    }


def expected_articles(base_url: str) -> list[dict[str, Any]]:
    """The articles a correct crawl seeded with ``base_url + "/"`` stores, once each.

    One dict per article, sorted by ``url``: ``url`` and ``canonical_url`` (the
    clean article URL: every page links it before any tracking or fragment
    variant of it, so a crawl following links in page order fetches it and
    drops the variants by fingerprint), ``title`` (the headline, without the site name),
    ``authors`` (people only: a "By Staff Reporter" byline gives ``[]``),
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
    return {base + _WIRE_PATH: "duplicate_content", base + _UPDATE_PATH: "near_duplicate",
            base + _AMP_PATH: "duplicate_url"}


def bad_pages(base_url: str) -> dict[str, str]:
    """URL -> what is wrong with each page of ``/lab/`` (served with ``include_bad``
    only): "malformed", "windows-1252", "gb2312", "no-charset" (the four are real
    articles, see :func:`bad_articles`), "not-html", "empty", "oversize",
    "redirect-loop" (both ends of the loop), "404" and "500"."""
    base = base_url.rstrip("/")
    return {base + path: kind for path, kind in _BAD_PAGES.items()}


def bad_articles(base_url: str) -> list[dict[str, Any]]:
    """The real articles among :func:`bad_pages`, which a crawl of a site started
    with ``include_bad=True`` must store too; shaped and sorted as
    :func:`expected_articles`, text in proper Unicode, ``related`` empty."""
    base = base_url.rstrip("/")
    return sorted((_truth(a, base) for a in LAB_ARTICLES.values()), key=lambda a: a["url"])


# --- Server ------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DailyLoopback/1.0"
    sys_version = ""
    # An idle keep-alive connection is dropped after this many seconds.
    timeout = 30
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        self.server.record(self.path)
        response = self.server.site.respond(self.path)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if response.location:
            self.send_header("Location", response.location)
        self.end_headers()
        if not send_body or not response.body:
            return
        try:
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client stopped reading (a crawler refusing an oversize page).
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silent: the demo must not write a line to stderr per request."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], include_bad: bool) -> None:
        super().__init__(address, _Handler)
        self.base_url = f"http://{address[0]}:{self.server_address[1]}"
        self.site = _Site(self.base_url, include_bad)
        self.hits: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()

    def record(self, path: str) -> None:
        with self._lock:
            self.hits.append((time.monotonic(), path))

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections, so they end."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("demo site: error serving %s", client_address, exc_info=True)


class DemoSite:
    """A running demo site (see :func:`serve`).

    ``base_url`` is ``"http://127.0.0.1:PORT"`` (no trailing slash). ``hits``
    lists ``(time.monotonic(), path)`` for every request received, in arrival
    order, ``path`` as sent (query included); requests append to it under a
    lock, so take a copy (``list(site.hits)``) to read it while a crawl runs.
    """

    def __init__(self, server: _Server) -> None:
        self._server = server
        self.base_url = server.base_url
        self.hits = server.hits
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="demo-site", daemon=True)
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        """Stop serving, close every connection and free the port. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        self._thread.join()
        logger.debug("demo site at %s closed", self.base_url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DemoSite {self.base_url}{' (closed)' if self._closed else ''}>"


def serve(host: str = "127.0.0.1", port: int = 0, *, include_bad: bool = False) -> DemoSite:
    """Start "The Daily Loopback" on ``host``:``port`` in a daemon thread.

    ``host`` must be an IPv4 loopback address; ``port`` 0 picks a free port.
    ``include_bad`` adds the misbehaving pages of ``/lab/`` (:func:`bad_pages`)
    and a link to them from the home page. Returns the running
    :class:`DemoSite`; use it as a context manager or call ``close()``.
    Raises :class:`ValueError` for a non-loopback ``host`` and :class:`OSError`
    when the port cannot be bound.
    """
    try:
        loopback = ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the demo site only binds an IPv4 loopback address, not {host!r}")
    site = DemoSite(_Server((host, port), include_bad))
    logger.info("demo site serving at %s/", site.base_url)
    return site
