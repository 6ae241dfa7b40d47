"""Page furniture inside an article's container, told by its structure, never by its words.

Publishers put boxes into the article's own container that extractors take for
text: a newsletter sign-up (a short block around a form with an e-mail field),
a share bar (a short list of links to other sites: the social networks). Each
is recognised by what it is made of, in any language, and cut from the tree
before the body is extracted (:func:`strip_furniture`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin

from lxml import etree

from crawler.base.urls import same_site

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["SiteLinks", "strip_furniture"]

# A sign-up box is short: its text (heading, a sentence, the button) stays under this.
_BOX_CHARS = 400
# Containers a box never grows into: the article itself.
_NEVER = frozenset({"article", "main", "body", "html"})
_XPATH_EMAIL_FORMS = etree.XPath(
    "//form[.//input[@type='email' or contains(translate(@name, 'EMAIL', 'email'), 'email')]]")
# A share bar: at least this many links, all to other hosts, each of at most this many characters of text.
_SHARE_LINKS, _SHARE_TEXT = 3, 12
# One path, not a union: libxml2 merges a union's node sets pairwise.
_XPATH_LINK_LISTS = etree.XPath("//*[self::ul[count(li) >= 3] or self::div[count(a) >= 3][not(.//p)]]")


class SiteLinks:
    """Which links of the page at ``url`` go to its own site (:func:`crawler.base.urls.same_site`),
    each other host judged once per page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._hosts: dict[str, bool] = {}

    def __contains__(self, href: str) -> bool:
        """Whether the link ``href`` (as written in the page) goes to the page's own site:
        a path does, ``mailto:``, ``javascript:`` and ``tel:`` links do not."""
        href = href.strip()
        if "://" not in href[:12] and not href.startswith("//"):
            return not href[:11].lower().startswith(("mailto:", "javascript:", "tel:"))
        netloc = href.split("/", 3)[2] if href.startswith("//") else href.split("://", 1)[1].split("/", 1)[0]
        known = self._hosts.get(netloc)
        if known is None:
            # An http(s) or scheme-relative link is absolute as written: urljoin is slow.
            if href.startswith("//"):
                absolute = "http:" + href
            elif href[:8].lower().startswith(("http://", "https://")):
                absolute = href
            else:
                absolute = urljoin(self.url, href)
            known = self._hosts[netloc] = same_site(absolute, self.url)
        return known


def strip_furniture(tree: HtmlElement, url: str) -> int:
    """Remove sign-up boxes and share bars from ``tree`` (in place); how many were removed.

    A sign-up box: a form with an e-mail field, grown to its largest ancestor
    whose text stays under :data:`_BOX_CHARS` characters (never an
    ``<article>``, ``<main>`` or the body). A share bar: a list (``<ul>`` of
    three items or more, or a ``<div>`` of three links or more and no paragraph)
    whose every link goes to another site than ``url``'s (or is a ``mailto:``) with a text of at most
    :data:`_SHARE_TEXT` characters (an icon, "Share", a network's name).
    """
    removed = []
    for form in _XPATH_EMAIL_FORMS(tree):
        box = form
        while (parent := box.getparent()) is not None and parent.tag not in _NEVER \
                and len(parent.text_content().strip()) < _BOX_CHARS:
            box = parent
        removed.append(box)
    site = SiteLinks(url)
    for element in _XPATH_LINK_LISTS(tree):
        if _is_share_bar(element, site):
            removed.append(element)
    count = 0
    for element in removed:
        parent = element.getparent()
        if parent is not None and not _detached(element):
            _drop(element)
            count += 1
    return count


def _is_share_bar(element: HtmlElement, site: SiteLinks) -> bool:
    links = element.findall(".//a")
    if len(links) < _SHARE_LINKS:
        return False
    for link in links:
        href = link.get("href") or ""
        if href.startswith("mailto:"):
            continue  # "send by e-mail": a share button too
        if not href or href in site:
            return False
        if len(link.text_content().strip()) > _SHARE_TEXT:
            return False
    # Nothing but the links: no prose around them.
    return len(element.text_content().strip()) <= _SHARE_TEXT * len(links) + 20


def _detached(element: HtmlElement) -> bool:
    """Whether an ancestor of ``element`` has already been removed from the document."""
    while (parent := element.getparent()) is not None:
        element = parent
    return element.tag != "html"


def _drop(element: HtmlElement) -> None:
    """Remove ``element`` but keep its tail text, which belongs to its parent."""
    parent = element.getparent()
    tail = element.tail
    if tail and tail.strip():
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
