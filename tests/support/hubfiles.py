"""Feeds and sitemaps written for the discovery tests: well-formed ones, large ones built by
generators (never kept in memory whole when they need not be), and hostile ones."""

from __future__ import annotations

import gzip
from collections.abc import Iterable

__all__ = [
    "NEWS_NS",
    "SITEMAP_NS",
    "billion_laughs",
    "gzip_bomb",
    "rss",
    "sitemap_index",
    "urlset",
]

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def rss(items: Iterable[tuple[str, str | None]], *, declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    """An RSS 2.0 feed of (link, pubDate or None) items."""
    body = "".join(f"<item><title>Story {n}</title><link>{link}</link>"
                   + (f"<pubDate>{date}</pubDate>" if date else "") + "</item>"
                   for n, (link, date) in enumerate(items))
    return (f'{declaration}<rss version="2.0"><channel><title>News</title>'
            f"<link>http://127.0.0.1/</link>{body}</channel></rss>").encode()


def urlset(entries: Iterable[tuple[str, str | None, str | None]], *, news: bool = False) -> bytes:
    """A sitemap of (loc, lastmod, news publication date) entries; with ``news`` the news
    namespace is declared on the root."""
    namespaces = f' xmlns="{SITEMAP_NS}"' + (f' xmlns:news="{NEWS_NS}"' if news else "")
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset{namespaces}>']
    for loc, lastmod, published in entries:
        parts.append(f"<url><loc>{loc}</loc>")
        if lastmod:
            parts.append(f"<lastmod>{lastmod}</lastmod>")
        if published:
            parts.append("<news:news><news:publication><news:name>The Daily</news:name>"
                         "<news:language>en</news:language></news:publication>"
                         f"<news:publication_date>{published}</news:publication_date>"
                         "<news:title>A story</news:title></news:news>")
        parts.append("</url>")
    parts.append("</urlset>")
    return "".join(parts).encode()


def sitemap_index(locs: Iterable[str]) -> bytes:
    body = "".join(f"<sitemap><loc>{loc}</loc><lastmod>2025-05-01</lastmod></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="{SITEMAP_NS}">{body}</sitemapindex>'.encode()


def gzip_bomb(head: bytes, filler: bytes, total: int) -> bytes:
    """A gzip file that inflates to ``head`` then ``filler`` repeated to ``total`` bytes
    (1 GiB in about 1 MiB): one member compressed once, repeated (gzip files may hold
    several members)."""
    member = gzip.compress(filler * (2**20 // len(filler)), compresslevel=9)
    return gzip.compress(head) + member * (total // 2**20)


def billion_laughs(root: str, inside: str) -> bytes:
    """A document whose one entity reference stands for 10**9 "lol"s, placed where
    ``inside`` has ``{}``, under a DOCTYPE for ``root``."""
    entities = '<!ENTITY lol "lol"><!ENTITY lol1 "' + "&lol;" * 10 + '">' + "".join(
        f'<!ENTITY lol{n} "' + f"&lol{n - 1};" * 10 + '">' for n in range(2, 10))
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>{inside.format("&lol9;")}'.encode()
