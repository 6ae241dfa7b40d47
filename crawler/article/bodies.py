"""Body candidates from well-kept extractors, and the choice between them.

No one extractor is right on every page: trafilatura's balanced mode drops text
in containers it takes for page furniture (an ``<aside>``, a class with
"footer" or "comment" in it), readability-lxml keeps one block and misses text
split across several, a page's JSON-LD ``articleBody`` is often cut short.
:func:`choose` picks per page, with signals that need no ground truth: what the
candidates agree on, how much of each one is prose rather than short lines,
and how much of it is links.

:mod:`crawler.article.extract` asks for the alternatives only when its first candidate
(trafilatura, fast) looks doubtful, which keeps the common page at one
extraction.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import lxml.html
import trafilatura
from lxml.etree import ParserError
from readability import Document

from crawler.article.text import count_words, fold_spaces, tokens_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.html import HtmlElement

__all__ = ["Candidate", "choose", "html_lines", "readability_lines", "trafilatura_lines"]

logger = logging.getLogger(__name__)

#: A line of at least this many words (:func:`crawler.article.text.count_words`) is prose;
#: shorter ones are headings, captions, links.
PROSE_WORDS = 20
# Embedded social posts: quoted, not written by the article's author.
_EMBEDS_XPATH = [
    './/blockquote[contains(@class, "twitter-tweet") or contains(@class, "twitter-video")'
    ' or contains(@class, "instagram-media") or contains(@class, "tiktok-embed")]'
]
# Elements after which a new line starts when HTML is read as text.
_BLOCK_TAGS = frozenset(
    "p div li ul ol h1 h2 h3 h4 h5 h6 br blockquote pre table tr td th figure figcaption"
    " section article header footer dd dt".split()
)
# Text no other candidate has counts this much for a candidate in a prose line, against it in a short one.
_LONE_PROSE, _LONE_SHORT = 0.3, -0.5


@dataclass(frozen=True)
class Candidate:
    """One extractor's body for a page: its lines, and how many link lines were dropped from it."""

    name: str
    lines: list[str]
    link_lines: int = 0

    @cached_property
    def grams(self) -> dict[tuple[str, str, str], bool]:
        """Each token trigram of the body (:func:`crawler.article.text.tokens_of`,
        lowercased), with whether its line is prose."""
        grams: dict[tuple[str, str, str], bool] = {}
        for line in self.lines:
            tokens = tokens_of(line.lower())
            prose = count_words(line) >= PROSE_WORDS
            for gram in zip(tokens, tokens[1:], tokens[2:]):
                grams[gram] = grams.get(gram, False) or prose
        return grams


def trafilatura_lines(tree: HtmlElement, url: str, *, fast: bool = True,
                      favor_recall: bool = False) -> list[str]:
    """trafilatura's main text of ``tree``, one entry per paragraph, list item or heading.

    ``fast`` skips trafilatura's own fallback extractors; ``favor_recall`` is
    its mode that keeps more of the page. ``[]`` when it finds nothing or fails.
    """
    try:
        document = trafilatura.bare_extraction(
            tree, url=url, fast=fast, favor_recall=favor_recall, include_comments=False,
            include_tables=True,
            # No deduplication: normalization drops a page's repeated paragraphs
            # (crawler.article.text.drop_repeats), and trafilatura's own (a cache
            # of segments) costs a fiftieth of extraction's time; without it 3 of
            # 681 benchmark pages change, 2 for the better (body F1 up 0.0006 on the silver set).
            deduplicate=False, with_metadata=False, prune_xpath=_EMBEDS_XPATH,
        )
    except Exception:  # noqa: BLE001 - other candidates may still give a body
        logger.warning("trafilatura failed on %s", url, exc_info=True)
        return []
    text = getattr(document, "text", None) or ""
    return [line.strip() for line in text.split("\n") if line.strip()]


def readability_lines(tree: HtmlElement, url: str) -> list[str]:
    """readability-lxml's article of ``tree`` (left as it is), one entry per block.

    ``[]`` when it finds nothing or fails.
    """
    try:
        # readability drops hidden elements from the tree it is given: give it a copy.
        summary = Document(copy.deepcopy(tree)).summary(html_partial=True)
        return html_lines(lxml.html.fragment_fromstring(summary, create_parent="div"))
    except (ParserError, ValueError, TypeError, AssertionError) as error:
        # readability asserts one <body>, and puts the whole page in the message.
        logger.debug("readability found no article on %s: %.200s", url, error)
    except Exception:  # noqa: BLE001 - other candidates may still give a body
        logger.warning("readability failed on %s", url, exc_info=True)
    return []


def html_lines(root: HtmlElement) -> list[str]:
    """The text of ``root`` as lines, a new one after every block element; blank lines dropped."""
    for element in root.iter():
        if element.tag in _BLOCK_TAGS:
            element.tail = "\n" + (element.tail or "")
    lines = (fold_spaces(line) for line in root.text_content().splitlines())
    return [line for line in lines if line]


def choose(candidates: Sequence[Candidate]) -> Candidate:
    """The candidate with the best-supported body.

    Each candidate scores its token trigrams: one point for each that another
    candidate has too, and for each that no other has, a little in a prose
    line (text the others missed) and a penalty in a short one (a menu, a
    prompt, a teaser that one extractor let through). Link lines already
    dropped from a candidate count against it like unsupported short lines.
    Ties go to the earlier candidate; an empty list raises :class:`ValueError`.
    """
    if not candidates:
        raise ValueError("no candidates to choose from")
    scores = [_score(candidate, [other for other in candidates if other is not candidate])
              for candidate in candidates]
    best = max(range(len(candidates)), key=lambda i: (scores[i], -i))
    logger.debug("body candidates %s; chose %s",
                 ", ".join(f"{c.name}={s:.0f}" for c, s in zip(candidates, scores)), candidates[best].name)
    return candidates[best]


def _score(candidate: Candidate, others: Sequence[Candidate]) -> float:
    score = _LONE_SHORT * 3 * candidate.link_lines
    for gram, prose in candidate.grams.items():
        if any(gram in other.grams for other in others):
            score += 1
        else:
            score += _LONE_PROSE if prose else _LONE_SHORT
    return score
