"""The article/listing verdict: which pages are lists of other pages, not articles.

A listing is told by its address or by its shape, never by its words:

- its URL is a paginated or archive address (:func:`is_listing_url`):
  ``/page/5/``, ``?page=5``, ``/archive/``, ``/2024/05/``, ``/tag/x/``,
  ``/category/x/``, ``/author/x/`` ... with no article slug after it;
- its text is a run of teasers (:func:`is_teaser_run`): most of its lines are
  link texts, and no line is long enough to be a paragraph of an article.

Everything else with a body of prose is an article: a page where any extractor
finds prose is never dropped for lack of a paragraph count or of metadata.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from crawler.article.bodies import PROSE_WORDS
from crawler.article.text import count_words

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["has_prose", "is_listing_url", "is_teaser_run"]

# A body of prose: this many words in prose lines.
_PROSE_BODY_WORDS = 60
# A teaser is a sentence or two; a line past this many words is an article's paragraph.
_TEASER_MAX_WORDS = 60
# A run of teasers: at least this many link lines, and this share of all lines.
_MIN_TEASER_LINKS, _TEASER_LINK_SHARE = 5, 0.3

# Path segments that name a list of pages when nothing but a number, a name or a date follows them.
_LIST_SEGMENTS = r"(?:archive|archives|archiv|tag|tags|category|categories|author|authors)"
_LISTING_PATH_RE = re.compile(
    rf"""(?:
        (?:^|/)page/\d+                                      # /music/page/5, /category/music/page/5
      | (?:^|/){_LIST_SEGMENTS}(?:/[^/.]*[^\W\d_][^/.]*)?    # /tag/music, /archive, /author/jane-doe
      | ^(?:/[^/]+)?/(?:19|20)\d\d(?:/[01]?\d(?:/[0-3]?\d)?)?  # /2024/05/, /news/2024/05/17/: a date, no slug
    )/?$""",
    re.I | re.X,
)
_PAGE_QUERY_RE = re.compile(r"(?:^|&)(?:page|paged|p|pg|seite|pagina)=\d+(?:&|$)", re.I)


def is_listing_url(url: str) -> bool:
    """Whether ``url`` is the address of a paginated or archive listing.

    True for a path that ends in ``/page/<n>``, or in a listing segment (archive,
    tag, category, author, their plurals)
    with at most one name (not a number: an article's id) after it, or is a
    date without a slug after at most one section (``/2024/05/``),
    and for a page number in the query of a folder (``/news/?page=2``,
    ``/?paged=3``: an article's own pages, ``/story.html?page=2``, are no listing). An article's
    own slug after the date or the segment (``/archives/2025/12/16/story.html``)
    makes it no listing.
    """
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path and _LISTING_PATH_RE.search(path):
        return True
    # A page number on a folder (/news/?page=3); on a page (/story.html?page=2) it is the article's own.
    folder = not parts.path or parts.path.endswith("/")
    return bool(folder and parts.query and _PAGE_QUERY_RE.search(parts.query))


def has_prose(lines: Sequence[str]) -> bool:
    """Whether ``lines`` hold a body of prose: at least :data:`_PROSE_BODY_WORDS`
    words in lines of :data:`PROSE_WORDS` words or more, or one line that long."""
    return sum(n for n in map(count_words, lines) if n >= PROSE_WORDS) >= _PROSE_BODY_WORDS


def is_teaser_run(lines: Sequence[str], link_lines: int) -> bool:
    """Whether a body of ``lines`` from which ``link_lines`` link texts were
    dropped is a run of teasers: at least five link lines making 30% of all
    lines, and no line longer than a teaser (:data:`_TEASER_MAX_WORDS` words)."""
    if link_lines < _MIN_TEASER_LINKS or link_lines < _TEASER_LINK_SHARE * (len(lines) + link_lines):
        return False
    return all(count_words(line) <= _TEASER_MAX_WORDS for line in lines)
