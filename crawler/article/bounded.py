"""Reads of an lxml tree that stop early, so that no step of extraction reads a page more than once.

A hostile page nests elements, repeats a heading or a byline thousands of
times, or puts megabytes of text in one element. A step that takes the text
or the size of an element for each of many elements then reads the page over
and over (quadratic time). These helpers read at most about as much as their
caller's limit, whatever the element holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["count_elements", "raw_text_within"]


def count_elements(element: HtmlElement, limit: int) -> int:
    """The number of nodes in ``element``'s subtree, itself included, counted up to ``limit`` + 1."""
    count = 0
    for _ in element.iter():
        count += 1
        if count > limit:
            break
    return count


def raw_text_within(element: HtmlElement, limit: int) -> str | None:
    """``element.text_content()`` when it is at most ``limit`` characters long, else ``None``.

    Reads the text pieces one by one and stops at the first that goes past
    ``limit``: a long text costs no more than a short one.
    """
    pieces = []
    size = 0
    for piece in element.itertext():
        size += len(piece)
        if size > limit:
            return None
        pieces.append(piece)
    return "".join(pieces)
