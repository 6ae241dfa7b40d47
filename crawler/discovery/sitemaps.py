"""Sitemaps, sitemap indexes and Google News sitemaps read into entry URLs and dates,
bounded and safe against hostile XML.

Why not a library's sitemap parser (checked with Scrapy 2.19 and ultimate-sitemap-parser
1.8.1):

* Scrapy's ``scrapy.utils.sitemap.Sitemap`` is entity-safe (lxml ``iterparse`` with
  ``resolve_entities=False``) but keeps only the direct children of ``<url>`` as text:
  ``<news:news>`` becomes an empty string and its nested ``<news:publication_date>`` is
  dropped, so a news sitemap loses the one date that matters. It has no entry cap (a
  caller can stop iterating, but the whole body, gunzipped by the caller, is in memory).
* ultimate-sitemap-parser reads news sitemaps and is hardened (expat with DOCTYPE and
  ENTITY declarations refused, 100 MiB cap on gunzipped size), but it fetches by itself
  with ``requests``: blocking, outside Scrapy's downloader, so outside the frontier's
  politeness, the network guard, robots.txt and the conditional requests of hub visits.
  Parsing a body we already have means faking its web client, and it builds every page of
  the sitemap (no entry cap) from one ``Parse`` of the whole document.

So :func:`parse_sitemap` is written here on lxml: a parser fed in 64 KiB pieces, built
with ``resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False`` (no
external entity or DTD is fetched; libxml2 keeps its limits on names and entity
amplification), whose target builds no tree (below), so depth and width cost nothing.
Not in lxml's ``recover`` mode (Scrapy's choice): it turns ``?a=1&b=2`` into ``?a=1=2``
and, on a body cut short, closes the last ``<loc>`` on half a URL, so wrong URLs would be
queued. A strict parser stops at the first error instead, having reported every element
completed before it; those are the entries returned. Bounds:

* ``max_bytes``: a plain body longer than this is refused; a gzip body (found by its magic
  bytes, whatever the URL or headers say; several members are read one after the other)
  is inflated piece by piece, each piece at most 64 KiB, and reading stops with
  :class:`SitemapError` as soon as more than ``max_bytes`` came out: a 1 GiB gzip bomb
  costs at most ``max_bytes`` of inflating and 64 KiB of memory. libxml2's own resource
  limits, when reached, raise :class:`SitemapError` too, whatever was read before;
* ``max_entries``: reading stops at the first entry past the cap, and
  :attr:`Sitemap.truncated` says so (1: there were more; how many is not read), so a
  10-million-entry file costs what ``max_entries`` entries cost; reading also stops (the
  result is ``bozo``) after 16 elements per allowed entry, so that a body of anything but
  entries cannot cost more;
* the parser builds no tree: lxml calls a target object that keeps the text of ``<loc>``,
  ``<lastmod>`` and ``<news:publication_date>`` (at most 8 KiB of it) and nothing else;
* a DOCTYPE is refused (:class:`SitemapError`): lxml's target interface substitutes
  internal entities even with ``resolve_entities=False``, and sitemaps have no use for one.

A truncated or malformed file (including a raw ``&`` in a URL) returns the entries read
before the break, with :attr:`Sitemap.bozo` set. A plain-text sitemap (one URL a line) is read too. A body that is
no sitemap (HTML, a feed, binary, empty) raises :class:`SitemapError`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lxml import etree

from crawler.base.urls import is_http_url
from crawler.discovery.dates import parse_w3c_datetime
from crawler.discovery.links import MAX_URL_LENGTH, absolute_http_url

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ENTRIES",
    "NEWS_NAMESPACE",
    "Sitemap",
    "SitemapEntry",
    "SitemapError",
    "parse_sitemap",
]

#: The sitemap protocol's own limits: 50,000 URLs and 50 MiB (uncompressed) a file.
DEFAULT_MAX_ENTRIES = 50_000
DEFAULT_MAX_BYTES = 50 * 2**20
NEWS_NAMESPACE = "http://www.google.com/schemas/sitemap-news/0.9"

_CHUNK = 64 * 2**10
_GZIP_SLICE = 16 * 2**10
_GZIP_MAGIC = b"\x1f\x8b"
_ROOTS = {"urlset": "urlset", "sitemapindex": "index"}
_ENTRIES = {"url", "sitemap"}
# Elements read per allowed entry, on average, before reading stops: a news sitemap's <url>
# has about 10 (news:*, image:*). Without it a body of empty elements would cost a million
# parser calls (about 1 s) per 4 MiB and never reach the cap. A sitemap with more, such as
# an xhtml:link per language for many languages, is read in part (bozo).
_ELEMENTS_PER_ENTRY = 16
_NEWS_PREFIX = "{" + NEWS_NAMESPACE + "}"
_NEWS_PREFIX_LENGTH = len(_NEWS_PREFIX)
_PUBLICATION_DATE = _NEWS_PREFIX + "publication_date"
# A line of a text sitemap: an http(s) URL, at most this long (the protocol says 2,048).
_MAX_TEXT_LINE = 8192


class SitemapError(ValueError):
    """The body is not a sitemap that can be read: not a sitemap at all, empty, not
    gzip though it says so, or larger than the byte cap (gunzipped)."""


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    published: datetime | None  # <news:publication_date>, aware UTC
    lastmod: datetime | None  # <lastmod>, aware UTC


@dataclass
class Sitemap:
    """What :func:`parse_sitemap` read. ``kind`` is "urlset" (pages) or "index" (other
    sitemaps); ``news`` says that the file uses the Google News namespace; ``truncated``
    is 1 when reading stopped at the entry cap (more entries followed), else 0; ``skipped`` the entries without a
    usable ``<loc>`` (none, not http(s), a repeat, or an index listing itself); ``bozo``
    that the XML was malformed or cut short (the entries are those read before)."""

    kind: Literal["urlset", "index"]
    news: bool = False
    entries: list[SitemapEntry] = field(default_factory=list)
    truncated: int = 0
    skipped: int = 0
    bozo: bool = False


def parse_sitemap(body: bytes, url: str, *, max_entries: int = DEFAULT_MAX_ENTRIES,
                  max_bytes: int = DEFAULT_MAX_BYTES) -> Sitemap:
    """The entries of the sitemap ``body`` fetched from ``url`` (the base of relative
    ``<loc>``; an index entry equal to it is dropped).

    Raises :class:`SitemapError` (and nothing else) when the body is empty, over
    ``max_bytes`` (gunzipped), a broken gzip stream from its start, or not a sitemap.
    """
    if not body:
        raise SitemapError("empty body")
    pieces = _pieces(body, max_bytes)
    first = b""
    for first in pieces:
        if first.strip():
            break
    start = first.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    if not start:
        raise SitemapError("empty body")
    if start[:1] == b"<" or b"\x00" in start[:4]:  # XML, maybe in UTF-16
        return _parse_xml(first, pieces, url, max_entries)
    return _parse_text(first, pieces, url, max_entries)


def _pieces(body: bytes, max_bytes: int) -> Iterator[bytes]:
    """The body in pieces of at most 64 KiB, gunzipped when it starts with gzip's magic
    bytes; raises SitemapError once more than ``max_bytes`` would come out."""
    if body[:2] != _GZIP_MAGIC:
        if len(body) > max_bytes:
            raise SitemapError(f"sitemap of {len(body)} bytes is over the cap of {max_bytes}")
        for offset in range(0, len(body), _CHUNK):
            yield body[offset:offset + _CHUNK]
        return
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total, carry = 0, b""
    # Small slices in: zlib copies the input it has not used yet at every call.
    for offset in range(0, len(body), _GZIP_SLICE):
        data = carry + body[offset:offset + _GZIP_SLICE]
        carry = b""
        while data:
            if inflater.eof:  # a gzip file may hold several members, one after the other
                if len(data) < 2:
                    carry = data
                    break
                if data[:2] != _GZIP_MAGIC:
                    return  # trailing garbage is ignored, as gzip(1) does
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                piece = inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                if total == 0:
                    raise SitemapError(f"not a gzip stream: {exc}") from exc
                return  # a damaged stream: what was inflated so far
            total += len(piece)
            if total > max_bytes:
                raise SitemapError(f"gzip sitemap inflates past the cap of {max_bytes} bytes")
            if piece:
                yield piece
            data = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
    # A stream cut short just ends: what was inflated so far is read.


def _split(tag: object) -> tuple[str, str]:
    """(namespace, local name) of an element's tag."""
    if not isinstance(tag, str):
        return "", ""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


class _Stop(Exception):
    """Raised by the reader to stop the parser: the entry cap or the element budget."""


class _Reader:
    """The parser's target (lxml calls its methods as it reads): builds entries from
    ``<loc>``, ``<lastmod>`` and ``<news:publication_date>`` and keeps nothing else, so no
    tree is built and memory is that of the entries."""

    def __init__(self, url: str, max_entries: int) -> None:
        self.url = url
        self.own_url = absolute_http_url(url, url)
        self.max_entries = max_entries
        self.budget = _ELEMENTS_PER_ENTRY * (max_entries + 1)
        self.sitemap: Sitemap | None = None
        # <url>, <loc> and <lastmod> in the root's namespace (any: sitemaps.org's, Google's
        # old one, none), as lxml names them.
        self.entry_tags: set[str] = set()
        self.fields_by_tag: dict[str, str] = {}
        self.news_declared = False
        self.depth = 0
        self.capture: str | None = None  # the field whose text is being read
        self.text: list[str] = []
        self.length = 0
        self.fields: dict[str, str] = {}
        self.seen: set[str] = set()

    def doctype(self, name, public_id, system_url) -> None:
        # Sitemaps have no use for a DTD; one is how entity expansion attacks begin.
        raise SitemapError("a sitemap with a DOCTYPE is refused (entity expansion)")

    def start_ns(self, prefix, uri) -> None:
        if uri == NEWS_NAMESPACE:
            self.news_declared = True
            if self.sitemap is not None:
                self.sitemap.news = True

    def start(self, tag, attrib) -> None:
        # Called for every element: the common cases return early (benchmarks/discovery.py).
        self.budget -= 1
        if self.budget < 0:
            raise _Stop("element budget")
        depth = self.depth = self.depth + 1
        if tag[:_NEWS_PREFIX_LENGTH] == _NEWS_PREFIX:
            self.sitemap.news = True
            if depth >= 3 and tag == _PUBLICATION_DATE:
                self._capture("published")
        elif depth == 3:
            name = self.fields_by_tag.get(tag)
            if name is not None:
                self._capture(name)
        elif depth == 1:
            self._open(tag)

    def _open(self, tag) -> None:
        namespace, local = _split(tag)
        if local not in _ROOTS:
            raise SitemapError(f"not a sitemap: the document is <{local}>")
        prefix = f"{{{namespace}}}" if namespace else ""
        self.entry_tags = {prefix + name for name in _ENTRIES}
        self.fields_by_tag = {prefix + "loc": "loc", prefix + "lastmod": "lastmod"}
        self.sitemap = Sitemap(kind=_ROOTS[local], news=self.news_declared)

    def _capture(self, name: str) -> None:
        self.capture, self.text, self.length = name, [], 0

    def data(self, text: str) -> None:
        if self.capture is not None and self.length <= MAX_URL_LENGTH:
            self.text.append(text)
            self.length += len(text)

    def end(self, tag) -> None:
        depth = self.depth = self.depth - 1
        if self.capture is not None:
            self.fields[self.capture] = "".join(self.text)
            self.capture = None
        if depth == 1:
            if tag in self.entry_tags:
                self._entry()
            self.fields = {}

    def close(self) -> None:
        return None

    def _entry(self) -> None:
        sitemap, fields = self.sitemap, self.fields
        if len(sitemap.entries) >= self.max_entries:
            sitemap.truncated += 1
            raise _Stop("entry cap")
        loc = absolute_http_url(fields.get("loc"), self.url)
        if loc is None or loc in self.seen or (sitemap.kind == "index" and loc == self.own_url):
            sitemap.skipped += 1
            return
        self.seen.add(loc)
        sitemap.entries.append(SitemapEntry(loc, parse_w3c_datetime(fields.get("published")),
                                            parse_w3c_datetime(fields.get("lastmod"))))


def _parse_xml(first: bytes, pieces: Iterator[bytes], url: str, max_entries: int) -> Sitemap:
    reader = _Reader(url, max_entries)
    parser = etree.XMLParser(
        target=reader, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        recover=False, remove_comments=True, remove_pis=True, collect_ids=False)
    bozo = False
    try:
        for piece in _chain(first, pieces):
            parser.feed(piece)
        parser.close()
    except _Stop:
        if reader.sitemap is not None and not reader.sitemap.truncated:  # the element budget
            if not reader.sitemap.entries:
                raise SitemapError("not a sitemap: elements that are no entries, past the budget") from None
            bozo = True
    except SitemapError:
        raise
    except (etree.LxmlError, ValueError, TypeError, LookupError) as exc:  # LookupError: an unknown encoding
        if getattr(exc, "code", None) == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
            # A name over libxml2's limits, entities amplified: hostile, not cut short.
            raise SitemapError(f"sitemap over the parser's limits: {exc}") from exc
        if reader.sitemap is None:
            raise SitemapError(f"not a sitemap: {exc}") from exc
        bozo = True
    if reader.sitemap is None:
        raise SitemapError("not a sitemap: no root element")
    reader.sitemap.bozo = bozo
    return reader.sitemap


def _parse_text(first: bytes, pieces: Iterator[bytes], url: str, max_entries: int) -> Sitemap:
    """A text sitemap: one absolute http(s) URL a line, UTF-8; any other line makes the
    body no sitemap."""
    sitemap = Sitemap(kind="urlset")
    seen: set[str] = set()
    rest = b""
    for piece in _chain(first, pieces):
        lines = (rest + piece).split(b"\n")
        rest = lines.pop()
        if len(rest) > _MAX_TEXT_LINE:
            raise SitemapError("not a sitemap: a line too long for a URL")
        for line in lines:
            if _text_line(sitemap, seen, line, url, max_entries):
                return sitemap
    _text_line(sitemap, seen, rest, url, max_entries)
    if not sitemap.entries:
        raise SitemapError("not a sitemap: no URL")
    return sitemap


def _text_line(sitemap: Sitemap, seen: set[str], line: bytes, url: str, max_entries: int) -> bool:
    """Adds the URL of one line; True once an entry past the cap was met."""
    try:
        text = line.decode("utf-8").strip().removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise SitemapError("not a sitemap: not UTF-8 text") from exc
    if not text:
        return False
    if not is_http_url(text) or any(char.isspace() for char in text):
        raise SitemapError("not a sitemap: a line that is not an http(s) URL")
    loc = absolute_http_url(text, url)
    if loc is None or loc in seen:
        sitemap.skipped += 1
        return False
    if len(sitemap.entries) >= max_entries:
        sitemap.truncated += 1
        return True
    seen.add(loc)
    sitemap.entries.append(SitemapEntry(loc, None, None))
    return False


def _chain(first: bytes, pieces: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from pieces
