"""Article extraction: from the bytes of a news page to the fields of an article.

:func:`extract_article` decodes and parses a page once with lxml, reads what it
declares about itself (:mod:`crawler.article.metadata`), collects the "More <Section>"
teasers (:mod:`crawler.article.related`), then strips the teaser and sister-site blocks
from the tree and extracts the body with trafilatura. The body is cleaned of the
lines that are not article text (headline, byline, prompts, link lines, teaser
texts, author bio: the rules of :mod:`crawler.article.text`), checked against the text the page declares in its JSON-LD
(``articleBody``, live-blog updates) and preceded by the standfirst when the
page shows its description. A page without article metadata is an article only
when its text reads like one (enough prose, few links).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import lxml.html
from lxml import etree
from w3lib.encoding import html_to_unicode

from crawler.article.bounded import count_elements, raw_text_within
from crawler.article.bodies import PROSE_WORDS, Candidate, choose, readability_lines, trafilatura_lines
from crawler.article.furniture import SiteLinks, strip_furniture
from crawler.article.listing import has_prose, is_listing_url, is_teaser_run
from crawler.article.metadata import (
    canonical_url,
    declared_section,
    description,
    find_authors,
    find_title,
    language,
    modified_date,
    node_types,
    published_date,
    read_declared,
    site_name,
)
from crawler.article.related import find_blocks, find_related, related_section, strip_related_blocks
from crawler.article.text import (
    clean_text,
    count_words,
    fold_spaces,
    has_words,
    is_author_bio,
    is_boilerplate,
    is_byline,
    text_key,
    tokens_of,
)
from crawler.base.urls import display_domain

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from lxml.html import HtmlElement

    from crawler.article.metadata import Declared

__all__ = ["decode_html", "extract_article"]

logger = logging.getLogger(__name__)

# trafilatura warns "discarding data: <url>" for every page without a main text,
# which a crawl meets on each listing page: noise at WARNING level, so let only
# its errors through. Its modules log to children of this logger and set no level.
logging.getLogger("trafilatura").setLevel(logging.ERROR)

# Below this many words a page with no article metadata is not an article.
_MIN_WORDS = 80
# A line of at most this many words may be dropped as a link.
_SHORT_LINE = 30
# A body shorter than this many words is doubtful: other extractors are asked too.
_DOUBT_WORDS = 150
_SNIFF_BYTES = 65536
# What one page may make extraction read: its first _MAX_ELEMENTS elements and
# _MAX_TEXT_CHARS characters of text (scripts and styles not counted), and as
# much of its JSON-LD text. The largest of 80 real news pages has 2,564
# elements and 92,281 characters of text; a page past either is cut there, so
# that no page holds a worker for long (issue 10: hostile pages of 5 MiB).
_MAX_ELEMENTS = 10_000
_MAX_TEXT_CHARS = 300_000
_RAW_TEXT_TAGS = frozenset({"script", "style"})
# Elements an HTML parser adds without a start tag: html, head, body, tbody, p and the like.
_IMPLIED_ELEMENTS = 64
_MAX_STANDFIRST_PLACES = 10
_FEED_CHARS = 65536
# Blanks a text may hold around the words compared with it.
_RAW_SLACK = 4096
# Past these a doubtful body gets no second opinion (see _too_big_to_compare).
_MAX_COMPARED_ELEMENTS = 5_000
_MAX_COMPARED_WORDS = 20_000
# Encodings a detector is trusted with; any other guess is a Western page in windows-1252.
_TRUSTED_GUESSES = frozenset(
    """gb2312 gbk gb18030 hz big5 big5hkscs cp950 shift_jis cp932 euc_jp iso2022_jp euc_kr cp949
    iso2022_kr johab cp1251 koi8_r koi8_u iso8859_5 cp866 mac_cyrillic cp1253 iso8859_7 cp1255
    iso8859_8 cp1256 iso8859_6 cp874 tis_620 iso8859_11 utf_16 utf_16_le utf_16_be""".split()
)
_BINARY_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b",
                 b"RIFF", b"OggS", b"ID3", b"%!PS", b"{\\rtf", b"\xd0\xcf\x11\xe0", b"\x7fELF")
_NON_HTML_TYPES = re.compile(
    r"^\s*(image|audio|video|font)/|^\s*application/(pdf|zip|gzip|json|javascript"
    r"|msword|vnd\.)|^\s*text/(css|javascript|csv)", re.I)
# lxml.html's own lookup is a Python method called for every element a step
# touches (a tenth of extraction's time); this one, in C, gives the same
# HtmlElement methods to every element (forms get no FormElement: none is used).
_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)
# Whether a page needs no cut (:func:`_truncate`), tested in C: no more elements
# than the limit (the parser keeps no comments or processing instructions), and
# no more text than the limit even with the text of scripts and styles counted.
_XPATH_WITHIN_LIMITS = etree.XPath("count(descendant-or-self::*) <= $elements and string-length(.) <= $chars")
# Scripts and styles, which no body extractor reads (often half a page's
# characters); JSON-LD stays, for trafilatura's fallback to its articleBody.
# (One path, not a union: libxml2 merges a union's node sets pairwise.)
_XPATH_NOT_TEXT = etree.XPath("//*[self::script[not(@type='application/ld+json')] or self::style]")
_TAG_RE = re.compile(r"<[a-zA-Z!]")
# No "<" inside a tag: a run of "<" without ">" is then read once, not once per "<".
_TAG_STRIP_RE = re.compile(r"<[^<>]*>")
_NON_ASCII_RE = re.compile(rb"[\x80-\xff]")
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*>")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]+")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# A body is doubtful when the page's paragraphs of prose hold this many times its words.
_MISSED_PROSE = 2.0
# A paragraph, or a text outside links, scripts and styles, this long is a sentence of prose at least.
_SENTENCE_CHARS = 100
# Blocks of prose, none inside another, so that no text counts twice; readers'
# comments are prose too, but never the article's. The length test (raw text,
# blanks included: never shorter than the trimmed text counted) comes first: it
# halves the cost of the ancestor test after it.
_XPATH_PROSE_BLOCKS = etree.XPath(
    f".//body//*[self::p or self::li or self::blockquote][string-length(.) >= {_SENTENCE_CHARS}]"
    "[not(.//p or .//li or .//blockquote)]"
    "[not(ancestor::*[contains(@id, 'comment') or contains(@class, 'comment')])]")
_XPATH_TEXT_LENGTH = etree.XPath("string-length(.)")
_XPATH_SENTENCE = etree.XPath(
    f"boolean(.//*[self::p or self::li or self::dd or self::blockquote or self::pre]"
    f"[string-length(normalize-space(.)) >= {_SENTENCE_CHARS}]"
    f" | .//*[not(self::script or self::style or self::a)]/text()"
    f"[string-length(normalize-space(.)) >= {_SENTENCE_CHARS}])"
)
_XPATH_TEXT_START = etree.XPath(
    ".//body//*[not(self::script or self::style)]/text()"
    "[starts-with(normalize-space(substring(., 1, 200)), $start)]"
)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """``body`` as text, never raising.

    The encoding is the BOM's when there is one (it cannot be wrong), else
    UTF-8 when the bytes are valid UTF-8 and not all ASCII (a page that declares
    another charset but is valid UTF-8 was re-encoded on the way: real text in
    a legacy encoding is almost never valid UTF-8), else the charset of the
    ``content_type`` header, else the page's ``<meta charset>``
    or http-equiv declaration, else a guess: UTF-8 when the bytes are valid
    UTF-8, a detected CJK/Cyrillic/Greek/... encoding, or windows-1252. GB2312
    and GBK are decoded as their superset GB18030 and ISO-8859-1 as
    windows-1252, as browsers do. Undecodable bytes become U+FFFD.
    """
    if not body:
        return ""
    if not body.startswith((b"\xff\xfe", b"\xfe\xff")) and not body.isascii():
        try:
            return body.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
    try:
        return html_to_unicode(content_type, body, auto_detect_fun=_detect_encoding)[1]
    except Exception:  # noqa: BLE001 - a broken codec or header must not stop the crawl
        logger.debug("falling back to UTF-8 for undecodable page", exc_info=True)
        return body.decode("utf-8", "replace")


def extract_article(
    html: str | bytes, url: str, *, content_type: str | None = None
) -> dict | None:
    """The article of the page ``html`` fetched from ``url``, or ``None``.

    ``html`` is the response body (bytes, decoded with :func:`decode_html` and
    ``content_type``) or text. ``None`` when the page is not an article: an empty
    or non-HTML document, or a page without article metadata (a JSON-LD article
    type, ``og:type`` "article") whose text is short, link-heavy or mostly a
    list of links. Otherwise a dict with exactly these keys:

    ``url`` as given; ``canonical_url`` (rel=canonical, else og:url, absolute,
    only when on the site of ``url``, else None); ``title`` without a site-name
    suffix; ``authors`` (list of names as found); ``published``/``modified``
    (date strings as found, offset kept; None when unknown); ``section``;
    ``body`` (plain text, paragraphs separated by a blank line); ``description``;
    ``language``; ``site_name``; ``domain`` (:func:`crawler.base.urls.display_domain`);
    ``related`` (:func:`crawler.article.related.find_related`). Absent values are None.

    Reads at most the page's first :data:`_MAX_ELEMENTS` elements and
    :data:`_MAX_TEXT_CHARS` characters of text (the rest is not parsed), and
    every step reads what it is given in linear time: no page, however
    hostile, holds the caller for long. Never raises: a failure is logged and
    gives ``None``.
    """
    try:
        return _extract(html, url, content_type)
    except Exception:  # noqa: BLE001 - one odd page must not stop the crawl
        logger.warning("extraction failed for %s", url, exc_info=True)
        return None


def _extract(html: str | bytes, url: str, content_type: str | None) -> dict | None:
    tree = _parse(html, content_type)
    if tree is None:
        return None
    declared = read_declared(tree)
    article, metas = declared.article, declared.metas
    blocks = find_blocks(tree)
    related = find_related(tree, url, blocks)
    section = declared_section(declared) or (related[0]["section"] if related else related_section(tree, blocks))
    # Out with the teasers before anything reads the page's text (bylines, <time>s, body).
    strip_related_blocks(tree, blocks)
    strip_furniture(tree, url)  # sign-up boxes and share bars inside the article

    domain = display_domain(url)
    site = site_name(declared)
    h1 = tree.find(".//h1")
    h1_text = h1.text_content() if h1 is not None else None
    title = find_title(declared, h1_text, tree.findtext(".//title"), site, domain)
    authors, byline = find_authors(tree, declared)
    summary = description(declared)

    links = _link_texts(tree, url)
    drop = {text_key(t) for entry in related for t in (entry["title"], entry["teaser"]) if t}
    drop.update(text_key(t) for t in (title, h1_text, metas.get("og:title"), byline) if t)
    is_declared = bool(article) or metas.get("og:type", "").lower() == "article"
    if is_listing_url(url):
        return None  # a paginated or archive listing, whatever its metadata says
    published = published_date(tree, declared, url)  # before the body step changes the tree
    for element in _XPATH_NOT_TEXT(tree):  # every extractor drops them: out before it copies the tree
        element.drop_tree()
    lines, link_lines = _body(tree, url, drop, links, _reference(declared), declared=is_declared)
    lines = _with_standfirst(tree, lines, (summary, metas.get("og:description")))
    body = "\n\n".join(lines)
    if not has_words(body) or is_teaser_run(lines, link_lines):
        return None
    if not article:  # no JSON-LD article: the words decide
        words = count_words(body)
        if not (is_declared or _looks_like_article(lines, words, links["chars"])):
            return None
        if not has_prose(lines) and words < _MIN_WORDS and links["chars"] > 3 * len(body):
            return None  # og:type "article" on a page of links

    return {
        "url": url,
        "canonical_url": canonical_url(tree, declared, url),
        "title": title,
        "authors": authors,
        "published": published,
        "modified": modified_date(tree, declared),
        "section": section,
        "body": body,
        "description": summary,
        "language": language(tree, declared),
        "site_name": site,
        "domain": domain,
        "related": related,
    }


# --- Bytes to tree --------------------------------------------------------------


def _detect_encoding(data: bytes) -> str:
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes  # a dependency of trafilatura

        # Sniff where the text is not ASCII: the head of a page often is, for 100 kB.
        found = _NON_ASCII_RE.search(data)
        start = found.start() if found else 0
        best = from_bytes(data[max(0, start - 1024):start + _SNIFF_BYTES]).best()
    except Exception:  # noqa: BLE001 - detection is a guess; a failed guess is no guess
        best = None
    if best is None or best.encoding not in _TRUSTED_GUESSES:
        return "cp1252"  # a single-byte guess between Latin code pages is a coin toss
    return "gb18030" if best.encoding in ("gb2312", "gbk") else best.encoding


def _parse(html: str | bytes, content_type: str | None) -> HtmlElement | None:
    if content_type and _NON_HTML_TYPES.search(content_type):
        return None
    raw = None
    if isinstance(html, bytes):
        head = html[:1024].lstrip()
        if head.startswith(_BINARY_MAGIC):
            return None
        if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        raw, html = html, decode_html(html, content_type)
    if not html or html[:64].lstrip().startswith("%PDF") or not _TAG_RE.search(html, 0, _SNIFF_BYTES):
        return None
    html = _XML_DECL_RE.sub("", html, count=1)
    html = _without_controls(html, raw)
    try:
        tree = _feed(html)
    except (etree.LxmlError, ValueError):
        return None
    if tree is not None and not _XPATH_WITHIN_LIMITS(tree, elements=_MAX_ELEMENTS, chars=_MAX_TEXT_CHARS):
        _truncate(tree)
    return tree


def _without_controls(html: str, raw: bytes | None = None) -> str:
    """``html`` without NUL and the other control characters that make lxml
    refuse a str, or a text later set from the tree's; removed by a regular
    expression only when there are any.

    They are looked for in bytes, where bytes.translate finds them four times
    faster than a regular expression scans the str: in ``raw``, the bytes
    ``html`` was decoded from, when given (every ASCII-compatible encoding
    writes a control character as the same byte, and UTF-16 text holds NUL
    bytes, so that it is scanned as a str), else in ``html``'s UTF-8.
    """
    data = html.encode("utf-8", "surrogatepass") if raw is None else raw
    if len(data.translate(None, _CONTROL_BYTES)) == len(data):
        return html
    return _CONTROL_RE.sub("", html)


def _feed(html: str) -> HtmlElement | None:
    """The document of ``html`` as lxml.html builds it, parsed only as far as
    :func:`_truncate` keeps it: the parser is fed :data:`_FEED_CHARS` at a
    time until it has seen more than :data:`_MAX_ELEMENTS` elements. ``None``
    for an empty document.

    A document with fewer start tags than that (every element but the few the
    parser implies needs one: fewer ``<`` than ``</`` plus the limit) is fed
    at once to a parser that reports no events, the same tree at less cost.
    """
    if html.count("<") - html.count("</") + _IMPLIED_ELEMENTS <= _MAX_ELEMENTS:
        whole = etree.HTMLParser(collect_ids=False, remove_comments=True, remove_pis=True)
        whole.set_element_class_lookup(_LOOKUP)
        whole.feed(html)
        return whole.close()
    parser = etree.HTMLPullParser(events=("start",), collect_ids=False, remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(_LOOKUP)
    elements = 0
    for start in range(0, len(html), _FEED_CHARS):
        parser.feed(html[start:start + _FEED_CHARS])
        elements += sum(1 for _ in parser.read_events())
        if elements > _MAX_ELEMENTS:
            break
    return parser.close()


def _truncate(tree: HtmlElement) -> None:
    """Cut ``tree`` after its first :data:`_MAX_ELEMENTS` elements or
    :data:`_MAX_TEXT_CHARS` characters of text, whichever comes first.

    Everything after the cut (in document order) is removed; the element where
    the text runs out keeps its text up to the limit and loses its children.
    """
    elements = chars = 0
    for element in tree.iter():
        elements += 1
        if elements > _MAX_ELEMENTS:
            logger.debug("page cut after %d elements", _MAX_ELEMENTS)
            _drop_following(element, keep=False)
            return
        if not (isinstance(element.tag, str) and element.tag in _RAW_TEXT_TAGS):
            chars += len(element.text or "")
        if chars > _MAX_TEXT_CHARS:
            logger.debug("page cut after %d characters of text", _MAX_TEXT_CHARS)
            text = element.text or ""
            element.text = text[:max(0, len(text) - (chars - _MAX_TEXT_CHARS))]
            del element[:]
            _drop_following(element, keep=True)
            return
        # A tail is read after the element's children, but counted here: a
        # budget, not a position.
        chars += len(element.tail or "")


def _drop_following(element: HtmlElement, *, keep: bool) -> None:
    """Remove all that follows ``element`` in document order, and ``element`` too unless ``keep``."""
    node = element
    while (parent := node.getparent()) is not None:
        index = parent.index(node)
        del parent[index + 1:]
        if node is not element:
            node.tail = None
        node = parent
    if keep:
        element.tail = None
    else:
        element.getparent().remove(element)


# --- Body -----------------------------------------------------------------------


def _link_texts(tree: HtmlElement, url: str) -> dict:
    """The normalized texts of the page's links of two words or more to other
    pages of its own site (what teasers link to), and all links' length.

    Links within the page (``href="#..."``: a table of contents) and to other
    sites (sources, references) are left out of the texts: the headings they
    point to and the lists they make are the article's own.
    """
    texts: set[str] = set()
    chars = 0
    site = SiteLinks(url)
    for link in tree.iter("a"):
        text = text_key(link.text_content())
        chars += len(text)
        if " " in text:
            href = (link.get("href") or "").strip()
            if href and not href.startswith("#") and href in site:
                texts.add(text)
    return {"texts": texts, "chars": chars}


def _body(tree: HtmlElement, url: str, drop: set[str], links: dict,
          reference: list[str], *, declared: bool) -> tuple[list[str], int]:
    """The body of ``tree`` as lines, and how many link lines were dropped from it.

    trafilatura's fast extraction first; when what is left of it after cleaning
    looks doubtful (:func:`_doubtful`) and the page declares itself an article
    (``declared``) or the first body holds neither prose nor many links (so that
    no article is dropped because one extractor missed its text), trafilatura's recall
    mode, readability and the page's JSON-LD text are candidates too, and
    :func:`crawler.article.bodies.choose` picks the best supported one.
    """
    def candidate(name: str, lines: list[str]) -> Candidate:
        kept, link_lines = _clean_lines(lines, drop, links["texts"])
        return Candidate(name, _check_against(kept, reference), link_lines)

    link_chars = links["chars"]
    first = candidate("trafilatura", trafilatura_lines(tree, url))
    second_opinion = declared or not (has_prose(first.lines) or _not_worth_asking(tree, link_chars))
    if not second_opinion or not (_doubtful(first) or _misses_prose(tree, first)) \
            or _too_big_to_compare(tree, first):
        return first.lines, first.link_lines
    candidates = [
        first,
        candidate("trafilatura recall", trafilatura_lines(tree, url, fast=False, favor_recall=True)),
        candidate("readability", readability_lines(tree, url)),
    ]
    if reference:
        candidates.append(Candidate("json-ld", reference))
    chosen = choose(candidates)
    return chosen.lines, chosen.link_lines


def _doubtful(candidate: Candidate) -> bool:
    """Whether a body may be missing most of the article: short, little prose, or many links."""
    counts = [count_words(line) for line in candidate.lines]
    prose = sum(count >= PROSE_WORDS for count in counts)
    return sum(counts) < _DOUBT_WORDS or prose < 3 or candidate.link_lines > 0.3 * (len(candidate.lines) + 1)


def _misses_prose(tree: HtmlElement, candidate: Candidate) -> bool:
    """Whether the page shows much more prose than ``candidate`` holds: its
    paragraphs, list items and quotes (the innermost, outside readers' comments)
    of :data:`_SENTENCE_CHARS` characters or more add up to over
    :data:`_MISSED_PROSE` times the candidate's characters (characters, not
    words: cheap, and fair to scripts written without spaces)."""
    limit = _MISSED_PROSE * sum(map(len, candidate.lines))
    body = tree.find("body")
    if body is None or _XPATH_TEXT_LENGTH(body) <= limit:
        return False  # the blocks hold no more than the whole text (242 of 548 calls on the benchmark pages)
    shown = 0
    for element in _XPATH_PROSE_BLOCKS(tree):
        length = len(element.text_content().strip())
        if length >= _SENTENCE_CHARS:
            shown += length
            if shown > limit:
                return True
    return False


def _not_worth_asking(tree: HtmlElement, link_chars: int) -> bool:
    """Whether an undeclared page cannot hold an article that another extractor
    would find: no paragraph and no text outside links is a sentence long
    (:data:`_SENTENCE_CHARS`),
    or half its text or more is in links (``link_chars`` of it). A listing is no
    reason to run three extractors."""
    body = tree.find("body")
    if body is None or not _XPATH_SENTENCE(body):
        return True
    return 2 * link_chars >= len(fold_spaces(body.text_content()))


def _too_big_to_compare(tree: HtmlElement, first: Candidate) -> bool:
    """Whether asking three more extractors would cost too much: a page of over
    :data:`_MAX_COMPARED_ELEMENTS` elements, or a first body of over
    :data:`_MAX_COMPARED_WORDS` words (each extractor and the comparison read
    all of it; real doubtful bodies are short)."""
    return (count_elements(tree, _MAX_COMPARED_ELEMENTS) > _MAX_COMPARED_ELEMENTS
            or sum(map(count_words, first.lines)) > _MAX_COMPARED_WORDS)


def _clean_lines(lines: list[str], drop: set[str], links: set[str]) -> tuple[list[str], int]:
    """``lines`` without the ones that are not article text, and how many were links.

    Dropped: lines in ``drop`` (headline, byline, teasers), link texts of at most
    :data:`_SHORT_LINE` words (counted), boilerplate and byline lines, and an
    author's bio among the last three (the rules of :mod:`crawler.article.text`).
    Repeated paragraphs stay: :func:`crawler.article.normalize.clean_body` drops them.
    """
    kept: list[str] = []
    link_lines = 0
    for line in lines:
        key = text_key(line.lstrip("-\u2022* "))
        if not key or key in drop:
            continue
        if key in links and count_words(key) <= _SHORT_LINE:
            link_lines += 1
            continue
        if is_boilerplate(key) or is_byline(line):
            continue
        kept.append(line)
    # The author's bio closes many articles: "Jane Doe is a reporter for ..."
    tail = [line for line in kept[-3:] if not is_author_bio(line)]
    return kept[:-3] + tail if len(kept) > 3 else kept, link_lines


def _reference(declared: Declared) -> list[str]:
    """The page's own text of the article from its JSON-LD, as paragraphs.

    A live blog's updates (headline, then text) when there are any, else the
    ``articleBody``; ``[]`` when the page has neither. At most
    :data:`_MAX_TEXT_CHARS` characters of it are read, as of the page.
    """
    for node in declared.nodes:
        updates = node.get("liveBlogUpdate") if "LiveBlogPosting" in node_types(node) else None
        if isinstance(updates, list):
            texts = (u.get(k) for u in updates if isinstance(u, dict) for k in ("headline", "articleBody"))
            paragraphs = [p for p in map(clean_text, _within_budget(texts)) if p]
            if paragraphs:
                return paragraphs
    body = declared.article.get("articleBody")
    if not isinstance(body, str):
        return []
    body = body[:_MAX_TEXT_CHARS]
    body = _TAG_STRIP_RE.sub(" ", body) if "<" in body else body  # some sites put HTML in it
    return [p for p in map(clean_text, body.split("\n")) if p]


def _within_budget(texts: Iterable[object]) -> Iterator[object]:
    """``texts`` until they add up to :data:`_MAX_TEXT_CHARS` characters (the last one cut)."""
    left = _MAX_TEXT_CHARS
    for text in texts:
        if isinstance(text, str):
            if left <= 0:
                return
            text = text[:left]
            left -= len(text)
        yield text


def _check_against(lines: list[str], reference: list[str]) -> list[str]:
    """``lines`` checked against the article text the page declares (``reference``).

    When the reference agrees with most of the lines, the short lines it does not
    contain are page furniture and dropped; when the lines miss most of a much
    longer reference, the reference is the body, after the long lines it lacks.
    """
    tokens = tokens_of(" ".join(reference).lower())
    if len(tokens) < _MIN_WORDS:
        return lines
    grams = set(zip(tokens, tokens[1:], tokens[2:]))
    scored = []
    for line in lines:
        own = tokens_of(line.lower())
        own = list(zip(own, own[1:], own[2:]))
        scored.append((line, len(own), sum(g in grams for g in own)))
    total = sum(n for _, n, _ in scored)
    shared = sum(s for _, _, s in scored)
    if total and shared >= 0.8 * total:
        # A long paragraph missing from it is likelier an articleBody that skips the lede.
        return [line for line, n, s in scored if n < 3 or s >= 0.2 * n or n > _SHORT_LINE]
    if shared < 0.5 * len(grams) and len(tokens) > 1.5 * total:
        logger.debug("using the JSON-LD text: extracted lines cover %d of %d", shared, len(grams))
        return [line for line, n, s in scored if n > _SHORT_LINE and s < 0.2 * n] + reference
    return lines


def _with_standfirst(tree: HtmlElement, lines: list[str], summaries: tuple) -> list[str]:
    """``lines`` after the standfirst: the page's description when the page shows it."""
    text = text_key(" ".join(lines))
    tried: set[str] = set()
    for summary in map(clean_text, summaries):
        if not summary or summary in tried or count_words(summary) < 5 or text_key(summary)[:80] in text:
            continue
        tried.add(summary)  # the meta description and og:description are often the same text
        # The first few places only: a page may repeat the start of its description at will.
        for node in _XPATH_TEXT_START(tree, start=summary[:30])[:_MAX_STANDFIRST_PLACES]:
            element = node.getparent()
            for _ in range(3):  # the text may start in an <em> or <a> of the paragraph
                # Longer than the summary (and any blanks around it): so is every parent.
                shown = None if element is None else raw_text_within(element, len(summary) + _RAW_SLACK)
                if shown is None:
                    break
                if text_key(shown) == text_key(summary):
                    return [summary, *lines]
                element = element.getparent()
    return lines


def _looks_like_article(lines: list[str], words: int, link_chars: int) -> bool:
    """The verdict for pages without article metadata: enough words, and prose
    (:func:`crawler.article.listing.has_prose`) or few links."""
    if words < _MIN_WORDS:
        return False
    return has_prose(lines) or link_chars <= 3 * sum(len(line) for line in lines)
