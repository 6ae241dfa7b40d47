"""The pages of the live demo site: home, section fronts, feeds, sitemaps, stories.

Pure functions of the stories they are given (:mod:`crawler.demo.stories`) and
of the site's base URL; which stories each page lists is
:mod:`crawler.demo.live`'s business. HTML pages link with paths, as a real
site does; feeds and sitemaps name absolute URLs, as their formats require.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape as xml_escape

from crawler.demo.content import SECTIONS, SITE_NAME
from crawler.demo.pages import FOOTER, MASTHEAD, attr, document, esc
from crawler.demo.stories import FEEDS, LIVE_SECTIONS, SITE_ZONE

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from crawler.demo.stories import LiveStory

__all__ = [
    "NEWS_SITEMAP_PATH",
    "SITEMAP_INDEX_PATH",
    "SITEMAP_PATH",
    "TRUTH_PATH",
    "archive_sitemap",
    "atom_feed",
    "feed_head",
    "live_front",
    "live_home",
    "news_sitemap",
    "robots_txt",
    "rss_feed",
    "sitemap_index",
    "story_page",
]

SITEMAP_INDEX_PATH = "/sitemap_index.xml"
NEWS_SITEMAP_PATH = "/sitemaps/news.xml"
SITEMAP_PATH = "/sitemaps/archive.xml"
#: The ground truth as JSON; disallowed in robots.txt, linked from nowhere.
TRUTH_PATH = "/_demo/truth.json"

_FEED_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
_PUBLICATION = "The Daily Loopback"


def _local(when: float) -> datetime:
    return datetime.fromtimestamp(when, SITE_ZONE)


def _iso(when: float) -> str:
    return _local(when).isoformat(timespec="seconds")


def feed_head(sections: Iterable[str]) -> str:
    """The ``<link rel="alternate">`` tags announcing the feeds of ``sections``."""
    return "".join(
        f'<link rel="alternate" type="{_FEED_TYPES[kind]}" '
        f'title="{attr(f"{SITE_NAME}: {SECTIONS[section]} ({kind.upper()})")}" href="{path}">\n'
        for section in sections for kind, path in FEEDS[section])


def _story_items(stories: Sequence[LiveStory]) -> str:
    return "".join(
        f'<li><a href="{s.path}">{esc(s.headline)}</a> <span class="section">'
        f'{SECTIONS[s.section]}</span> <time datetime="{_iso(s.live_at)}">'
        f"{_local(s.live_at):%H:%M}</time></li>\n" for s in stories)


def live_home(latest: Sequence[LiveStory]) -> str:
    """The home page: the ``latest`` stories (newest first) and the section fronts."""
    sections = "".join(f'<li><a href="/{key}/">{SECTIONS[key]}</a></li>\n' for key in LIVE_SECTIONS)
    main = (f'<h1>{SITE_NAME}</h1>\n<section class="sections">\n<h2>Sections</h2>\n<ul>\n'
            f'{sections}</ul>\n</section>\n<section class="latest">\n<h2>Latest headlines</h2>\n'
            f"<ul>\n{_story_items(latest)}</ul>\n</section>\n")
    return document(f"{SITE_NAME}: news from 127.0.0.1 as it happens",
                    f"{MASTHEAD}<main>\n{main}</main>\n{FOOTER}", head=feed_head(LIVE_SECTIONS))


def live_front(section: str, stories: Sequence[LiveStory]) -> str:
    """The front of ``section``: its ``stories``, newest first (no pagination)."""
    name = SECTIONS[section]
    main = (f'<h1>{name}</h1>\n<p class="standfirst">The latest {name} stories, as they are '
            f'published.</p>\n<ul class="stories">\n{_story_items(stories)}</ul>\n')
    return document(f"{name} | {SITE_NAME}", f"{MASTHEAD}<main>\n{main}</main>\n{FOOTER}",
                    head=feed_head((section,)))


def _more_block(story: LiveStory, more: Sequence[LiveStory]) -> str:
    if not more:
        return ""
    items = "".join(f'<li><a href="{other.path}">{esc(other.headline)}</a>'
                    f"<h3>{esc(other.headline)}</h3><p>{esc(_teaser(other))}</p></li>\n"
                    for other in more)
    return (f'<section class="more">\n<h2>More {SECTIONS[story.section]}</h2>\n<ul>\n'
            f"{items}</ul>\n</section>\n")


def _teaser(story: LiveStory) -> str:
    return " ".join(story.paragraphs[0].split()[:25]) + " [...]"


def story_page(story: LiveStory, more: Sequence[LiveStory], base: str) -> str:
    """The page of ``story``, whose "More <Section>" block links ``more``."""
    canonical = base + story.path
    data = {
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": story.headline,
        "mainEntityOfPage": canonical, "datePublished": story.published,
        "author": [{"@type": "Person", "name": story.author}],
        "articleSection": SECTIONS[story.section], "inLanguage": "en",
        "publisher": {"@type": "Organization", "name": SITE_NAME},
    }
    ld_json = json.dumps(data).replace("</", "<\\/")
    head = (f'<link rel="canonical" href="{attr(canonical)}">\n'
            '<meta property="og:type" content="article">\n'
            f'<meta property="og:title" content="{attr(story.headline)}">\n'
            f'<meta property="og:url" content="{attr(canonical)}">\n'
            f'<meta property="article:published_time" content="{story.published}">\n'
            f'<meta property="article:section" content="{SECTIONS[story.section]}">\n'
            '<script type="application/ld+json">'
            f"{ld_json}</script>\n" + feed_head((story.section,)))
    body = "".join(f"<p>{esc(text)}</p>\n" for text in story.paragraphs)
    main = (f'<main>\n<article>\n<header class="article-header">\n<p class="kicker">'
            f'<a href="/{story.section}/">{SECTIONS[story.section]}</a></p>\n'
            f'<h1>{esc(story.headline)}</h1>\n<p class="byline">By <span class="author">'
            f'{esc(story.author)}</span></p>\n<p class="dateline"><time class="published" '
            f'datetime="{story.published}">{_local(story.live_at):%B %d, %Y %H:%M}</time></p>\n'
            f'</header>\n<div class="article-body">\n{body}</div>\n</article>\n'
            f"{_more_block(story, more)}</main>\n")
    return document(f"{story.headline} | {SITE_NAME}", MASTHEAD + main + FOOTER, head=head)


def rss_feed(section: str, items: Sequence[LiveStory], base: str, updated: float) -> bytes:
    """The RSS 2.0 feed of ``section`` listing ``items`` (newest first)."""
    name = SECTIONS[section]
    entries = "".join(
        f"<item><title>{xml_escape(s.headline)}</title><link>{base}{s.path}</link>"
        f'<guid isPermaLink="true">{base}{s.path}</guid>'
        f"<pubDate>{format_datetime(_local(s.live_at))}</pubDate>"
        f"<description>{xml_escape(_teaser(s))}</description></item>\n" for s in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
            f"<title>{SITE_NAME}: {name}</title>\n<link>{base}/{section}/</link>\n"
            f"<description>The latest {name} stories</description>\n<language>en</language>\n"
            f"<lastBuildDate>{format_datetime(_local(updated))}</lastBuildDate>\n"
            f"{entries}</channel>\n</rss>\n").encode()


def atom_feed(section: str, items: Sequence[LiveStory], base: str, updated: float) -> bytes:
    """The Atom 1.0 feed of ``section`` listing ``items`` (newest first), dates in UTC."""
    def utc(when: float) -> str:
        return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    entries = "".join(
        f'<entry><title>{xml_escape(s.headline)}</title><link rel="alternate" '
        f'href="{base}{s.path}"/><id>{base}{s.path}</id><published>{utc(s.live_at)}</published>'
        f"<updated>{utc(s.live_at)}</updated><author><name>{xml_escape(s.author)}</name></author>"
        f"<summary>{xml_escape(_teaser(s))}</summary></entry>\n" for s in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
            f"<title>{SITE_NAME}: {SECTIONS[section]}</title>\n<id>{base}/{section}/</id>\n"
            f'<link rel="alternate" href="{base}/{section}/"/>\n'
            f'<link rel="self" href="{base}{FEEDS[section][-1][1]}"/>\n'
            f"<updated>{utc(updated)}</updated>\n{entries}</feed>\n").encode()


def robots_txt(base: str) -> bytes:
    """robots.txt: the staff area and the truth are off limits; the sitemap index."""
    return (f"User-agent: *\nDisallow: /private/\nDisallow: /_demo/\n\n"
            f"Sitemap: {base}{SITEMAP_INDEX_PATH}\n").encode()


def sitemap_index(base: str, lastmods: dict[str, float]) -> bytes:
    """The sitemap index: each sitemap path of ``lastmods`` with its lastmod."""
    entries = "".join(f"<sitemap><loc>{base}{path}</loc><lastmod>{_iso(when)}</lastmod></sitemap>\n"
                      for path, when in lastmods.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</sitemapindex>\n").encode()


def news_sitemap(stories: Sequence[LiveStory], base: str) -> bytes:
    """A Google News sitemap of ``stories`` (publication dates with the site's offset)."""
    entries = "".join(
        f"<url><loc>{base}{s.path}</loc><news:news><news:publication><news:name>{_PUBLICATION}"
        "</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{_iso(s.live_at)}</news:publication_date>"
        f"<news:title>{xml_escape(s.headline)}</news:title></news:news></url>\n" for s in stories)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            f"{entries}</urlset>\n").encode()


def archive_sitemap(stories: Sequence[LiveStory], base: str) -> bytes:
    """A plain sitemap of ``stories``, each with its lastmod."""
    entries = "".join(f"<url><loc>{base}{s.path}</loc><lastmod>{_iso(s.live_at)}</lastmod></url>\n"
                      for s in stories)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{entries}</urlset>\n").encode()
