"""The one rule for a link found in a feed, a sitemap or a page: made absolute, kept only
when it is http(s) with a host and of a sane length, without its fragment."""

from __future__ import annotations

from urllib.parse import urldefrag, urljoin

from crawler.base.urls import is_http_url, url_host

__all__ = ["MAX_URL_LENGTH", "absolute_http_url"]

#: Longer links are dropped: the sitemap protocol allows 2,048 characters, browsers more.
MAX_URL_LENGTH = 8192


def absolute_http_url(link: object, base: str) -> str | None:
    """``link`` resolved against ``base``, without fragment, when it is an http(s) URL with
    a host no longer than :data:`MAX_URL_LENGTH`; else None. Never raises."""
    if not isinstance(link, str):
        return None
    link = link.strip()
    if not link or len(link) > MAX_URL_LENGTH:
        return None
    try:
        resolved = urldefrag(urljoin(base, link))[0]
        if is_http_url(resolved) and url_host(resolved) and len(resolved) <= MAX_URL_LENGTH:
            return resolved
    except ValueError:
        pass  # an invalid IPv6 host
    return None
