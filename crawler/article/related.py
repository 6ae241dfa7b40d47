""""More <Section>" blocks: the same-site teasers a news page lists under its body.

A block starts at a short heading whose whole text reads "More" and a section
name ("More Biz", "More Tech News") and runs over the link-holding elements that
follow it, or is the container that holds nothing but the heading and those
elements. Sister-site blocks ("More From Our Brands", "More from The Nation")
are found the same way; :func:`strip_related_blocks` removes both kinds so that
their text never reaches an article body, while :func:`find_related` and
:func:`related_section` only look at the section blocks. Each of the three finds
the blocks itself, or is given :func:`find_blocks`' answer, so that a caller
calling several reads the page once.

All functions take an ``lxml.html`` element (a document or a fragment), never
raise on odd markup, and only :func:`strip_related_blocks` modifies the tree.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin

from lxml import etree

from crawler.article.bounded import count_elements
from crawler.article.text import fold_spaces
from crawler.base.urls import same_site

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from lxml.html import HtmlElement

__all__ = ["Block", "find_blocks", "find_related", "related_section", "strip_related_blocks"]

logger = logging.getLogger(__name__)

_HEADING_TAGS = frozenset({"h2", "h3", "h4", "h5", "div", "span", "p"})
_HEADLINE_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Descendants that make an element a wrapper rather than a title or teaser.
_LEAF_BREAKERS = _HEADLINE_TAGS | {"a", "p", "div", "ul", "ol", "li", "section", "article"}
# Wrappers a block may never grow into: they hold the whole page, not a block.
_PAGE_TAGS = frozenset({"html", "body", "main", "article"})
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "title", "head"})
_MAX_HEADING_CHARS = 48
_MAX_SECTION_WORDS = 4
_MAX_CLIMB = 4
_MAX_HEADLINE_CHARS = 300
_MAX_TEASER_CHARS = 5000
# How much of a page the scan reads (the bounds that keep it linear): the first
# _MAX_HEADINGS headings among the first _MAX_CANDIDATES text nodes that may open
# one; a heading of at most _MAX_HEADING_ELEMENTS elements; a block of at most
# _MAX_BLOCK_SIBLINGS siblings holding _MAX_BLOCK_ELEMENTS elements, and its first
# _MAX_BLOCK_LINKS links. Real blocks hold a few dozen links in a few hundred elements.
_MAX_HEADINGS = 50
_MAX_CANDIDATES = 2000
_MAX_HEADING_ELEMENTS = 64
_MAX_BLOCK_SIBLINGS = 100
_MAX_BLOCK_ELEMENTS = 2000
_MAX_BLOCK_LINKS = 100
# Blanks a text may hold beyond its length limit before it is taken for a long one.
_RAW_SLACK = 4096
_NON_SPACE_RE = re.compile(r"[^\s\u200b\ufeff]")

_TEASER_CLASS_RE = re.compile(r"excerpt|summary|teaser|dek|description|standfirst", re.I)
_TITLE_CLASS_RE = re.compile(r"title|headline", re.I)
# "More" and a section name of letters (digits, "&", "'", "." and "-" inside),
# with an optional trailing arrow or colon as some sites print.
_SECTION_RE = re.compile(
    r"^more\s+(?P<section>[^\W\d_][\w&'\u2019.\- ]*?)\s*[:>|\u00bb\u203a\u2192]*$", re.I
)
# Sister-site blocks: other brands of the same publisher, or any "More from X".
_BRAND_RE = re.compile(
    r"^(?:more\s+from\b.*|(?:more\s+)?from\s+our\s+(?:brands|partners|network|sites)"
    r"|our\s+(?:brands|network|sites))\s*[:>|\u00bb\u203a\u2192]*$",
    re.I,
)
# First words that make "More ..." a phrase, not a section ("More from ...",
# "More on this story") or a generic widget ("More stories", "More videos").
_NOT_SECTIONS = frozenset(
    """from on about like to than of by for with at in this that these those the a an
    our your my his her their its stories story news articles article headlines content
    videos video photos photo galleries details info information options results comments
    replies reading""".split()
)
# The start of a text node that may open a heading.
_START_RE = re.compile(r"\s*(?:more|from\s+our|our)\b", re.I)
# A cheap first pass over the text nodes (in C): those whose first four
# characters after blanks are "more", "from" or "our ". It reads only the first
# characters of each node, as script texts are often megabytes of JSON.
_XPATH_STARTS = etree.XPath(
    ".//text()[not(parent::script or parent::style)]"
    "[string-length(substring(normalize-space(substring(., 1, 120)), 4)) > 0]"
    "[contains('|more|from|our |', substring(translate("
    "normalize-space(substring(., 1, 120)), 'MOREFU', 'morefu'), 1, 4))]"
)


@dataclass(frozen=True)
class Block:
    """One block: the element holding its heading (and what sits beside it in
    its wrapper, "See all" links: not teasers), its kind ("section" or
    "brand"), the section name (``""`` for a brand block), and the elements it
    is made of, page order."""

    heading: HtmlElement
    kind: str
    section: str
    members: list[HtmlElement]


def find_blocks(tree: HtmlElement) -> list[Block]:
    """Every "More <Section>" and sister-site block of ``tree``, page order.

    A brand heading with no links after it (filled in by a script) is a block
    of itself. ``tree`` is not modified; the answer holds as long as it is not.
    """
    return list(_blocks(tree))


def find_related(tree: HtmlElement, url: str, blocks: Sequence[Block] | None = None) -> list[dict]:
    """The articles linked from the "More <Section>" blocks of ``tree``.

    Returns one dict per distinct linked article, in page order:
    ``{"url", "title", "teaser", "section"}``. ``url`` is absolute (resolved
    against ``url``, fragment dropped); ``title`` is the longest headline-like
    text of the link's teaser item (a heading beats a truncated link text);
    ``teaser`` is the item's teaser paragraph as printed (a trailing "[...]"
    kept) or ``""``; ``section`` is the name from the block's heading. Links
    off the site of ``url`` (:func:`crawler.base.urls.same_site`), the heading's
    own links and links back to ``url`` are skipped; a block's links past its
    first :data:`_MAX_BLOCK_LINKS` are not read. ``tree`` is not modified.
    ``blocks``: :func:`find_blocks` of ``tree``, when the caller has it.
    """
    page = urldefrag(url)[0]
    found: dict[str, dict] = {}
    targets: dict[str | None, str | None] = {}

    def target_of(href: str | None) -> str | None:
        if href not in targets:
            targets[href] = _absolute(href, url)
        return targets[href]

    for block in _sections(tree, blocks):
        heading, section, members = block.heading, block.section, block.members
        texts: dict[HtmlElement, tuple[str, str]] = {}
        for link in itertools.islice(_block_links(members, heading), _MAX_BLOCK_LINKS):
            target = target_of(link.get("href"))
            if target is None or target == page or not same_site(target, url):
                continue
            item = _teaser_item(link, members, target_of)
            if item not in texts:
                texts[item] = _title_and_teaser(item, heading)
            title, teaser = texts[item]
            entry = found.get(target)
            if entry is None:
                found[target] = {"url": target, "title": title, "teaser": teaser, "section": section}
                continue
            # The same article linked twice (picture and headline): keep the fullest texts.
            if len(title) > len(entry["title"]):
                entry["title"] = title
            if not entry["teaser"]:
                entry["teaser"] = teaser
    return list(found.values())


def strip_related_blocks(tree: HtmlElement, blocks: Sequence[Block] | None = None) -> int:
    """Remove the "More <Section>" and sister-site blocks from ``tree`` in place.

    A heading whose block holds no links is removed alone. Returns the number
    of blocks removed (0 when there are none). ``blocks``: :func:`find_blocks`
    of ``tree`` as it is now, when the caller has it.
    """
    root = _root(tree)
    removed = 0
    for block in find_blocks(tree) if blocks is None else blocks:
        attached = [el for el in block.members if _root(el) is root and el is not root]
        for element in attached:
            element.drop_tree()
        if attached:
            removed += 1
    if removed:
        logger.debug("removed %d related/brand blocks", removed)
    return removed


def related_section(tree: HtmlElement, blocks: Sequence[Block] | None = None) -> str | None:
    """The section name of the first "More <Section>" block, or ``None``.
    ``blocks``: :func:`find_blocks` of ``tree``, when the caller has it."""
    for block in _sections(tree, blocks):
        return block.section
    return None


def _sections(tree: HtmlElement, blocks: Sequence[Block] | None) -> Iterator[Block]:
    """The section blocks among ``blocks`` (found in ``tree`` when None)."""
    return (block for block in (_blocks(tree) if blocks is None else blocks) if block.kind == "section")


# --- Headings and blocks --------------------------------------------------------
#
# Each step reads a bounded part of the page, so that the whole scan is linear in
# the page: a heading is a few elements, a block a few thousand, a page has a few
# dozen headings. Elements are compared by identity (lxml keeps one proxy per
# node while it is referenced), in sets, never by scanning lists.


def _text(element: HtmlElement) -> str:
    """The element's text, whitespace folded, a space between its descendants' texts."""
    if not isinstance(element.tag, str):
        return ""  # a comment or processing instruction
    return fold_spaces(" ".join(element.itertext()))


def _short_text(element: HtmlElement, limit: int,
                max_elements: int = _MAX_HEADING_ELEMENTS) -> str | None:
    """:func:`_text` of ``element`` when it is at most ``limit`` characters, else None.

    Reads at most ``max_elements`` elements and about ``limit`` characters of
    raw text (plus :data:`_RAW_SLACK` of blanks) before giving up.
    """
    if not isinstance(element.tag, str):
        return ""
    raw = 0
    for count, node in enumerate(element.iter()):
        if count >= max_elements:
            return None
        raw += len(node.text or "") + (len(node.tail or "") if node is not element else 0)
        if raw > limit + _RAW_SLACK:
            return None
    text = _text(element)
    return text if len(text) <= limit else None


def _has_text(element: HtmlElement) -> bool:
    """Whether :func:`_text` of ``element`` is not empty (stops at the first character)."""
    return any(_NON_SPACE_RE.search(text) for text in element.itertext())


def _bounded(elements: Iterator[HtmlElement]) -> Iterator[HtmlElement | None]:
    """``elements`` (siblings) while they are few and small enough for a block, then one None.

    None comes after :data:`_MAX_BLOCK_SIBLINGS` of them, or once their
    subtrees hold more than :data:`_MAX_BLOCK_ELEMENTS` elements together.
    """
    left = _MAX_BLOCK_ELEMENTS
    for count, element in enumerate(elements):
        if count >= _MAX_BLOCK_SIBLINGS:
            yield None
            return
        left -= count_elements(element, left)
        if left < 0:
            yield None
            return
        yield element


def _classify(text: str) -> tuple[str, str] | None:
    """("section", name) or ("brand", "") for a heading text, else None."""
    if len(text) > _MAX_HEADING_CHARS:
        return None
    if _BRAND_RE.match(text):
        return ("brand", "")
    match = _SECTION_RE.match(text)
    if match is None:
        return None
    section = match.group("section").strip(" .-")
    words = section.split()
    if not words or len(words) > _MAX_SECTION_WORDS or words[0].lower() in _NOT_SECTIONS:
        return None
    return ("section", section)


def _headings(tree: HtmlElement) -> list[tuple[HtmlElement, str, str]]:
    """(element, kind, section) of every block heading, innermost element, page order.

    Only the first :data:`_MAX_HEADINGS` headings, found among the first
    :data:`_MAX_CANDIDATES` text nodes that may open one, are read.
    """
    found: dict[HtmlElement, tuple[str, str]] = {}
    for count, node in enumerate(_XPATH_STARTS(tree)):
        if count >= _MAX_CANDIDATES or len(found) >= _MAX_HEADINGS:
            break
        if _START_RE.match(node) and len(node.strip()) <= _MAX_HEADING_CHARS:
            _match_heading(node.getparent(), found)
    # A wrapper whose text is the heading's matches too: keep the innermost one.
    outer = {ancestor for element in found for ancestor in element.iterancestors() if ancestor in found}
    return [(el, *kind) for el, kind in found.items() if el not in outer]


def _match_heading(element: HtmlElement | None, found: dict) -> None:
    """Record the innermost heading-tag element around a text node that reads as a heading."""
    for _ in range(3):
        if element is None or element.tag in _SKIP_TAGS or element.tag in _PAGE_TAGS:
            return
        if element.tag in _HEADING_TAGS:
            text = _short_text(element, _MAX_HEADING_CHARS)
            if text is None:
                return
            kind = _classify(text)
            if kind is not None:
                found.setdefault(element, kind)
                return
        element = element.getparent()


def _blocks(tree: HtmlElement) -> Iterator[Block]:
    """Each block of ``tree``, page order (see :func:`find_blocks`)."""
    headings = _headings(tree)
    # The headings and every element holding one: where a block's run of links ends.
    holders = {h for h, _, _ in headings}
    holders.update(ancestor for h, _, _ in headings for ancestor in h.iterancestors())
    for heading, kind, section in headings:
        found = _block_members(heading, holders)
        if found is None:
            if kind != "brand":
                continue
            found = (heading, [heading])  # links filled in by a script: drop the heading text
        yield Block(found[0], kind, section, found[1])


def _block_members(heading: HtmlElement, holders: set) -> tuple[HtmlElement, list] | None:
    """(heading wrapper, elements making up the block), or None when no links follow."""
    node = heading
    fallback = None
    for _ in range(_MAX_CLIMB):
        siblings = _link_siblings(node, holders)
        hrefs = {a.get("href") for el in siblings for a in el.iter("a") if a.get("href")}
        if hrefs:
            members = [node, *siblings]
            parent = node.getparent()
            if parent is not None and parent.tag not in _PAGE_TAGS and _covers(parent, node, siblings):
                members = [parent]
            if len(hrefs) > 1:
                return node, members
            # A lone "See all" link next to the heading: look one level up first.
            fallback = fallback or (node, members)
        parent = node.getparent()
        if (parent is None or parent.tag in _PAGE_TAGS or not _starts_with(parent, node)
                or count_elements(parent, _MAX_BLOCK_ELEMENTS) > _MAX_BLOCK_ELEMENTS):
            break  # a wrapper of thousands of elements is the page, not a heading's
        node = parent
    return fallback


def _link_siblings(node: HtmlElement, holders: set) -> list:
    """Following siblings of ``node`` that hold links, up to the first that does not
    (or that holds a heading, or past the size of a block)."""
    run = []
    for sibling in _bounded(node.itersiblings()):
        if sibling is None:
            break
        if not isinstance(sibling.tag, str) or sibling.tag in _SKIP_TAGS:
            continue
        if sibling.tag in _HEADLINE_TAGS and sibling.find(".//a") is None:
            break
        if sibling in holders:
            break
        if sibling.find(".//a[@href]") is None and sibling.get("href") is None:
            if _has_text(sibling):
                break
            continue  # an empty spacer or ad slot
        run.append(sibling)
    return run


def _covers(parent: HtmlElement, node: HtmlElement, siblings: list) -> bool:
    """True when ``parent`` holds nothing but ``node`` and ``siblings``."""
    if not _starts_with(parent, node):
        return False
    last = siblings[-1] if siblings else node
    if (last.tail or "").strip():
        return False
    for el in _bounded(last.itersiblings()):
        if el is None:
            return False
        if isinstance(el.tag, str) and (_has_text(el) or el.find(".//a") is not None):
            return False
    return True


def _starts_with(parent: HtmlElement, node: HtmlElement) -> bool:
    if (parent.text or "").strip():
        return False
    for child in _bounded(node.itersiblings(preceding=True)):
        if child is None:
            return False
        if isinstance(child.tag, str) and (_has_text(child) or child.find(".//a") is not None):
            return False
    return True


def _contains(ancestor: HtmlElement, element: HtmlElement) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _root(element: HtmlElement) -> HtmlElement:
    while (parent := element.getparent()) is not None:
        element = parent
    return element


# --- Links and teaser items -----------------------------------------------------


def _block_links(members: list, heading: HtmlElement) -> Iterator[HtmlElement]:
    """The links of ``members`` with an href, but the heading's own."""
    own = set(heading.iter("a"))
    for member in members:
        for link in member.iter("a"):
            if link.get("href") and link not in own:
                yield link


def _absolute(href: str | None, base: str) -> str | None:
    href = (href or "").strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        target = urldefrag(urljoin(base, href))[0]
    except ValueError:
        return None
    return target if target.startswith(("http://", "https://")) else None


def _teaser_item(link: HtmlElement, members: list,
                 target_of: Callable[[str | None], str | None]) -> HtmlElement:
    """The largest element around ``link`` that links to nothing else (its teaser card)."""
    target = target_of(link.get("href"))
    tops = set(members)
    item = link
    for parent in link.iterancestors():
        targets = {target_of(a.get("href")) for a in parent.iter("a") if a.get("href")}
        if targets - {target, None}:
            break
        item = parent
        if parent in tops:
            break
    return item


def _title_and_teaser(item: HtmlElement, heading: HtmlElement) -> tuple[str, str]:
    """The longest headline-like text and the longest teaser text of a teaser item.

    One pass over the item (at most a block's size): which elements hold a
    wrapper (not leaves) and which sit in a headline are worked out once, not
    per element.
    """
    elements = [el for el in item.iter() if isinstance(el.tag, str)]
    inside_heading = set(heading.iter()) if item is heading or _contains(item, heading) else set()
    # Elements with a wrapper-making descendant: children come after their parents in
    # ``elements``, so reading it backwards settles each child before its parent.
    wrappers = set()
    for element in reversed(elements):
        if element is not item and (element in wrappers or element.tag in _LEAF_BREAKERS):
            wrappers.add(element.getparent())
    # Elements inside a headline, the item's own ancestors included.
    in_headline = set()
    if any(a.tag in _HEADLINE_TAGS for a in item.iterancestors()):
        in_headline.add(item)
    for element in elements:
        if element is not item:
            parent = element.getparent()
            if parent in in_headline or parent.tag in _HEADLINE_TAGS:
                in_headline.add(element)
    headlines = []
    teasers = []
    for element in elements:
        if element in inside_heading:
            continue
        tag = element.tag
        css = element.get("class") or ""
        # A class only names a title or teaser on a leaf: a card's wrapper holds both,
        # as does a link around the whole card. All links of the item go to ``link``'s target.
        leaf = element not in wrappers
        if tag in _HEADLINE_TAGS or (leaf and (tag == "a" or _TITLE_CLASS_RE.search(css))):
            headline = _short_text(element, _MAX_HEADLINE_CHARS, _MAX_BLOCK_ELEMENTS)
            if headline:
                headlines.append(headline)
        elif (tag == "p" or (leaf and _TEASER_CLASS_RE.search(css))) and element not in in_headline:
            teasers.append(_short_text(element, _MAX_TEASER_CHARS, _MAX_BLOCK_ELEMENTS) or "")
    title = max(headlines, key=len, default="")
    teasers = [t for t in teasers if t and t != title and t not in headlines]
    return title, max(teasers, key=len, default="")
