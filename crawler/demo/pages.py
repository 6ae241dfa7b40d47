"""The HTML of every page of "The Daily Loopback", the demo news site.

Pure functions of :mod:`crawler.demo.content` (and of the site's base URL, for
the few absolute URLs): a site always serves the same bytes. Where each page
is served, and with which status and headers, is :mod:`crawler.demo.site`'s
business; the paths of the copies and of the misbehaving lab pages are
defined here because pages link to them and the ground truth
(:mod:`crawler.demo.truth`) names them.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timezone
from functools import cache
from typing import TYPE_CHECKING, Any

from crawler.demo.content import (
    AMP_SOURCE,
    ARTICLES,
    NEAR_DUPLICATE,
    SECTIONS,
    SITE_NAME,
    WIRE_SOURCE,
    section_articles,
    short_headline,
    teaser,
)

if TYPE_CHECKING:
    from crawler.demo.content import Article

__all__ = [
    "AMP_PATH",
    "BAD_PAGES",
    "FOOTER",
    "MASTHEAD",
    "NEWS_SECTIONS",
    "OVERSIZE_BYTES",
    "UPDATE_PATH",
    "WIRE_PATH",
    "article_page",
    "article_pages",
    "attr",
    "aware_datetime",
    "calendar_page",
    "document",
    "error_page",
    "esc",
    "home_page",
    "lab_index_page",
    "listing_page",
    "malformed_page",
    "not_found_page",
    "oversize_body",
    "pdf_body",
    "private_page",
    "related_articles",
]

#: Size in bytes of ``/lab/oversize.html`` (and its Content-Length).
OVERSIZE_BYTES = 3 * 1024 * 1024
#: The sections of the menu, the home page and the listings (not "lab").
NEWS_SECTIONS = ("biz", "tech", "culture")
#: The wire service's word-for-word copy of ``WIRE_SOURCE``.
WIRE_PATH = f"/wire/{WIRE_SOURCE}.html"
#: The AMP copy of ``AMP_SOURCE``, whose rel=canonical names the original.
AMP_PATH = f"/amp/{AMP_SOURCE}.html"
#: The near-duplicate "updated edition" of ``NEAR_DUPLICATE``'s article.
UPDATE_PATH = f"/tech/{NEAR_DUPLICATE[0]}-update.html"
#: What is wrong with each misbehaving page of /lab/ (the bad_pages() kinds).
BAD_PAGES = {
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

_HOME_LATEST = 6
_TRACKED = "?utm_source=home&utm_medium=web&fbclid=abc"
_CALENDAR_START = "2017-11"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def attr(text: str) -> str:
    return html.escape(text, quote=True)


def aware_datetime(value: str) -> datetime:
    """The ISO 8601 ``value`` as an aware datetime: in UTC when it names no zone."""
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
MASTHEAD = (
    '<header class="masthead">\n<a class="logo" href="/">The Daily Loopback</a>\n'
    '<nav class="menu"><ul><li><a href="/">Home</a></li>'
    + "".join(f'<li><a href="/{key}/">{SECTIONS[key]}</a></li>' for key in NEWS_SECTIONS)
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
FOOTER = (
    '<div class="cookie-banner"><p>We use cookies to improve your experience.</p>'
    '<button type="button">Accept all cookies</button></div>\n'
    '<footer class="site-footer"><p>Copyright 2018 The Daily Loopback. All rights reserved.'
    '</p><p><a href="/">Front page</a></p></footer>\n'
)


def document(title: str, body: str, *, head: str = "", lang: str = "en",
              charset: str | None = "utf-8", html_attrs: str = "") -> str:
    meta = f'<meta charset="{charset}">\n' if charset else ""
    return (f'<!DOCTYPE html>\n<html lang="{lang}"{html_attrs}>\n<head>\n{meta}'
            f"<title>{esc(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n")


def _simple_page(title: str, main: str) -> str:
    return document(f"{title} | {SITE_NAME}", f"{MASTHEAD}<main>\n{main}</main>\n{FOOTER}")


def _credited(article: Article) -> tuple[str, ...]:
    """Names in the page's metadata: the authors, or the byline's role ("Staff Reporter")."""
    return article.authors or ((article.byline or "").removeprefix("By ").strip(),)


def _byline(article: Article) -> str:
    text = esc(article.byline or "By " + _names(article.authors))
    for name in article.authors:
        text = text.replace(esc(name), f'<span class="author">{esc(name)}</span>', 1)
    return text


def _meta_head(article: Article, canonical: str) -> str:
    head = [f'<link rel="canonical" href="{attr(canonical)}">']
    if article.metadata == "none":
        return "\n".join(head) + "\n"
    section = SECTIONS[article.section]
    head += ['<meta property="og:type" content="article">',
             f'<meta property="og:title" content="{attr(article.headline)}">',
             f'<meta property="og:url" content="{attr(canonical)}">',
             f'<meta property="og:site_name" content="{SITE_NAME}">']
    if article.metadata == "og":
        head.append(f'<meta property="article:published_time" content="{article.published}">')
        if article.modified:
            head.append(f'<meta property="article:modified_time" content="{article.modified}">')
        head.append(f'<meta property="article:section" content="{section}">')
        head += [f'<meta property="article:author" content="{attr(name)}">'
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


def related_articles(article: Article) -> tuple[Article, ...]:
    """The articles in the "More <Section>" block of ``article`` (none for lab pages)."""
    if article.section == "lab":
        return ()
    return tuple(other for other in section_articles(article.section) if other is not article)


def _more_block(article: Article) -> str:
    others = related_articles(article)
    if not others:
        return ""
    items = "".join(
        f'<li><a href="{other.path}">{esc(short_headline(other))}</a>'
        f"<h3>{esc(other.headline)}</h3><p>{esc(teaser(other))}</p></li>\n"
        for other in others
    )
    return (f'<section class="more">\n<h2>More {SECTIONS[article.section]}</h2>\n<ul>\n'
            f"{items}</ul>\n</section>\n")


def article_page(article: Article, canonical: str, *, paragraphs: tuple[str, ...] = (),
                 head: str = "", aside: str = "", charset: str | None = "utf-8",
                 html_attrs: str = "") -> str:
    """The HTML of ``article``, declaring ``canonical`` as its canonical URL;
    ``paragraphs`` replace its body when given, ``head`` and ``aside`` are
    added to the ``head`` and after the article, ``charset`` (None: none) is
    declared in a ``meta`` tag, ``html_attrs`` go in the ``html`` tag."""
    dateline = (f'<time class="published" datetime="{article.published}">'
                f"{_display_date(article.published, article.lang)}</time>")
    if article.modified:
        dateline += (f' | Updated <time class="updated" datetime="{article.modified}">'
                     f"{_display_date(article.modified, article.lang)}</time>")
    body = "".join(f"<p>{esc(text)}</p>\n" for text in paragraphs or article.paragraphs)
    main = (
        f'<main>\n<article>\n<header class="article-header">\n<p class="kicker">'
        f'<a href="/{article.section}/">{SECTIONS[article.section]}</a></p>\n'
        f"<h1>{esc(article.headline)}</h1>\n<p class=\"byline\">{_byline(article)}</p>\n"
        f'<p class="dateline">{dateline}</p>\n</header>\n'
        f'<div class="article-body">\n{body}</div>\n</article>\n'
        f"{aside}{_more_block(article)}{_BRANDS}{_PAYWALL}</main>\n"
    )
    return document(f"{article.headline} | {SITE_NAME}", _OVERLAY + MASTHEAD + main + FOOTER,
                     head=_meta_head(article, canonical) + head, lang=article.lang,
                     charset=charset, html_attrs=html_attrs)


def malformed_page(article: Article, canonical: str) -> str:
    """``article`` as sloppy HTML: unquoted attributes, unclosed ``p``/``li``/``b``,
    no ``</head>``, stray ``</div>``/``</span>``, no closing ``body``/``html``."""
    meta = _meta_head(article, canonical).replace(f'"{attr(canonical)}"', canonical, 1)
    p = [esc(text) for text in article.paragraphs]
    return (
        f"<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
        f"<title>{esc(article.headline)} | {SITE_NAME}\n</title>\n{meta}<body>\n"
        '<div class="overlay">\u00d7<p>You will be redirected back to your article in seconds'
        "</div>\n</div>\n<header class=masthead><a class=logo href=/>The Daily Loopback</a>\n"
        '<nav class="menu"><ul><li><a href="/">Home</a><li><a href="/biz/">Biz<li>'
        '<a href="/tech/">Tech</a><li><a href=/culture/>Culture</a></ul>\n</header>\n'
        '<article>\n<header class="article-header">\n<p class=kicker><a href="/lab/">Lab</a>\n'
        f"<h1>{esc(article.headline)}</h1>\n"
        f"<p class=byline>{_byline(article)}\n<p class=dateline><time class=published "
        f'datetime="{article.published}">{_display_date(article.published, "en")}</time>\n'
        f"</header>\n<div class=article-body>\n<p>{p[0]}\n<p>{p[1]}\n</div></div>\n"
        f"<p><b>{p[2]}\n<p>{p[3]}</b></span>\n<p>{p[4]}\n</article>\n"
        + _BRANDS.replace("</li>", "") + FOOTER.replace("</p>", "")
    )


def article_pages(base: str) -> dict[str, str]:
    """The HTML of every article page (not the lab's) and of its copies
    (:data:`WIRE_PATH`, :data:`AMP_PATH`, :data:`UPDATE_PATH`), by path, for
    a site at ``base`` (its base URL, no trailing slash)."""
    pages = {a.path: a for a in ARTICLES}
    wire, amp = pages[f"/biz/{WIRE_SOURCE}.html"], pages[f"/biz/{AMP_SOURCE}.html"]
    slug, old, new = NEAR_DUPLICATE
    original = pages[f"/tech/{slug}.html"]
    # Each copy is linked only from its original (through an aside both pages
    # share), so the original is always fetched, and stored, first.
    asides = {
        wire: (f'<aside class="syndication"><p>This story is also distributed by '
               f'<a href="{WIRE_PATH}">Loopback Wire</a>.</p></aside>\n'),
        amp: (f'<aside class="amp"><p>On a slow connection? Read the '
              f'<a href="{AMP_PATH}">lightweight version</a>.</p></aside>\n'),
        original: (f'<aside class="versions"><p>Versions of this story: <a href="'
                   f'{original.path}">first edition</a> | <a href="{UPDATE_PATH}">'
                   "updated edition</a>.</p></aside>\n"),
    }
    out = {path: article_page(a, base + path, aside=asides.get(a, ""),
                              head=(f'<link rel="amphtml" href="{base}{AMP_PATH}">\n'
                                    if a is amp else ""))
           for path, a in pages.items()}
    out[WIRE_PATH] = article_page(wire, base + WIRE_PATH, aside=asides[wire])
    out[AMP_PATH] = article_page(amp, base + amp.path, aside=asides[amp], html_attrs=" amp")
    changed = tuple(text.replace(old, new) for text in original.paragraphs)
    out[UPDATE_PATH] = article_page(original, base + UPDATE_PATH, paragraphs=changed,
                                    aside=asides[original])
    return out


# --- Pages that are not articles -----------------------------------------------------------


def home_page(include_bad: bool) -> str:
    """The front page; ``include_bad`` adds a link to the lab (:data:`BAD_PAGES`)."""
    newest = sorted(ARTICLES, key=lambda a: aware_datetime(a.published),
                    reverse=True)[:_HOME_LATEST]
    latest = "".join(
        f'<li><a href="{a.path}">{esc(a.headline)}</a> '
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
    popular = "".join(f'<li><a href="{a.path}{suffix}">{esc(a.headline)}</a></li>\n'
                      for a, suffix in most_read)
    sections = "".join(f'<li><a href="/{key}/">{SECTIONS[key]}</a></li>\n'
                       for key in NEWS_SECTIONS)
    lab = '<li><a href="/lab/">The crawler lab</a></li>\n' if include_bad else ""
    main = (
        f'<h1>{SITE_NAME}</h1>\n<section class="sections">\n<h2>Sections</h2>\n<ul>\n{sections}'
        f'</ul>\n</section>\n<section class="latest">\n<h2>Latest headlines</h2>\n<ul>\n{latest}'
        f'</ul>\n</section>\n<section class="popular">\n<h2>Most read</h2>\n<ul>\n{popular}'
        '</ul>\n</section>\n<section class="services">\n<h2>Around the site</h2>\n<ul>\n'
        f'<li><a href="/calendar/?month={_CALENDAR_START}">Events calendar</a></li>\n'
        f'<li><a href="/private/secret.html">Staff area</a></li>\n{lab}</ul>\n</section>\n'
    )
    return document(f"{SITE_NAME}: news from 127.0.0.1",
                     f"{MASTHEAD}<main>\n{main}</main>\n{FOOTER}")


def listing_page(section: str, query: dict[str, list[str]]) -> str | None:
    """The front of ``section`` for ``query`` (as :func:`urllib.parse.parse_qs`
    gives it): every article, sortable (a crawler trap) and with a page 2;
    None for a query naming no such page."""
    sort, page = query.get("sort", ["newest"])[-1], query.get("page", ["1"])[-1]
    if sort not in ("newest", "oldest") or page not in ("1", "2"):
        return None
    articles = sorted(section_articles(section), key=lambda a: aware_datetime(a.published),
                      reverse=sort == "newest")
    if page == "2":  # the two oldest stories, as an archive page
        articles = sorted(articles, key=lambda a: aware_datetime(a.published))[:2]
    items = "".join(
        f'<li><a href="{a.path}">{esc(a.headline)}</a> <time datetime="{a.published}">'
        f"{_display_date(a.published, a.lang)}</time></li>\n" for a in articles
    )
    pager = (f'<a rel="prev" href="/{section}/">Newer stories</a>' if page == "2"
             else f'<a rel="next" href="/{section}/?page=2">Older stories</a>')
    name = SECTIONS[section]
    main = (f'<h1>{name}</h1>\n<p class="sort">Sort by: <a href="/{section}/?sort=newest">'
            f'newest</a> | <a href="/{section}/?sort=oldest">oldest</a></p>\n'
            f'<ul class="stories">\n{items}</ul>\n<p class="pager">{pager}</p>\n')
    return _simple_page(name, main)


def calendar_page(query: dict[str, list[str]]) -> str | None:
    """The events calendar of the month in ``query`` (as
    :func:`urllib.parse.parse_qs` gives it), linking the months before and
    after it, forever (a trap); None for a query naming no month."""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", query.get("month", [_CALENDAR_START])[-1])
    if match is None:
        return None
    index = int(match[1]) * 12 + int(match[2]) - 1
    label = f"{_MONTHS[index % 12]} {index // 12}"
    links = [f'<a rel="{rel}" href="/calendar/?month={i // 12:04d}-{i % 12 + 1:02d}">'
             f"{_MONTHS[i % 12]} {i // 12}</a>" for rel, i in (("prev", index - 1),
                                                              ("next", index + 1))]
    main = (f"<h1>Events calendar: {label}</h1>\n<p>No events are listed for {label}.</p>\n"
            f'<p class="pager">{" | ".join(links)}</p>\n')
    return _simple_page(f"Events: {label}", main)


def private_page() -> str:
    """The staff page that robots.txt disallows."""
    main = ("<article>\n<h1>Embargoed: Third-Quarter Results Draft</h1>\n<div class=\"article-body\">\n"
            "<p>This draft is for newsroom staff only and must not be published before the "
            "embargo lifts. Figures are preliminary and have not been checked by the desk. Do "
            "not share this page outside the newsroom, and do not link to it from any story. "
            "Robots are not welcome here, and a polite crawler never reads this sentence.</p>\n"
            "</div>\n</article>\n")
    return document(f"Staff area | {SITE_NAME}", f"{MASTHEAD}<main>\n{main}</main>\n",
                     head='<meta property="og:type" content="article">\n')


def lab_index_page() -> str:
    """The index of the lab, linking every page of :data:`BAD_PAGES`."""
    items = "".join(f'<li><a href="{path}">{esc(path.rsplit("/", 1)[1])}</a>: {kind}</li>\n'
                    for path, kind in BAD_PAGES.items())
    return _simple_page("The crawler lab",
                        "<h1>The crawler lab</h1>\n<p>Pages that misbehave on purpose.</p>\n"
                        f"<ul>\n{items}</ul>\n")


@cache
def oversize_body() -> bytes:
    """An HTML page of exactly :data:`OVERSIZE_BYTES` bytes."""
    head = document("The Complete Archive | " + SITE_NAME, "").encode()
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
def pdf_body() -> bytes:
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


def not_found_page() -> str:
    """The page of a path that does not exist."""
    return _simple_page("Page not found", "<h1>Page not found</h1>\n")


def error_page() -> str:
    """The page of a server error."""
    return _simple_page("Server error", "<h1>Something went wrong</h1>\n")
