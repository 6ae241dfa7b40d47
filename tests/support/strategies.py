"""Hypothesis strategies shared by the property tests: generated URLs, good and bad, and
feed- and sitemap-like bodies (fragments of the real formats, broken, gzipped or not)."""

from __future__ import annotations

import gzip

from hypothesis import strategies as st

__all__ = ["hosts", "hub_bodies", "paths", "queries", "schemes", "urls"]

_LABEL_CHARS = st.sampled_from(list("abcxyz019-_ÜüßéЖж日本\u200b\u00ad\u0301ＡＢ．。") + ["%41", "%", "xn--"])
labels = st.lists(_LABEL_CHARS, min_size=1, max_size=8).map("".join)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.sampled_from(["", ".", "..", "[", "[::1", "a..b", "EXAMPLE.COM.", "localhost"]),
)
_PATH_CHARS = st.sampled_from(list("aZ09-._~/!$&'()*+,;=:@ ?#[]\\\"<>^`{|}") + ["%2F", "%20", "%zz", "%", "é",
                                                                               "\u200b", "\x00", "\x7f", "..", "."])
paths = st.lists(_PATH_CHARS, max_size=12).map("".join)
_PARAM_NAMES = st.sampled_from(["a", "B", "utm_source", "UTM_Medium", "fbclid", "ref", "q", "é", "a b",
                                "%75tm_x", "", "x+y"])
_PARAM_VALUES = st.sampled_from(["", "1", "a b", "é", "%E9", "%e9", "%", "+", "a=b", "x%2By", "\x00"])
queries = st.lists(st.tuples(_PARAM_NAMES, _PARAM_VALUES), max_size=5).map(
    lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))
schemes = st.sampled_from(["http", "https", "HTTP", "HtTpS", "ftp", "file", "data", "javascript", ""])


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(schemes)
    userinfo = draw(st.sampled_from(["", "user@", "user:pw@", "@", ":@"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0", ":65536", ":x", ":"]))
    path = draw(paths)
    query = draw(queries)
    fragment = draw(st.sampled_from(["", "#", "#top", "#a b"]))
    url = f"{scheme}://{userinfo}{draw(hosts)}{port}{'/' if path and not path.startswith('/') else ''}{path}"
    return url + (f"?{query}" if query else "") + fragment


# Pieces of the formats hubs are read from, to be put together in any order.
_HUB_FRAGMENTS = [
    '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>', '<?xml version="1.0" encoding="x-nope"?>',
    '<rss version="2.0">', "</rss>", "<channel>", "</channel>", "<item>", "</item>", "<title>T</title>",
    '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>", '<link href="/a"/>',
    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">', "</urlset>",
    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">', "</sitemapindex>",
    "<url>", "</url>", "<sitemap>", "</sitemap>", "<loc>", "</loc>", "<link>", "</link>",
    "<lastmod>", "</lastmod>", "<pubDate>", "</pubDate>", "<news:news>", "</news:news>",
    "<news:publication_date>", "</news:publication_date>", "2025-05-01T10:00:00+02:00", "2025-13-45",
    "Tue, 10 Jun 2025 04:00:00 GMT", "http://127.0.0.1/a", "https://127.0.0.1:8000/b?x=1&amp;y=2", "&", "&lol;",
    "javascript:x()", "/rel/path", "<!DOCTYPE x>", '<!DOCTYPE x [<!ENTITY a "b">]>', "<![CDATA[", "]]>", "<!--", "-->",
    '{"version": "https://jsonfeed.org/version/1.1", "items": [', '{"url": "/x", "date_published": 5}', "]}",
    "<html><body>", "\x00", "\ufeff", "é", "\n", " ", "<", ">", '"',
]
_hub_text = st.lists(st.one_of(st.sampled_from(_HUB_FRAGMENTS), st.text(max_size=8)), max_size=40).map("".join)


@st.composite
def hub_bodies(draw: st.DrawFn) -> bytes:
    """Bytes a feed or sitemap URL might answer: format fragments in any order, in UTF-8 or
    UTF-16, sometimes gzipped (whole or cut), or any bytes at all."""
    kind = draw(st.sampled_from(["text", "utf16", "gzip", "cut-gzip", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    text = draw(_hub_text)
    body = text.encode("utf-16") if kind == "utf16" else text.encode("utf-8", "surrogatepass")
    if kind in ("gzip", "cut-gzip"):
        body = gzip.compress(body)
        if kind == "cut-gzip":
            body = body[:draw(st.integers(0, len(body)))]
    return body
