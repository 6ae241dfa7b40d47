"""Page metadata: what a news page says about itself, apart from its body.

:func:`read_declared` reads what the page declares in markup meant for machines:
its JSON-LD (each block parsed on its own) and its OpenGraph and other meta tags.
The other functions read one field each from that and from the tree (microdata,
bylines, ``<time>`` elements, htmldate's guess): title without a site-name
suffix, authors, dates, section, site name, description, language and canonical
URL. Values are reported as found, but for the names of a byline, which are read
from it by :func:`crawler.article.text.split_authors`: splitting declared authors
and parsing dates is :mod:`crawler.article.normalize`'s job.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from extruct.jsonld import JsonLdExtractor
from extruct.opengraph import OpenGraphExtractor
from lxml import etree

from crawler.article.authors import clean_names, is_publisher, jsonld_names, looks_like_person
from crawler.article.bounded import raw_text_within
from crawler.article.dates import as_written, either_way, guess_date, is_iso_day, jsonld_date, with_local_offset
from crawler.article.normalize import to_iso8601
from crawler.article.text import clean_text
from crawler.base.urls import same_site, url_host

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from lxml.html import HtmlElement

__all__ = [
    "Declared",
    "canonical_url",
    "declared_section",
    "description",
    "find_authors",
    "find_title",
    "language",
    "modified_date",
    "node_types",
    "published_date",
    "read_declared",
    "site_name",
    "strip_site_name",
]

logger = logging.getLogger(__name__)

_ARTICLE_TYPES = frozenset(
    """Article NewsArticle ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle
    BackgroundNewsArticle ReviewNewsArticle AskPublicNewsArticle SatiricalArticle
    TechArticle Report BlogPosting LiveBlogPosting""".split()
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A "//" comment line. Its leading blanks do not cross lines: "\s*" would read
# each run of blank lines again from every line of it (quadratic in the run).
_JS_JUNK_RE = re.compile(r"<!\[CDATA\[|\]\]>|<!--|-->|^[ \t]*//.*$", re.M)
# What one page's JSON-LD may make extraction read: this many blocks, each of
# at most this many characters (the largest of 80 real news pages: 5 blocks, 39,650).
_MAX_JSONLD_BLOCKS = 20
_MAX_JSONLD_CHARS = 1_000_000
_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")
_TITLE_SEP_RE = re.compile(r"\s+[|\-\u2013\u2014:\u00b7\u2022\u00bb]\s+|:\s+")
# One path each, with the alternatives in its predicate: a union ("a | b") is
# quadratic in libxml2, which merges the node sets pairwise.
_XPATH_ITEMPROP_AUTHORS = etree.XPath(
    './/*[(@itemprop="name" and ancestor::*[@itemprop="author"])'
    ' or (@itemprop="author" and not(.//*[@itemprop="name"]))]')
_XPATH_REL_AUTHOR = etree.XPath('.//a[@rel="author"]')
_XPATH_BYLINE = etree.XPath(
    './/*[contains(@class, "byline") or contains(@class, "author")'
    ' or (self::p and starts-with(normalize-space(substring(., 1, 40)), "By "))]')
_XPATH_ARTICLE_TIME = etree.XPath(".//time[ancestor::article or ancestor::main]")
_XPATH_CANONICAL = etree.XPath('.//link[contains(concat(" ", normalize-space(@rel), " "), " canonical ")]/@href')
_XPATH_TIME = etree.XPath(".//time")
# Every element with an itemprop: a test of presence is a third cheaper for libxml2
# than comparing each value, and the few found are compared in Python.
_XPATH_ITEMPROP = etree.XPath(".//*[@itemprop]")
_MAX_NAME_CHARS = 80
_MAX_BYLINE_CHARS = 120
# Blanks a name or byline may hold around it and still be read as one.
_RAW_SLACK = 4096
# Meta tags naming the author (each value read; one that is a URL is a profile link, not a name).
_AUTHOR_META = frozenset({"author", "article:author", "og:article:author", "parsely-author", "sailthru.author",
                          "dc.creator", "dcterms.creator", "article:byline", "byl", "cxenseparse:author"})
_PAGE_TYPES = frozenset({"WebPage", "ItemPage"})
_PUBLISHER_TYPES = frozenset({"WebSite"})
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished",
                   "pubdate", "publishdate", "publish-date", "date", "dc.date", "dc.date.issued",
                   "dcterms.created", "sailthru.date", "parsely-pub-date")
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "last-modified",
                  "dcterms.modified")
_SECTION_META = ("article:section", "section", "parsely-section")
_DESCRIPTION_META = ("description", "og:description", "twitter:description")


@dataclass(frozen=True)
class Declared:
    """What a page declares about itself in JSON-LD and meta tags.

    ``nodes``: the top-level JSON-LD objects, ``@graph`` members and WebPage main
    entities, in page order; ``article``: the first of them with an article type
    (``NewsArticle``, ``BlogPosting``, ...), ``{}`` when none; ``metas``: meta
    values by lowercased property/name/itemprop/http-equiv, the first non-empty
    value of each.
    """

    nodes: list[dict]
    article: dict
    metas: dict[str, str]


def read_declared(tree: HtmlElement) -> Declared:
    """The JSON-LD and meta tags of ``tree``; never raises on broken JSON-LD.

    Each JSON-LD script is parsed on its own, so that one broken block does not
    lose the others; a block extruct rejects is retried leniently (comments,
    CDATA markers, trailing commas and text around the JSON removed) and dropped
    when that fails too. Nested objects (an ItemList's articles) are not nodes.
    Only the first :data:`_MAX_JSONLD_BLOCKS` blocks are read, and none of over
    :data:`_MAX_JSONLD_CHARS` characters.
    """
    nodes = _jsonld_nodes(tree)
    article = next((n for n in nodes if node_types(n) & _ARTICLE_TYPES), None) or {}
    return Declared(nodes=nodes, article=article, metas=_metas(tree))


def node_types(node: dict) -> set[str]:
    """The ``@type`` names of a JSON-LD ``node``, without schema.org URL prefixes."""
    types = node.get("@type")
    types = types if isinstance(types, list) else [types]
    return {t.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for t in types if isinstance(t, str)}




def declared_section(declared: Declared) -> str | None:
    """The section the page names: JSON-LD ``articleSection``, else a section meta tag."""
    return (clean_text(_first(declared.article.get("articleSection")))
            or clean_text(_meta(declared.metas, _SECTION_META)))


def site_name(declared: Declared) -> str | None:
    """``og:site_name``, else the name of the JSON-LD article's publisher."""
    return (clean_text(declared.metas.get("og:site_name"))
            or _name(_first(declared.article.get("publisher"))))


def description(declared: Declared) -> str | None:
    """The description meta tags (plain, OpenGraph, Twitter), else the JSON-LD one."""
    return clean_text(_meta(declared.metas, _DESCRIPTION_META)
                      or declared.article.get("description"))


def find_title(declared: Declared, h1: str | None, head_title: str | None,
               site: str | None, domain: str) -> str | None:
    """The page's headline without a site-name prefix or suffix, or ``None``.

    The first of the JSON-LD headline, ``og:title``, the text of the first
    ``h1`` and the ``<title>``; when it is truncated ("..."), a longer candidate
    starting alike. ``site`` and ``domain`` are what :func:`strip_site_name` strips.
    """
    candidates = [c for c in map(clean_text, (declared.article.get("headline"),
                                              declared.metas.get("og:title"), h1, head_title)) if c]
    if not candidates:
        return None
    title = candidates[0]
    if title.endswith(("\u2026", "...")):  # a truncated headline: a longer one starts alike
        stem = title.rstrip(".\u2026 ")
        title = next((c for c in candidates[1:] if c.startswith(stem) and len(c) > len(stem)), title)
    return strip_site_name(title, site, domain)


def strip_site_name(title: str, site: str | None, domain: str) -> str:
    """``title`` without a leading or trailing site name (" | The Daily Loopback").

    A part is the site name when it is ``site`` or the first label of ``domain``
    (letters and digits compared, an optional "The" before it); a short part
    after the last "|" of a longer title is taken to be one too. At most two
    parts are removed.
    """
    names = {re.sub(r"\W", "", n.lower()) for n in (site, domain.split(".")[0]) if n}
    names |= {"the" + n for n in names}
    for _ in range(2):
        seps = list(_TITLE_SEP_RE.finditer(title))
        if not seps:
            break
        last, first = seps[-1], seps[0]
        tail, lead = title[last.end():], title[:first.start()]
        if re.sub(r"\W", "", tail.lower()) in names or (
            "|" in last.group() and len(tail.split()) <= 4 and len(title[:last.start()].split()) >= 3
        ):
            title = title[:last.start()].strip()
        elif re.sub(r"\W", "", lead.lower()) in names:
            title = title[first.end():].strip()
        else:
            break
    return title


def find_authors(tree: HtmlElement, declared: Declared) -> tuple[list[str], str]:
    """(author names, the byline text when the names come from it, else "").

    Sources, in order: the JSON-LD ``author`` (else ``creator``) of the first
    article node that has one (then of a WebPage node), read by
    :func:`crawler.article.authors.jsonld_names` (Person and Organization,
    lists, nesting, ``@id`` references); the author meta tags
    (:data:`_AUTHOR_META`, every value, URLs skipped); microdata
    ``itemprop="author"`` names and ``rel="author"`` links; the first byline on
    the page ("By Jane Doe and John Roe | March 2"). Each source's strings are
    cleaned by :func:`crawler.article.authors.clean_names`. The first source
    that names anyone wins, unless it names only the publisher
    (:func:`_publishers`): then a later source wins only with a name written
    as a person's (:func:`crawler.article.authors.looks_like_person`: not
    initials, a desk or an agency), else the publisher stands. Read it after the teaser blocks are gone
    from ``tree``: their bylines are not the article's.
    """
    publishers = _publishers(declared)
    fallback: tuple[list[str], str] = ([], "")
    for source in _author_sources(tree, declared):
        names, byline = source()
        if not names:
            continue
        if not all(is_publisher(n, publishers) for n in names) and (
                not fallback[0] or any(map(looks_like_person, names))):
            return names, byline
        if not fallback[0]:
            fallback = (names, byline)
    return fallback


def _author_sources(tree: HtmlElement, declared: Declared) -> Iterator[Callable[[], tuple[list[str], str]]]:
    """The author sources of :func:`find_authors`, in order, each read when called."""
    by_id = {node["@id"]: node for node in declared.nodes if isinstance(node.get("@id"), str)}

    def jsonld() -> tuple[list[str], str]:
        for node in (*_article_nodes(declared), *(n for n in declared.nodes if node_types(n) & _PAGE_TYPES)):
            for key in ("author", "creator"):
                names = clean_names(jsonld_names(node.get(key), by_id))
                if names:
                    return names, ""
        return [], ""

    def metas() -> tuple[list[str], str]:
        values = [(meta.get("property") or meta.get("name") or "").strip().lower() for meta in tree.iter("meta")]
        found = [meta.get("content") or "" for key, meta in zip(values, tree.iter("meta")) if key in _AUTHOR_META]
        return clean_names(v for v in found if "://" not in v), ""

    def marked() -> tuple[list[str], str]:
        # Names marked up as such: microdata, then rel=author links.
        for query in (_XPATH_ITEMPROP_AUTHORS, _XPATH_REL_AUTHOR):
            texts = (raw_text_within(el, _MAX_NAME_CHARS + _RAW_SLACK) for el in query(tree))
            names = [n.strip(" ,;") for n in map(clean_text, texts) if n]
            names = clean_names(n for n in names if 1 < len(n) <= _MAX_NAME_CHARS and "://" not in n)
            if names:
                return names, ""
        return [], ""

    def byline() -> tuple[list[str], str]:
        texts = (raw_text_within(el, _MAX_BYLINE_CHARS + _RAW_SLACK) for el in _XPATH_BYLINE(tree))
        text = next((t for t in map(clean_text, texts) if t and len(t) <= _MAX_BYLINE_CHARS), "")
        return clean_names([text]), text

    yield from (jsonld, metas, marked, byline)


def _article_nodes(declared: Declared) -> list[dict]:
    """The JSON-LD nodes of an article type, ``declared.article`` first."""
    nodes = [n for n in declared.nodes if node_types(n) & _ARTICLE_TYPES and n is not declared.article]
    return [declared.article, *nodes] if declared.article else nodes


def _publishers(declared: Declared) -> list[str]:
    """The names the page gives itself: og:site_name, application-name, the
    publishers of its JSON-LD nodes and the names of its WebSite nodes, the first label of og:url's host."""
    names = [declared.metas.get("og:site_name"), declared.metas.get("application-name")]
    by_id = {node["@id"]: node for node in declared.nodes if isinstance(node.get("@id"), str)}
    for node in declared.nodes:
        names += jsonld_names(node.get("publisher"), by_id)
        if node_types(node) & _PUBLISHER_TYPES:
            names += jsonld_names({k: v for k, v in node.items() if k in ("name", "alternateName")})
    host = url_host(declared.metas.get("og:url") or "")
    labels = [label for label in host.split(".") if label not in ("www", "m", "amp")]
    if labels:
        names.append(labels[0])
        names.append(".".join(labels))
    return [n for n in names if n]


def published_date(tree: HtmlElement, declared: Declared, url: str | None = None) -> str | None:
    """The publication date as the page writes it (offset kept), or ``None``.

    In order: ``datePublished`` of the JSON-LD article nodes; a publication
    meta tag (:data:`_PUBLISHED_META`); ``datePublished`` of a JSON-LD WebPage
    node; ``dateCreated`` of the article nodes; microdata ``itemprop="datePublished"``; the
    ``datetime`` of a ``<time>`` in ``<article>`` or ``<main>``; htmldate's
    extensive guess (``url`` helps it); the ``datetime`` of any ``<time>``.
    A JSON-LD value written for reading ("Jun 12, 2025", not schema.org's ISO
    8601: a template's display field, often the CMS's last publication) comes
    after all the others. A modification date is never taken for it. A day-first dotted date is
    rewritten as ISO 8601 (:func:`crawler.article.dates.as_written`); a value
    :func:`crawler.article.normalize.to_iso8601` cannot read is passed over
    for the next (and returned only when none can be read). A date in UTC
    takes the publisher's offset from the meta tag, microdata or ``<time>``
    that names the same moment (:func:`crawler.article.dates.with_local_offset`).
    """
    articles = _article_nodes(declared)
    pages = [n for n in declared.nodes if node_types(n) & _PAGE_TYPES]
    meta = partial(_meta, declared.metas, _PUBLISHED_META)
    microdata = partial(_time, tree, "datePublished")
    shown = partial(_article_time, tree)
    jsonld = (partial(jsonld_date, articles, "datePublished"), partial(jsonld_date, pages, "datePublished"),
              partial(jsonld_date, articles, "dateCreated"))
    sources: tuple[Callable[[], str | None], ...] = (
        jsonld[0], meta, jsonld[1], jsonld[2], microdata, shown, partial(guess_date, tree, url),
        partial(_any_time, tree),
    )
    def with_offset(found: str) -> str:
        # The others are read only for a date in UTC (most are not).
        return with_local_offset(found, (offset() for offset in (meta, microdata, shown)))

    first = deferred = None
    for source in sources:
        found = as_written(source())
        first = first or found
        if not (found and to_iso8601(found)):
            continue
        if source in jsonld and not is_iso_day(found):
            deferred = deferred or found  # "Jun 12, 2025": a template's display field
            continue
        return with_offset(found)
    return with_offset(deferred) if deferred else first


def modified_date(tree: HtmlElement, declared: Declared) -> str | None:
    """The date of the last change as found: JSON-LD, meta tag or microdata, else ``None``."""
    return as_written(jsonld_date(_article_nodes(declared), "dateModified") or _meta(declared.metas, _MODIFIED_META)
                      or _time(tree, "dateModified"))


def language(tree: HtmlElement, declared: Declared) -> str | None:
    """The page's language tag: ``<html lang>``, Content-Language, JSON-LD, og:locale."""
    metas, article = declared.metas, declared.article
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    lang = lang or metas.get("content-language") or clean_text(article.get("inLanguage"))
    lang = lang or (metas.get("og:locale") or "").replace("_", "-")
    return lang.strip() or None if lang else None


def canonical_url(tree: HtmlElement, declared: Declared, url: str) -> str | None:
    """rel=canonical, else og:url, made absolute against ``url``; ``None`` unless
    it is an http(s) URL on the site of ``url`` (:func:`crawler.base.urls.same_site`:
    a syndicated copy is not ours)."""
    hrefs = _XPATH_CANONICAL(tree)
    for href in [*hrefs[:1], declared.metas.get("og:url")]:
        if href and href.strip():
            absolute = urljoin(url, href.strip())
            if absolute.startswith(("http://", "https://")) and same_site(absolute, url):
                return absolute
    return None


# --- Helpers --------------------------------------------------------------------


def _jsonld_nodes(tree: HtmlElement) -> list[dict]:
    extractor = JsonLdExtractor()
    nodes: list[dict] = []
    scripts = tree.iterfind('.//script[@type="application/ld+json"]')
    for script in itertools.islice(scripts, _MAX_JSONLD_BLOCKS):
        if len(script.text or "") > _MAX_JSONLD_CHARS:
            logger.debug("skipping a JSON-LD block of over %d characters", _MAX_JSONLD_CHARS)
            continue
        try:
            items = extractor.extract_items(script)
        except Exception:  # noqa: BLE001 - extruct gave up on this block: try leniently
            items = _lenient_json(script.text_content())
        for item in items:
            graph = item.get("@graph") if isinstance(item, dict) else None
            for node in [item, *(graph if isinstance(graph, list) else [graph])]:
                if isinstance(node, dict):
                    nodes.append(node)
                    main = node.get("mainEntity")
                    if isinstance(main, dict) and "WebPage" in str(node.get("@type")):
                        nodes.append(main)
    return nodes


def _lenient_json(text: str) -> list:
    """JSON with HTML/JS comments, CDATA markers, trailing commas or text around it."""
    text = _TRAILING_COMMA_RE.sub(r"\1", _JS_JUNK_RE.sub("", text))
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    end = max(text.rfind("}"), text.rfind("]"))
    try:
        data = json.loads(_CONTROL_RE.sub(" ", text[start:end + 1]), strict=False)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        logger.debug("dropping an unparsable JSON-LD block")
        return []
    return data if isinstance(data, list) else [data]


def _metas(tree: HtmlElement) -> dict[str, str]:
    metas: dict[str, str] = {}
    for item in OpenGraphExtractor().extract_items(tree):
        for prop, value in item["properties"]:
            if value and value.strip():
                metas.setdefault(prop.lower(), value.strip())
    for meta in tree.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv")
        value = meta.get("content")
        if key and value and value.strip():
            metas.setdefault(key.strip().lower(), value.strip())
    return metas


def _meta(metas: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((metas[k] for k in keys if metas.get(k)), None)


def _first(value: Any) -> Any:
    return next((v for v in value if v), None) if isinstance(value, list) else value


def _name(value: Any) -> str | None:
    return clean_text(_first(value.get("name"))) if isinstance(value, dict) else clean_text(value)


def _time(tree: HtmlElement, prop: str) -> str | None:
    """The first non-blank ``datetime`` or ``content`` of an ``itemprop=prop`` element."""
    values = (value for element in _XPATH_ITEMPROP(tree) if element.get("itemprop") == prop
              for name, value in element.items() if name in ("datetime", "content"))
    return next((value.strip() for value in values if value and value.strip()), None)


def _article_time(tree: HtmlElement) -> str | None:
    """The ``datetime`` of the first ``<time>`` in ``<article>`` or ``<main>``: the
    article's own, before one in a header or teaser (:func:`_first_datetime`)."""
    return _first_datetime(_XPATH_ARTICLE_TIME(tree))


def _any_time(tree: HtmlElement) -> str | None:
    return _first_datetime(_XPATH_TIME(tree))


def _first_datetime(elements: list[HtmlElement]) -> str | None:
    """The first ``datetime`` of ``elements`` that is not blank, or ``None``.

    When its day and month could be either way round
    (:func:`crawler.article.dates.either_way`, a form HTML does not allow) and a
    later one names one of its two readings plainly, that one: a page that
    writes "02-12-2025" in one ``<time>`` and "2025-12-02" in the next means the
    second of December.
    """
    values = [value.strip() for value in (element.get("datetime") for element in elements)
              if value and value.strip()]
    if not values:
        return None
    readings = either_way(values[0])
    if readings is None:
        return values[0]
    return next((value for value in values[1:]
                 if either_way(value) is None and (to_iso8601(value) or "")[:10] in readings), values[0])
